"""How `tradedep sql` prints results: a readable table, exact CSV and JSON, the marts first on the search path."""

import functools
import io
import json
from decimal import Decimal

import duckdb
import pytest

from dagster_project import query_output

ROWS = [("Rail", 2015, 0.30164610609736464, 5784156023.0, Decimal("12.50"), 61304, None, "010221"),
        ("Côte d'Ivoire, \"q\"", 2016, 1.0, 999.5, Decimal("0.00"), 7, True, "8486")]
COLUMNS = ["sector", "year", "share", "usd", "price", "row_count", "flag", "hs6"]


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_example (sector VARCHAR, year INTEGER, share DOUBLE, usd DOUBLE, "
                    "price DECIMAL(18, 2), row_count BIGINT, flag BOOLEAN, hs6 VARCHAR)")
        con.executemany("INSERT INTO marts.fct_example VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
        query_output.marts_first(con)
        yield con


def output(con, query, fmt, limit=None) -> str:
    out = io.BytesIO()
    query_output.write_result(con, con.sql(query), fmt, limit, out)
    return out.getvalue().decode("utf-8")


def test_the_table_rounds_shares_separates_thousands_and_leaves_years_and_codes_alone(con):
    lines = output(con, "SELECT * FROM fct_example ORDER BY year", "table").splitlines()
    assert lines[0].split() == COLUMNS
    assert lines[2].split() == ["Rail", "2015", "0.3016", "5,784,156,023", "12.5", "61,304", "NULL", "010221"]
    assert lines[3].split()[-7:] == ["2016", "1", "999.5", "0", "7", "true", "8486"]
    assert lines[4] == "(2 rows; --format csv or json prints every value exactly)"


def test_the_table_says_when_rows_are_left_out_and_text_is_cut():
    rows = [("x" * 100, 1), ("short", 2), ("more", 3)]
    text = query_output.render_table(["note", "n"], rows[:2], more=True)
    assert "x" * (query_output.CELL_CHARS - 1) + "…" in text and "x" * query_output.CELL_CHARS not in text
    assert text.splitlines()[-1] == ("(first 2 rows shown: --all or --limit N shows more; text longer than "
                                     f"{query_output.CELL_CHARS} characters is cut; --format csv or json prints every value exactly)")


def test_limit_applies_to_every_format(con):
    assert "first 1 rows shown" in output(con, "SELECT * FROM fct_example", "table", limit=1)
    assert len(output(con, "SELECT * FROM fct_example", "csv", limit=1).splitlines()) == 2
    assert len(json.loads(output(con, "SELECT * FROM fct_example", "json", limit=1))) == 1


def test_csv_and_json_print_every_value_exactly(con):
    csv = output(con, "SELECT * FROM fct_example ORDER BY year", "csv")
    assert csv.splitlines()[:2] == ['"sector",year,share,usd,price,row_count,flag,"hs6"',
                                    '"Rail",2015,0.30164610609736464,5784156023.0,12.50,61304,,"010221"']
    records = json.loads(output(con, "SELECT * FROM fct_example ORDER BY year", "json"))
    assert records[0] == {"sector": "Rail", "year": 2015, "share": 0.30164610609736464, "usd": 5784156023.0,
                          "price": 12.5, "row_count": 61304, "flag": None, "hs6": "010221"}
    assert records[1]["sector"] == "Côte d'Ivoire, \"q\""


def test_the_marts_come_first_and_show_tables_lists_them(con):
    assert output(con, "SHOW TABLES", "csv").splitlines() == ['"name"', '"fct_example"']  # not the result itself
    descriptions = {("marts", "fct_example"): "An example mart.", ("raw", "gone"): "not in the warehouse"}
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE VIEW raw.t AS SELECT 1 AS x")
    listed = io.BytesIO()
    query_output.write_result(con, query_output.tables(con, descriptions), "csv", None, listed)
    assert listed.getvalue().decode().splitlines() == [
        '"schema","name","kind","description"', '"marts","fct_example","table","An example mart."', '"raw","t","view",']


def test_the_command_writes_to_a_file_and_names_what_it_cannot_read_or_write(tmp_path, capsys):
    from dagster_project import cli

    main = functools.partial(cli.main, env={"TRADEDEP_DATA_DIR": str(tmp_path)})
    assert main(["sql", "--file", str(tmp_path / "missing.sql")]) == cli.EXIT_USAGE
    assert "cannot read the query from" in capsys.readouterr().err
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")):
        pass
    assert main(["sql", "SELECT 42 AS answer", "--format", "csv", "--out", str(tmp_path / "a.csv")]) == cli.EXIT_OK
    assert (tmp_path / "a.csv").read_text() == "answer\n42\n" and capsys.readouterr().out == ""
    assert main(["sql", "SELECT 1", "--out", str(tmp_path / "no" / "a.csv")]) == cli.EXIT_FAILED
    assert f"cannot write {tmp_path / 'no' / 'a.csv'}" in capsys.readouterr().err

"""BI exports: every mart as Parquet and CSV, read back to the same rows, written atomically, with a dictionary."""

import codecs
import csv
import json

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dagster_project import exports
from dagster_project.warehouse import connect

# Inserted out of key order (hs6, id): the exports sort them.
MART_ROWS = [(2, "854231", "Côte d'Ivoire, \"quoted\"", None, False, 3.5), (1, "010221", "Rail", 0.25, True, None),
             (3, "010221", "8486", 1.0, False, 12.25)]


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with connect(path) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_example "
                    "(id INTEGER, hs6 VARCHAR, sector VARCHAR, share DOUBLE, flag BOOLEAN, usd DECIMAL(18, 2))")
        con.executemany("INSERT INTO marts.fct_example VALUES (?, ?, ?, ?, ?, ?)", MART_ROWS)
        con.execute("CREATE TABLE marts.dim_data_source AS SELECT 'baci' AS source, true AS is_synthetic")
    return path


def node(name, layer, columns):
    return {"name": name, "resource_type": "model", "fqn": ["tradedep", layer, name], "description": f"About {name}.",
            "columns": {column: {"name": column, "description": f"What {column} is.", "data_type": "x"} for column in columns}}


def key_test(model, name, kwargs):
    return {"resource_type": "test", "attached_node": f"model.tradedep.{model}", "test_metadata": {"name": name, "kwargs": kwargs}}


@pytest.fixture
def manifest(tmp_path):
    nodes = {
        "model.tradedep.fct_example": node("fct_example", "marts", ["id", "hs6", "sector", "share", "flag", "usd"]),
        "model.tradedep.dim_data_source": node("dim_data_source", "marts", ["source", "is_synthetic"]),
        "model.tradedep.stg_ignored": node("stg_ignored", "staging", ["id"]),
        "test.tradedep.unique_combination_fct_example": key_test("fct_example", "unique_combination",
                                                                 {"combination": ["hs6", "id"]}),
        "test.tradedep.unique_dim_data_source_source": key_test("dim_data_source", "unique", {"column_name": "source"}),
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def test_parquet_and_csv_read_back_to_the_mart_rows(warehouse, manifest, tmp_path):
    destination = tmp_path / "marts"
    written = exports.export_marts(warehouse, destination, manifest)
    assert [(mart.name, mart.rows) for mart in written] == [("dim_data_source", 1), ("fct_example", 3)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mart = con.sql("SELECT * FROM marts.fct_example ORDER BY id").pl()
        schema = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_name = 'fct_example'").fetchall())
    parquet = destination / "fct_example.parquet"
    assert_frame_equal(pl.read_parquet(parquet).sort("id"), mart)
    with duckdb.connect() as con:
        assert con.sql(f"SELECT * FROM '{parquet}' ORDER BY id").pl().equals(mart)
        csv = con.sql(f"SELECT * FROM read_csv('{destination / 'fct_example.csv'}', columns = ?) ORDER BY id",
                      params=[schema]).pl()
    assert_frame_equal(csv, mart)
    assert_frame_equal(pl.read_csv(destination / "fct_example.csv", schema_overrides=mart.schema).sort("id"), mart)
    assert not list(destination.glob(".*"))  # no temporary files left behind


def test_the_dictionary_comes_from_the_dbt_docs_and_says_synthetic(warehouse, manifest, tmp_path):
    exports.export_marts(warehouse, tmp_path / "marts", manifest, formats=("parquet",))
    document = json.loads((tmp_path / "marts" / "data_dictionary.json").read_text())
    assert document["synthetic"] is True and "SYNTHETIC SAMPLE" in document["note"]
    example = next(entry for entry in document["marts"] if entry["mart"] == "fct_example")
    assert example["files"] == ["fct_example.parquet"] and example["rows"] == 3 and example["key"] == ["hs6", "id"]
    assert {"name": "share", "data_type": "x", "description": "What share is."} in example["columns"]
    markdown = (tmp_path / "marts" / "data_dictionary.md").read_text()
    assert "SYNTHETIC SAMPLE" in markdown and "| `sector` | x | What sector is. |" in markdown
    assert "Key: `hs6`, `id`." in markdown
    assert "stg_ignored" not in markdown
    assert not (tmp_path / "marts" / "fct_example.csv").exists()


def test_a_failed_write_leaves_the_previous_file_whole(warehouse, manifest, tmp_path, monkeypatch):
    destination = tmp_path / "marts"
    exports.export_marts(warehouse, destination, manifest)
    before = (destination / "fct_example.parquet").read_bytes()
    monkeypatch.setitem(exports.COPY_OPTIONS, "parquet", "FORMAT parquet, COMPRESSION no_such_codec")
    with pytest.raises(duckdb.Error):
        exports.export_marts(warehouse, destination, manifest)
    assert (destination / "fct_example.parquet").read_bytes() == before
    assert not list(destination.glob(".*"))


def test_unknown_formats_and_missing_marts_are_named(warehouse, manifest, tmp_path):
    with pytest.raises(exports.ExportError, match="unknown export format xlsx"):
        exports.export_marts(warehouse, tmp_path / "marts", manifest, formats=("parquet", "xlsx"))
    with connect(warehouse) as con:
        con.execute("DROP TABLE marts.fct_example")
    with pytest.raises(exports.ExportError, match="marts missing from .*: fct_example"):
        exports.export_marts(warehouse, tmp_path / "marts", manifest)


def csv_rows(path, encoding="utf-8"):
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def test_csv_rows_are_sorted_by_the_dbt_key_and_text_is_quoted(warehouse, manifest, tmp_path):
    exports.export_marts(warehouse, tmp_path, manifest, formats=("csv", "parquet"))
    lines = (tmp_path / "fct_example.csv").read_text().splitlines()
    assert lines[0] == 'id,"hs6","sector",share,flag,usd'
    assert [line.split(",")[:2] for line in lines[1:]] == [["1", '"010221"'], ["3", '"010221"'], ["2", '"854231"']]
    assert pl.read_parquet(tmp_path / "fct_example.parquet")["id"].to_list() == [1, 3, 2]


def test_a_mart_without_a_declared_key_is_sorted_by_every_column(warehouse, manifest, tmp_path):
    document = json.loads(manifest.read_text())
    del document["nodes"]["test.tradedep.unique_combination_fct_example"]
    manifest.write_text(json.dumps(document))
    exports.export_marts(warehouse, tmp_path, manifest, formats=("csv",))
    assert [row[0] for row in csv_rows(tmp_path / "fct_example.csv")[1:]] == ["1", "2", "3"]
    assert "none declared" in (tmp_path / "data_dictionary.md").read_text()


def test_the_excel_export_keeps_leading_zeros_and_accents(warehouse, manifest, tmp_path):
    exports.export_marts(warehouse, tmp_path, manifest, formats=("csv",), excel=True)
    raw = (tmp_path / "fct_example.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) and raw.count(codecs.BOM_UTF8) == 1
    rows = csv_rows(tmp_path / "fct_example.csv", encoding="utf-8-sig")
    assert rows[0] == ["id", "hs6", "sector", "share", "flag", "usd"]
    # Excel evaluates ="010221" to the text 010221; text that is not all digits and numbers are left as they are.
    assert rows[1:] == [["1", '="010221"', "Rail", "0.25", "true", ""],
                        ["3", '="010221"', '="8486"', "1.0", "false", "12.25"],
                        ["2", '="854231"', "Côte d'Ivoire, \"quoted\"", "", "false", "3.50"]]
    assert '"=""010221"""' in raw.decode("utf-8-sig")  # the formula, quoted as CSV requires

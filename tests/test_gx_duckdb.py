"""The fixes GX's SQL execution needs on DuckDB (quality/gx_duckdb.py): needed, pinned, and suites fail on bad data."""

import subprocess
import sys

import duckdb
import pytest

from dagster_project.quality import gx_duckdb
from dagster_project.quality.gx_runner import gx_expectations as e
from dagster_project.quality.gx_runner import run_suite_sql, unique_key, values_match_glob

GX_WITHOUT_FIXES = """
import sys, logging
import great_expectations as gx
logging.getLogger("great_expectations").setLevel(logging.ERROR)
context = gx.get_context(mode="ephemeral")
source = context.data_sources.add_sql("s", connection_string=f"duckdb:///{sys.argv[1]}")
batch = source.add_query_asset("q", query="SELECT * FROM t").add_batch_definition_whole_table("all").get_batch()
result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="k"))
print("passed" if result.success else "failed")
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "t.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS n, 'k' || (range % 7) AS k FROM range(100)")
    return path


def test_without_the_fixes_an_expectation_on_good_data_fails(table):
    """Why the fixes exist: GX as installed fails a not-null expectation on a column without a null."""
    result = subprocess.run([sys.executable, "-c", GX_WITHOUT_FIXES, str(table)], capture_output=True, text=True,
                            timeout=300)
    assert result.stdout.strip().splitlines()[-1] == "failed", result.stderr[-2000:]


@pytest.mark.parametrize("materialise", [False, True], ids=["query", "temporary table"])
def test_with_them_good_data_passes_and_bad_data_fails_naming_the_rows(table, materialise):
    expectations = [e.ExpectColumnValuesToNotBeNull(column="k"), e.ExpectColumnValuesToMatchRegex(column="k", regex=r"^k\d$"),
                    e.ExpectColumnValuesToNotMatchRegex(column="k", regex="x"), unique_key(["n", "k"]),
                    e.ExpectColumnValuesToBeBetween(column="n", min_value=0), values_match_glob("k", "k[0-9]"),
                    e.ExpectTableRowCountToBeBetween(min_value=1)]
    good = run_suite_sql("t", table, "SELECT * FROM t", expectations, materialise=materialise)
    assert good.success and good.row_count == 100, good.summary()
    # Validated without GX's details (BOOLEAN_ONLY): expectations on rows say none was unexpected all the same.
    assert [outcome.unexpected_count for outcome in good.outcomes] == [0, 0, 0, 0, 0, 0, None]
    with duckdb.connect(str(table)) as con:
        con.execute("INSERT INTO t VALUES (-1, 'kx'), (5, 'k5'), (7, NULL), (7, NULL)")
    bad = run_suite_sql("t", table, "SELECT * FROM t", expectations, materialise=materialise)
    failed = {failure.expectation: failure for failure in bad.failures}
    assert set(failed) == {"expect_column_values_to_not_be_null", "expect_column_values_to_match_regex",
                           "expect_column_values_to_not_match_regex", "expect_compound_columns_to_be_unique",
                           "expect_column_values_to_be_between", "expect_column_values_to_match_glob"}, bad.summary()
    assert failed["expect_column_values_to_match_regex"].rows == [{"n": -1, "k": "kx"}]
    assert failed["expect_column_values_to_match_glob"].rows == [{"n": -1, "k": "kx"}]
    assert failed["expect_column_values_to_match_glob"].checked == "matches GLOB k[0-9]"
    assert failed["expect_column_values_to_match_regex"].sample == ["kx"]
    assert failed["expect_column_values_to_be_between"].rows == [{"n": -1, "k": "kx"}]
    assert failed["expect_column_values_to_not_be_null"].unexpected_count == 2
    # Duplicated keys, a NULL in the key counting as equal: (5, k5) and (7, NULL).
    assert sorted(failed["expect_compound_columns_to_be_unique"].rows, key=str) == [
        {"n": 5, "k": "k5", "copies": 2}, {"n": 7, "k": None, "copies": 2}]


@pytest.fixture
def queries_sent():
    """Every statement GX and the runner send through SQLAlchemy while the test runs."""
    import sqlalchemy as sa

    sent = []

    def record(conn, cursor, statement, *args):
        sent.append(" ".join(statement.split()))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def test_a_passing_suite_runs_each_query_once_and_asks_for_no_samples(table, queries_sent):
    """What keeps the suites cheap at real scale (docs/performance.md): on good data, a key's uniqueness is
    computed once (GX's own SQL expectation computes it twice), no sample of unexpected values or rows is asked
    for (each a scan of every row), and a materialised query is run once."""
    expectations = [unique_key(["n", "k"]), e.ExpectColumnValuesToMatchRegex(column="k", regex=r"^k\d$"),
                    e.ExpectColumnValuesToBeBetween(column="n", min_value=0)]
    assert run_suite_sql("t", table, "SELECT * FROM t", expectations).success
    assert len([sql for sql in queries_sent if "GROUP BY n, k" in sql]) == 1, queries_sent
    assert not [sql for sql in queries_sent if "LIMIT" in sql], queries_sent
    queries_sent.clear()
    summed = "SELECT k, count(*) AS rows_of_k FROM t GROUP BY k"
    assert run_suite_sql("t", table, summed, [unique_key(["k"]), e.ExpectColumnValuesToBeBetween(
        column="rows_of_k", min_value=14)], materialise=True).success
    assert len([sql for sql in queries_sent if summed in sql]) == 1, queries_sent


def test_an_expectation_that_errors_fails_the_suite(table):
    outcome = run_suite_sql("t", table, "SELECT * FROM t", [e.ExpectColumnValuesToNotBeNull(column="no_such_column")])
    assert not outcome.success and outcome.failures[0].error


def test_the_fixes_apply_only_to_the_version_they_were_written_for(monkeypatch):
    monkeypatch.setattr(gx_duckdb, "_applied", False)
    monkeypatch.setattr(gx_duckdb, "version", lambda package: "1.99.0")
    with pytest.raises(gx_duckdb.GxVersionError, match="1.99.0"):
        gx_duckdb.apply()

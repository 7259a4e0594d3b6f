"""Content fingerprints, and checks that pass again without validating only when nothing they read changed."""

import dataclasses
from pathlib import Path

import duckdb
import pytest

from dagster_project import dbt_docs, fingerprints
from dagster_project.quality.checks import evaluate
from dagster_project.quality.gx_runner import gx_expectations
from dagster_project.quality.raw_suites import TableSuite, _whole
from dagster_project.warehouse import connect


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE flows (k VARCHAR, v DOUBLE)")
        connection.execute("INSERT INTO flows VALUES ('010121', 1.5), ('020110', 2.0), ('030111', 0.25)")
        yield connection


def fingerprint(con, table="flows"):
    return fingerprints.query_fingerprint(con, f"SELECT * FROM {table}")


def test_the_fingerprint_is_the_rows_not_their_order_or_how_they_were_written(con):
    before = fingerprint(con)
    con.execute("CREATE TABLE rewritten AS SELECT * FROM flows ORDER BY v DESC")
    assert fingerprint(con, "rewritten") == before
    con.execute("DROP TABLE flows; CREATE TABLE flows AS SELECT * FROM rewritten ORDER BY k")
    assert fingerprint(con) == before
    assert before.startswith("3:")


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE flows SET v = 1.5000001 WHERE k = '010121'",
        "UPDATE flows SET k = '010122' WHERE k = '010121'",
        "INSERT INTO flows VALUES ('010121', 1.5)",  # a duplicated row
        "DELETE FROM flows WHERE k = '030111'",
        "ALTER TABLE flows ALTER v TYPE DECIMAL(10, 2)",
        "ALTER TABLE flows RENAME v TO value",
    ],
)
def test_any_change_to_a_value_row_or_column_changes_the_fingerprint(con, change):
    before = fingerprint(con)
    con.execute(change)
    assert fingerprint(con) != before


def test_relations_are_fingerprinted_by_content_definition_or_absence(con):
    con.execute("CREATE VIEW big AS SELECT * FROM flows WHERE v > 1")
    assert fingerprints.relation_fingerprint(con, "main", "flows") == fingerprint(con)
    assert fingerprints.relation_fingerprint(con, "main", "big").startswith("view:CREATE VIEW big")
    assert fingerprints.relation_fingerprint(con, "main", "gone") == "missing"


def test_a_step_records_forgets_and_replaces_its_fingerprint(con):
    assert fingerprints.recorded(con, "dbt_build") is None
    fingerprints.record(con, "dbt_build", "abc", {"run_id": "r1"})
    fingerprints.record(con, "dbt_build", "def", {"run_id": "r2"})
    fingerprint_now, detail = fingerprints.recorded(con, "dbt_build")
    assert (fingerprint_now, detail["run_id"]) == ("def", "r2") and detail["recorded_at"].endswith("Z")
    fingerprints.forget(con, "dbt_build")
    assert fingerprints.recorded(con, "dbt_build") is None


def test_combined_fingerprints_depend_on_every_part_and_the_library_versions():
    assert fingerprints.combine("a", [1, 2]) == fingerprints.combine("a", [1, 2])
    assert fingerprints.combine("a", [1, 2]) != fingerprints.combine("a", [2, 1])
    assert set(fingerprints.package_versions()) == set(fingerprints.VERSIONED_PACKAGES)


SUITE = TableSuite(
    "tiny_flows", "raw.flows", "baci", _whole("raw.flows"),
    lambda settings, con: [gx_expectations.ExpectColumnValuesToBeBetween(column="v", min_value=0)],
)


@pytest.fixture
def warehouse(settings):
    with connect(settings.warehouse_path) as con:
        con.execute("CREATE SCHEMA raw; CREATE TABLE raw.flows AS SELECT * FROM (VALUES ('010121', 1.5), ('020110', 2.0)) t(k, v)")
    return settings


def change(settings, sql):
    with connect(settings.warehouse_path) as con:
        con.execute(sql)


def validated_again(result):
    entry = result.metadata.get("validated_again")
    return True if entry is None else entry.value


def test_a_passed_check_is_not_validated_again_on_the_same_data(warehouse):
    first = evaluate(warehouse, SUITE, "run-1")
    assert first.passed and validated_again(first)
    second = evaluate(warehouse, SUITE, "run-2")
    assert second.passed and not validated_again(second)
    assert "unchanged since it passed in run run-1" in second.description
    assert second.metadata["rows_validated"].value == 2 and second.metadata["passed_in_run"].value == "run-1"


def test_changed_data_is_validated_again_and_a_failure_is_never_reused(warehouse):
    evaluate(warehouse, SUITE, "run-1")
    change(warehouse, "UPDATE raw.flows SET v = 3.0 WHERE k = '010121'")
    assert validated_again(evaluate(warehouse, SUITE, "run-2"))
    change(warehouse, "UPDATE raw.flows SET v = -1.0 WHERE k = '010121'")
    for run in ("run-3", "run-4"):  # the same failing data fails every time
        result = evaluate(warehouse, SUITE, run)
        assert not result.passed and validated_again(result)
    change(warehouse, "UPDATE raw.flows SET v = 3.0 WHERE k = '010121'")  # back to data that passed in run-2
    assert validated_again(evaluate(warehouse, SUITE, "run-5"))  # the failure voided the record


def test_a_changed_suite_or_force_validates_again(warehouse):
    evaluate(warehouse, SUITE, "run-1")
    stricter = dataclasses.replace(SUITE, expectations=lambda settings, con: [
        gx_expectations.ExpectColumnValuesToBeBetween(column="v", min_value=2)])
    result = evaluate(warehouse, stricter, "run-2")
    assert not result.passed and validated_again(result)
    evaluate(warehouse, SUITE, "run-3")
    assert validated_again(evaluate(dataclasses.replace(warehouse, force=True), SUITE, "run-4"))
    reused = evaluate(warehouse, SUITE, "run-5")  # a forced validation that passed is recorded too
    assert not validated_again(reused) and "run run-4" in reused.description


def test_a_suite_whose_table_is_missing_fails_and_records_nothing(warehouse):
    missing = dataclasses.replace(SUITE, table="raw.nothing_here", query=_whole("raw.nothing_here"))
    for run in ("run-1", "run-2"):
        result = evaluate(warehouse, missing, run)
        assert not result.passed and "could not run" in result.description


def test_a_remembered_fingerprint_is_used_only_while_the_database_is_unchanged(settings):
    with connect(settings.warehouse_path) as con:
        con.execute("CREATE TABLE flows AS SELECT * FROM (VALUES ('010121', 1.5)) t(k, v)")

    def current():
        with connect(settings.warehouse_path, read_only=True) as con:
            return fingerprints.query_fingerprint(con, "SELECT * FROM flows", database=settings.warehouse_path)

    first = current()
    assert current() == first
    with connect(settings.warehouse_path) as con:
        con.execute("UPDATE flows SET v = 2.5")  # same size and row count: only the content changed
    assert current() != first
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert current() == fingerprints.query_fingerprint(con, "SELECT * FROM flows")  # what a fresh scan says


def test_every_file_dbt_reads_is_among_the_fingerprinted_inputs(tmp_path):
    """The no-op rebuild skips dbt when its inputs are unchanged: a file dbt reads but the fingerprint leaves out
    would let a changed model pass as unchanged. Every file dbt's own manifest names is fingerprinted."""
    from dagster_project.settings import DBT_PROJECT_DIR, load_settings

    dbt_docs.prepare_manifest(load_settings({"TRADEDEP_DATA_DIR": str(tmp_path)}))
    manifest = dbt_docs.load()
    # (a hook's path is the project file's, as ./dbt_project.yml)
    read = {str(Path(node["original_file_path"])) for kind in ("nodes", "sources", "macros", "unit_tests")
            for node in manifest[kind].values() if node["package_name"] == "tradedep"}
    read |= {node["patch_path"].split("://", 1)[1] for node in manifest["nodes"].values() if node.get("patch_path")}
    fingerprinted = {str(path.relative_to(DBT_PROJECT_DIR)) for path in dbt_docs.project_files()}
    assert len(read) > 50 and {"dbt_project.yml", "profiles.yml"} <= fingerprinted
    assert read <= fingerprinted, sorted(read - fingerprinted)


def test_a_runs_dbt_parse_state_is_kept_for_the_next_run_and_a_run_without_one_keeps_the_last(tmp_path, monkeypatch):
    monkeypatch.setattr(dbt_docs, "MANIFEST_PATH", tmp_path / "target" / "manifest.json")
    run = tmp_path / "target" / "tradedep_dbt-run1"
    run.mkdir(parents=True)
    (run / "partial_parse.msgpack").write_bytes(b"state of run 1")
    dbt_docs.keep_parse_state(run)
    assert (tmp_path / "target" / "partial_parse.msgpack").read_bytes() == b"state of run 1"
    assert not (run / "partial_parse.msgpack").exists()
    dbt_docs.keep_parse_state(tmp_path / "target" / "tradedep_dbt-run2")  # wrote none: the last one stays
    assert (tmp_path / "target" / "partial_parse.msgpack").read_bytes() == b"state of run 1"


def test_what_is_remembered_outlives_a_write_of_the_records_only(settings, monkeypatch):
    """The suites of a build record their passes one after the other: the fingerprint of the tables they read is
    computed once, not again after each record; any other write still forgets it."""
    with connect(settings.warehouse_path) as con:
        con.execute("CREATE TABLE flows AS SELECT * FROM (VALUES ('010121', 1.5)) t(k, v)")
    scans = []
    original = fingerprints._query_fingerprint
    monkeypatch.setattr(fingerprints, "_query_fingerprint", lambda *args: scans.append(args[1]) or original(*args))

    def current():
        with connect(settings.warehouse_path, read_only=True) as con:
            return fingerprints.query_fingerprint(con, "SELECT * FROM flows", database=settings.warehouse_path)

    first = current()
    state = fingerprints.database_state(settings.warehouse_path)
    with fingerprints.records_only(settings.warehouse_path), connect(settings.warehouse_path) as con:
        fingerprints.record(con, "gx_flows", first, {})
    assert fingerprints.database_state(settings.warehouse_path) != state  # the file did change
    assert current() == first and len(scans) == 1
    with connect(settings.warehouse_path) as con:
        fingerprints.record(con, "gx_flows", first, {})  # a write not declared as the records' alone
    assert current() == first and len(scans) == 2

"""Builds again on copies of the session's sample build (a rebuild, a part, a changed setting, a lock held, a tampered
mart, sources switched off), and a build that cannot start."""

import dataclasses
import json
import os
import re
import subprocess
import sys
import time

import dagster as dg
import duckdb
import pytest

from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, PROJECT_ROOT
from sample_build import MART, YEARS, last_run, query, sector_baskets, tradedep, tradedep_here

pytestmark = pytest.mark.pipeline
TREND_CLASS = "measured_direction"

HOLD_BUILD_LOCK = """
import sys, time
from pathlib import Path
from dagster_project.warehouse import build_lock
with build_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""
REPORT_ONLY = 'key:"report/dependency_report"'


def test_a_run_launched_outside_tradedep_build_takes_the_build_lock(built_copy):
    """A run the UI launches executes the job in a run worker, without the CLI: its warehouse write-lock resource
    takes the lock `tradedep build` holds, so while a build runs it fails at once, naming the holder."""
    from dagster_project.pipeline import run_build

    settings = built_copy.settings
    build_file = settings.for_build().warehouse_path
    holder = subprocess.Popen([sys.executable, "-c", HOLD_BUILD_LOCK, str(build_file)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        blocked = run_build(settings, REPORT_ONLY)
    finally:
        holder.kill()
        holder.wait()
    assert not blocked.success and not blocked.materialized
    assert any(f"A build is already running on {build_file} (pid {holder.pid}" in failure
               for failure in blocked.failures), blocked.failures
    assert run_build(settings, REPORT_ONLY).materialized == ["report/dependency_report"]  # free again


def test_a_build_makes_its_definitions_once_and_its_runs_show_in_the_ui(built_copy):
    """The CLI builds the Dagster definitions once per process (the entry point builds nothing on import), and the
    run carries the origin the UI gives its own runs: the job of the code location `tradedep ui` serves."""
    from dagster_project.definitions import CODE_LOCATION

    count = ("import sys\nfrom dagster_project import cli, definitions\ncode = cli.main(sys.argv[1:])\n"
             "print(definitions.build_definitions.cache_info().misses)\nsys.exit(code)")
    result = subprocess.run([sys.executable, "-c", count, "build", "--sample", "--select", REPORT_ONLY],
                            env=built_copy.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "1", result.stdout[-2000:] + result.stderr[-2000:]
    run, materialisations, _ = last_run(built_copy.settings)
    assert run.job_name == "build_all" and run.asset_selection == {dg.AssetKey(["report", "dependency_report"])}
    origin = run.remote_job_origin.repository_origin
    assert (origin.repository_name, origin.code_location_origin.location_name) == ("__repository__", CODE_LOCATION)
    assert [m.asset_key for m in materialisations] == [dg.AssetKey(["report", "dependency_report"])]


def test_readers_never_wait_for_a_build_and_see_the_previous_warehouse_until_it_is_published(built_copy):
    """A build with another stability band reclassifies the trend. A reader querying the warehouse all through the
    build never meets a lock, and sees the previous classes until the build publishes the new ones at its end."""
    settings = built_copy.settings
    stable = f"SELECT count(*) FROM marts.fct_self_reliance_trend WHERE {TREND_CLASS} = 'stable'"

    def read() -> int:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:  # fails if a writer holds it
            return con.execute(stable).fetchone()[0]

    before = read()
    build = subprocess.Popen([BIN_DIR / "tradedep", "build", "--sample", "--select", 'key:"marts/fct_self_reliance_trend"'],
                             env={**built_copy.env, "TRADEDEP_TREND_STABLE_PP": "100"}, cwd=PROJECT_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = []
    while build.poll() is None:
        seen.append(read())
        time.sleep(0.2)
    after = read()
    assert build.returncode == 0 and after > before  # a band of +-100 pp holds every change
    assert len(seen) > 5 and seen[0] == before and set(seen) <= {before, after}
    assert seen == sorted(seen)  # the previous warehouse, then the published one: never back


def test_sql_reads_while_nobody_writes_and_says_so_when_a_build_writes(built_copy):
    result = tradedep(built_copy.env, "sql", "--format", "csv", f"SELECT count(*) AS n FROM {MART}")
    assert result.returncode == 0
    assert int(result.stdout.splitlines()[1]) == query(built_copy.settings, f"SELECT count(*) AS n FROM {MART}")["n"][0]
    with duckdb.connect(str(built_copy.settings.warehouse_path)):  # a writer holds the lock
        busy = tradedep(built_copy.env, "sql", "SELECT 1")
    assert busy.returncode == 3 and busy.stdout == ""


def test_the_blocking_check_fails_on_bad_mart_data(built_copy):
    """Tamper with a copy of the build (the warehouse `tradedep check` reads and the build's file the Dagster check
    reads); both fail, and record why."""
    settings = built_copy.settings
    for path in (settings.warehouse_path, settings.for_build().warehouse_path):
        with duckdb.connect(str(path)) as con:
            con.execute(f"UPDATE {MART} SET partner_import_share = 1.5 WHERE partner_group = 'US' AND year = {YEARS[0]}")
    broken = len(sector_baskets(settings))  # one US row per sector basket in that year
    assert tradedep_here(built_copy.env, "check").returncode == 1
    recorded = {path.stem: json.loads(path.read_text()) for path in settings.quality_dir.glob("*.json")}
    assert recorded["raw_baci_trade"]["success"] and not recorded["fct_sector_dependency"]["success"]
    [failure] = [outcome for outcome in recorded["fct_sector_dependency"]["outcomes"] if not outcome["success"]]
    assert (failure["expectation"], failure["column"], failure["unexpected_count"]) == (
        "expect_column_values_to_be_between", "partner_import_share", broken)

    from dagster_project.definitions import build_definitions

    check = dg.AssetCheckKey(dg.AssetKey(["marts", "fct_sector_dependency"]), "gx_fct_sector_dependency")
    job = dg.define_asset_job("check_only", selection=dg.AssetSelection.checks(check))
    defs = dg.Definitions.merge(build_definitions(settings), dg.Definitions(jobs=[job]))
    result = defs.resolve_job_def("check_only").execute_in_process(raise_on_error=False)
    evaluation = result.get_asset_check_evaluations()[0]
    assert not evaluation.passed and not result.success  # blocking: the run fails
    failures = evaluation.metadata["failures"].value
    assert {"expectation": "expect_column_values_to_be_between", "column": "partner_import_share"}.items() <= failures[0].items()
    assert failures[0]["unexpected_count"] == broken and failures[0]["sample"][0] == 1.5


def test_a_rebuild_downloads_nothing_and_changes_no_row_count(built_copy):
    settings = built_copy.settings
    manifest_path = settings.baci_landing_dir / "manifest.json"
    manifest_before = json.loads(manifest_path.read_text())
    tables = query(settings, "SELECT schema_name || '.' || table_name AS name FROM duckdb_tables() ORDER BY name")["name"]
    before = {name: query(settings, f"SELECT count(*) AS n FROM {name}")["n"][0] for name in tables}
    checksums_before = mart_checksums(settings)
    # A setting no step reads (how long to wait between Comtrade requests) changed: the build runs (nothing
    # changed at all: tests/test_build_reuse.py), and each step finds its own inputs unchanged.
    result = tradedep({**built_copy.env, "TRADEDEP_COMTRADE_THROTTLE": "5"}, "build", "--sample")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert {name: query(settings, f"SELECT count(*) AS n FROM {name}")["n"][0] for name in tables} == before
    assert json.loads(manifest_path.read_text()) == manifest_before  # the landed zip was not fetched again
    assert mart_checksums(settings) == checksums_before  # every mart, value for value
    # Nothing changed: dbt did not run (its models are reported as not rebuilt) and every check passed before on
    # exactly this data (not validated again).
    run, materialisations, evaluations = last_run(settings)
    dbt_models = [m for m in materialisations if m.asset_key.path[0] in ("staging", "intermediate", "marts", "seeds")]
    assert run.is_success and dbt_models and all(m.metadata["rebuilt"].value is False for m in dbt_models)
    assert len(evaluations) > 19 + 100
    assert all(e.passed and e.metadata["validated_again"].value is False for e in evaluations)
    assert not list((DBT_PROJECT_DIR / "target").glob(f"tradedep_dbt-{run.run_id[:7]}-*"))  # a successful run cleans up


def test_dbt_runs_again_when_anything_it_reads_or_built_has_changed(built, tmp_path):
    """On copies of the warehouse: the no-op rebuild's test is only meaningful if a change is noticed."""
    from dagster_project.assets.dbt import dbt_inputs_fingerprint, record_build, unchanged_build

    def copy(name, sql=None):
        path = tmp_path / f"copy_{name}.duckdb"
        path.write_bytes(built.settings.warehouse_path.read_bytes())
        if sql:
            with duckdb.connect(str(path)) as con:
                con.execute(sql)
        return dataclasses.replace(built.settings, warehouse_path=path)

    same = copy("same")
    inputs = dbt_inputs_fingerprint(same)
    last = unchanged_build(same, inputs)
    assert re.fullmatch(r"[0-9a-f-]{36}", last["run_id"]) and len(last["tests"]) > 100  # dbt's tests, as checks
    raw_changed = copy("raw", "UPDATE raw.baci_trade SET v = v + 1 WHERE rowid = (SELECT min(rowid) FROM raw.baci_trade)")
    assert dbt_inputs_fingerprint(raw_changed) != inputs
    assert dbt_inputs_fingerprint(dataclasses.replace(same, years=YEARS[1:])) != inputs  # other dbt vars
    assert unchanged_build(copy("mart", f"UPDATE {MART} SET supplier_hhi = 0.5 WHERE year = {YEARS[0]}"), inputs) is None
    assert unchanged_build(copy("dropped", "DROP VIEW staging.stg_baci__trade"), inputs) is None
    record_build(same, inputs, "a-partial-run", succeeded=False)  # a subset of the models, or a failure
    assert unchanged_build(same, inputs) is None


def mart_checksums(settings) -> dict[str, tuple[int, str]]:
    """Row count and an order-free checksum of every row of every mart."""
    names = query(settings, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'")["table_name"]
    assert len(names) >= 10
    return {name: tuple(query(settings, f"SELECT count(*), sum(hash(r)::HUGEINT)::VARCHAR FROM marts.{name} AS r").row(0))
            for name in names}


def test_select_builds_a_part_force_validates_again_and_verbose_prints_everything(built_copy):
    result = tradedep(built_copy.env, "build", "--sample", "--force", "--select", 'key:"raw/worldbank_indicators"',
                      "--verbose")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run, materialisations, evaluations = last_run(built_copy.settings)
    assert [m.asset_key for m in materialisations] == [dg.AssetKey(["raw", "worldbank_indicators"])]
    assert evaluations and all(getattr(e.metadata.get("validated_again"), "value", None) is not False for e in evaluations)
    assert " - dagster - INFO - " in result.stderr and "raw.worldbank_indicators: " in result.stderr  # the asset's log
    assert "Full log" not in result.stdout and not re.search(r"^\[ ?\d+/\d+\]", result.stdout, re.M)


def test_build_without_network_or_landed_files_fails_fast_naming_sample(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_")}
    env.update({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_BACI_URL": "http://127.0.0.1:9/baci"})  # nothing listens
    result = tradedep(env, "build", timeout=120)
    assert result.returncode == 2
    assert "tradedep build --sample" in result.stderr and "Traceback" not in result.stderr


def test_switched_off_sources_have_no_assets_and_leave_the_marts_building(built_copy, tmp_path):
    """TRADEDEP_SOURCES=baci,worldbank: Comtrade's and TiVA's assets are not defined, and dbt, on raw tables that
    still hold their rows, builds every model and passes every data test with those sources contributing nothing."""
    from dagster_project.definitions import build_definitions
    from dagster_project.settings import load_settings

    settings = load_settings({**built_copy.env, "TRADEDEP_SAMPLE": "1", "TRADEDEP_SOURCES": "baci,worldbank"})
    graph = build_definitions(settings).resolve_asset_graph()
    # dbt's sources stay in the graph (as external tables); only the switched-on sources' assets load anything.
    loaded = {key.to_user_string() for key in graph.get_all_asset_keys()
              if key.path[0] in ("landing", "raw") and graph.get(key).is_materializable}
    assert {"landing/baci_release", "landing/worldbank", "raw/worldbank_indicators"} <= loaded
    assert not {key for key in loaded if "comtrade" in key or "oecd_tiva" in key}
    result = subprocess.run(
        [BIN_DIR / "dbt", "build", "--exclude-resource-type", "unit_test", "--profiles-dir", ".", "--target-path",
         str(tmp_path), "--log-path", str(tmp_path), "--vars", json.dumps(settings.dbt_vars())],
        env=built_copy.env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    sources = {row[0]: row[1:] for row in query(settings, "SELECT source, is_enabled, row_count FROM marts.dim_data_source").rows()}
    assert sources["comtrade"] == (False, 0) and sources["oecd_tiva"] == (False, 0)
    assert sources["baci"][0] and sources["worldbank"][0]
    years = query(settings, f"SELECT DISTINCT year, data_source FROM {MART} ORDER BY year").rows()
    assert [year for year, _ in years] == list(YEARS)  # BACI's years only: no year spliced from China's reports


def test_a_null_in_a_column_declared_not_null_fails_the_models_not_null_columns_test(built_copy, tmp_path):
    """One not_null_columns test per model covers its not-null columns (dbt/macros/generic_tests.sql): a null in any
    of them is a failing row. dim_country's name has no constraint, so the table takes the null and the test finds it."""
    settings = built_copy.settings
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("UPDATE marts.dim_country SET country_name = NULL WHERE country_code IN (842, 276)")
    result = subprocess.run(
        [BIN_DIR / "dbt", "test", "--select", "dim_country,test_name:not_null_columns", "--profiles-dir", ".",
         "--target-path", str(tmp_path), "--log-path", str(tmp_path), "--vars", json.dumps(settings.dbt_vars())],
        env=built_copy.env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]
    assert re.search(r"FAIL 2 not_null_columns_dim_country_", result.stdout), result.stdout[-3000:]

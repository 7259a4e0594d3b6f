"""The whole pipeline on the synthetic sample, through the real `tradedep` command, in a temporary directory."""

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import polars as pl
import pytest

from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, PROJECT_ROOT
from conftest import REFERENCE_DIR, needs_reference
from sample_build import YEARS, query, tradedep

pytestmark = pytest.mark.pipeline
MART = "marts.fct_sector_dependency"
TREND_CLASS = "measured_direction"


def test_the_build_reports_a_synthetic_warehouse(built):
    assert "SYNTHETIC SAMPLE" in built.first_run.stdout
    assert built.settings.warehouse_path.exists()


def test_a_piped_build_prints_a_line_per_step_and_the_summary_and_keeps_the_rest_in_its_log(built):
    output = built.first_run.stdout
    lines = output.splitlines()
    assert "\x1b" not in output and len(lines) < 60, output
    steps = [line for line in lines if re.match(r"\[ ?\d+/\d+\] ", line)]
    total = int(re.match(r"\[ ?\d+/(\d+)\]", steps[0]).group(1))
    assert len(steps) == total and all(" ok " in line for line in steps)
    assert any(line.endswith(" tradedep_dbt") or " tradedep_dbt (" in line for line in steps)
    assert "Done. PASS=" not in output and " - dagster - " not in output  # dbt's and Dagster's lines: in the log
    log = Path(re.search(r"^Full log .*: (\S+)$", output, re.M).group(1))
    assert log.parent == built.settings.logs_dir
    text = log.read_text()
    assert "Done. PASS=" in text and " - dagster - INFO - " in text and "\x1b" not in text
    assert "instead of an `AssetCheckResult`" not in text  # dagster-dbt's notice on the singular test is silenced


def sector_baskets(settings) -> set[tuple[str, str]]:
    return set(query(settings, "SELECT DISTINCT sector, basket FROM intermediate.int_sector_basket_products").iter_rows())


def test_the_mart_covers_every_sector_basket_partner_and_year(built):
    mart = query(built.settings, f"SELECT * FROM {MART}")
    baskets = sector_baskets(built.settings)
    assert {sector for sector, _ in baskets} == set(mart["sector"]) and len(set(mart["sector"])) == 14
    assert {sector for sector, basket in baskets if basket == "broad"} == {"Chip-making equipment", "Green energy", "Petrochemicals"}
    groups = set(query(built.settings, "SELECT DISTINCT partner_group FROM seeds.partner_group")["partner_group"])
    assert {"US", "EU27", "World", "US+EU", "Japan, Korea, Taiwan", "Japan", "Korea", "Taiwan", "Netherlands"} == groups
    assert groups == set(mart["partner_group"])
    years = [*YEARS, *comtrade_years(built)]  # BACI's, then the years China has reported since
    assert sorted(set(mart["year"])) == years
    assert mart.height == len(baskets) * len(groups) * len(years)
    assert mart["is_synthetic"].all() and mart["data_source"].str.starts_with("SYNTHETIC SAMPLE").all()
    assert (mart["imports_from_world_usd"] > 0).all()


def test_mart_numbers_match_an_independent_computation(built):
    """Recompute one sector's figures from raw.baci_trade with polars and compare with the mart."""
    trade = query(built.settings, "SELECT t AS year, i, j, k, v * 1000 AS usd FROM raw.baci_trade")
    prefixes = query(built.settings, "SELECT hs_prefix FROM seeds.sector_hs_map WHERE sector = 'Chip-making equipment' "
                     "AND hs_revision = 'HS12' AND scope = 'core'")["hs_prefix"].to_list()
    in_sector = pl.any_horizontal([pl.col("k").str.starts_with(prefix) for prefix in prefixes])
    eu = query(built.settings, "SELECT country_code FROM seeds.partner_group WHERE partner_group = 'EU27'")["country_code"].to_list()
    for year in YEARS:
        imports = trade.filter(in_sector & (pl.col("j") == 156) & (pl.col("year") == year))
        world = imports["usd"].sum()
        exports = trade.filter(in_sector & (pl.col("i") == 156) & (pl.col("year") == year))["usd"].sum()
        by_product = imports.group_by("k").agg(pl.col("usd").sum().alias("m"))
        hhi = imports.join(by_product, on="k").group_by("k").agg(((pl.col("usd") / pl.col("m")) ** 2).sum().alias("hhi"), pl.col("m").first())
        expected = {
            "US": imports.filter(pl.col("i") == 842)["usd"].sum(),
            "EU27": imports.filter(pl.col("i").is_in(eu))["usd"].sum(),
            "US+EU": imports.filter(pl.col("i").is_in([842, *eu]))["usd"].sum(),
            "Japan, Korea, Taiwan": imports.filter(pl.col("i").is_in([392, 410, 490]))["usd"].sum(),
            "Japan": imports.filter(pl.col("i") == 392)["usd"].sum(),
            "Korea": imports.filter(pl.col("i") == 410)["usd"].sum(),
            "Taiwan": imports.filter(pl.col("i") == 490)["usd"].sum(),
            "Netherlands": imports.filter(pl.col("i") == 528)["usd"].sum(),
            "World": world,
        }
        mart = query(built.settings, f"SELECT * FROM {MART} WHERE sector = 'Chip-making equipment' AND basket = 'full' "
                     "AND year = ?", [year])
        for row in mart.iter_rows(named=True):
            assert row["imports_from_partner_usd"] == pytest.approx(expected[row["partner_group"]], rel=1e-9)
            assert row["imports_from_world_usd"] == pytest.approx(world, rel=1e-9)
            assert row["partner_import_share"] == pytest.approx(expected[row["partner_group"]] / world, rel=1e-9)
            assert row["exports_to_world_usd"] == pytest.approx(exports, rel=1e-9)
            assert row["net_import_ratio"] == pytest.approx(world / exports, rel=1e-9)
            assert row["supplier_hhi"] == pytest.approx((hhi["m"] * hhi["hhi"]).sum() / hhi["m"].sum(), rel=1e-9)


def test_the_warehouse_is_written_at_the_oldest_storage_version_so_older_clients_open_it(built):
    """dbt and every load write into the file at the storage version it was created with (docs/bi.md: which
    clients open it)."""
    from dagster_project.warehouse import STORAGE_NUMBER, STORAGE_VERSION

    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'warehouse'").fetchall()[0][0]
    assert tags["storage_version"] == f"{STORAGE_VERSION}+" == "v1.0.0+"
    header = built.settings.warehouse_path.read_bytes()[:20]
    assert header[8:12] == b"DUCK" and int.from_bytes(header[12:20], "little") == STORAGE_NUMBER


def instance_of(settings) -> dg.DagsterInstance:
    """The Dagster instance (run history) of a build's data folder, opened without touching the environment."""
    return dg.DagsterInstance.from_config(str(settings.dagster_home))


def last_run(settings) -> tuple[dg.DagsterRun, list, list]:
    """The latest run of a build's history, with its materialisations and check evaluations."""
    with instance_of(settings) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id)
    events = [record.dagster_event for record in records if record.dagster_event is not None]
    materialisations = [event.event_specific_data.materialization for event in events
                        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    evaluations = [event.event_specific_data for event in events
                   if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    return run, materialisations, evaluations


def test_materialisations_are_recorded_and_marked_synthetic(built):
    with instance_of(built.settings) as instance:
        for key in (["raw", "baci_trade"], ["raw", "baci_countries"], ["marts", "fct_sector_dependency"]):
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None, key
            assert event.asset_materialization.metadata["synthetic"].value is True, key
        trade = instance.get_latest_materialization_event(dg.AssetKey(["raw", "baci_trade"])).asset_materialization
    assert trade.metadata["rows_loaded"].value > 0 and trade.metadata["byte_count"].value > 0
    assert f"BACI_HS12_Y{YEARS[-1]}_V202501.csv" in trade.metadata["source_members"].value


def test_definitions_validate_and_the_graph_is_connected(built):
    result = subprocess.run([BIN_DIR / "dagster", "definitions", "validate"], env=built.env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    from dagster_project.definitions import build_definitions

    defs = build_definitions(built.settings)
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey(["raw", "baci_trade"]) in graph.get(dg.AssetKey(["staging", "stg_baci__trade"])).parent_keys
    assert dg.AssetKey(["landing", "baci_release"]) in graph.get(dg.AssetKey(["raw", "baci_trade"])).parent_keys
    specs = [spec for checks in defs.asset_checks for spec in checks.check_specs]
    raw_checks = {spec.name: spec for spec in specs if spec.asset_key.path[0] == "raw"}
    assert {"gx_raw_baci_trade", "gx_raw_baci_trade_years", "gx_raw_baci_members", "gx_raw_baci_china_import_shares",
            "gx_raw_baci_countries", "gx_raw_baci_products",
            "gx_raw_comtrade_flows", "gx_raw_oecd_tiva", "gx_raw_worldbank_indicators"} == set(raw_checks)
    assert all(spec.blocking for spec in raw_checks.values())
    assert any(
        spec.name == "gx_fct_sector_dependency" and spec.blocking
        and spec.asset_key == dg.AssetKey(["marts", "fct_sector_dependency"])
        for spec in specs
    )


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
    assert tradedep(built_copy.env, "check").returncode == 1
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


def test_every_source_is_loaded_and_marked_synthetic(built):
    rows = query(built.settings, "SELECT source, is_enabled, row_count, is_synthetic FROM marts.dim_data_source ORDER BY source")
    assert rows["source"].to_list() == ["baci", "comtrade", "oecd_tiva", "worldbank"]
    assert rows["is_enabled"].all() and (rows["row_count"] > 0).all() and rows["is_synthetic"].all()
    by_source = query(built.settings, "SELECT DISTINCT source FROM intermediate.int_china_flows_by_source ORDER BY 1")
    assert by_source["source"].to_list() == ["baci", "comtrade"]


def test_the_marts_agree_with_each_other(built):
    """Sector totals equal the sum of their basket's products; group and partner totals add up; the comparable
    basket is inside the full one and the full one inside the broad one; supplier shares add up to 1."""
    mismatched = query(built.settings, f"""
        SELECT s.sector, s.basket, s.year, s.imports_from_world_usd, sum(p.imports_from_world_usd) AS products_total
        FROM (SELECT DISTINCT sector, basket, year, imports_from_world_usd FROM {MART}) AS s
        JOIN intermediate.int_sector_basket_products AS sp ON sp.sector = s.sector AND sp.basket = s.basket
        JOIN marts.fct_product_dependency AS p ON p.hs6 = sp.hs6 AND p.year = s.year
        GROUP BY ALL HAVING abs(s.imports_from_world_usd - sum(p.imports_from_world_usd)) > 0.5""")
    assert mismatched.height == 0, mismatched
    outside = query(built.settings, """
        SELECT inner_basket.sector, inner_basket.basket, inner_basket.hs6
        FROM intermediate.int_sector_basket_products AS inner_basket
        ANTI JOIN intermediate.int_sector_basket_products AS outer_basket
            ON outer_basket.sector = inner_basket.sector AND outer_basket.hs6 = inner_basket.hs6
            AND outer_basket.basket = CASE inner_basket.basket WHEN 'comparable' THEN 'full' ELSE 'broad' END
        WHERE inner_basket.basket = 'comparable'
           OR (inner_basket.basket = 'full' AND inner_basket.sector IN
               (SELECT sector FROM intermediate.int_sector_basket_products WHERE basket = 'broad'))""")
    assert outside.height == 0, outside
    suppliers = query(built.settings, """
        SELECT s.sector, s.year, sum(s.imports_usd) AS suppliers, max(d.imports_from_world_usd) AS world
        FROM marts.fct_sector_suppliers AS s
        JOIN marts.fct_sector_dependency AS d USING (sector, year)
        WHERE d.basket = 'full' AND d.partner_group = 'World' GROUP BY ALL""")
    assert ((suppliers["suppliers"] - suppliers["world"]).abs() < 0.5).all()
    groups = query(built.settings, f"""
        SELECT sector, basket, year, max(CASE WHEN partner_group = 'US' THEN imports_from_partner_usd END)
             + max(CASE WHEN partner_group = 'EU27' THEN imports_from_partner_usd END)
             - max(CASE WHEN partner_group = 'US+EU' THEN imports_from_partner_usd END) AS difference
        FROM {MART} GROUP BY ALL""")
    assert (groups["difference"].abs() < 0.5).all()
    partners = query(built.settings, """
        SELECT year, hs6, sum(imports_usd) FILTER (WHERE partner_group = 'World') AS world,
               max(supplier_count) AS suppliers
        FROM intermediate.int_china_product_imports_by_partner JOIN intermediate.int_china_product_totals USING (year, hs6)
        GROUP BY ALL HAVING abs(sum(imports_usd) FILTER (WHERE partner_group = 'World') - max(imports_world_usd)) > 0.5""")
    assert partners.height == 0, partners  # the World group is every supplier: shares over all partners sum to 1


def test_the_marts_recover_the_patterns_the_sample_was_generated_with(built):
    """The sample generator invents falling US and EU shares in rail and green energy and a persistent chokepoint in
    chip-making tools: the marts must recover them. This checks the code; it says nothing about China."""
    trend = query(built.settings, "SELECT * FROM marts.fct_self_reliance_trend WHERE partner_group = 'US+EU' AND basket = 'full'")
    direction = dict(zip(trend["sector"], trend["measured_direction"], strict=True))
    assert direction["Rail"] == direction["Green energy"] == "falling dependency"
    # 2013-2015 asked, none held: the baseline is the build's first three years, the latest its last three (the last
    # ones from China's reports).
    last_year = comtrade_years(built)[-1]
    assert trend.select("baseline_first_year", "baseline_last_year", "latest_first_year", "latest_last_year",
                        "latest_window_sources").unique().rows() == [
        (YEARS[0], YEARS[2], last_year - 2, last_year, "BACI; UN Comtrade (China-reported)")]
    verdicts = dict(query(built.settings, "SELECT sector, verdict FROM marts.fct_claim_assessment").iter_rows())
    assert verdicts["Rail"] == "consistent" and verdicts["Aerospace"] == "no claim"
    chip_tools = query(built.settings, """
        SELECT year, bool_or(is_persistent_dependency) AS persistent, bool_or(is_chokepoint) AS chokepoint,
               min(window_years_observed) AS window_years
        FROM marts.fct_product_dependency WHERE sectors LIKE '%Chip-making equipment%' AND hs6 LIKE '8486%'
        GROUP BY year ORDER BY year""")
    # Persistence needs three years: unknown in the build's first two, then a persistent chokepoint.
    later = chip_tools.height - 2  # BACI's later years and the years from China's reports
    assert chip_tools["window_years"].to_list() == [1, 2, *[3] * later]
    assert chip_tools["chokepoint"].to_list() == [None, None, *[True] * later] and chip_tools["persistent"][-1]
    shift = query(built.settings, "SELECT * FROM marts.fct_supplier_shift WHERE sector = 'Green energy' ORDER BY share_change_pp")
    assert shift["supplier_partner_groups"][0] is not None and "US+EU" in shift["supplier_partner_groups"][0]  # the biggest loser


def test_dbt_docs_generate(built, tmp_path):
    result = subprocess.run(
        [BIN_DIR / "dbt", "docs", "generate", "--static", "--profiles-dir", ".", "--target-path", str(tmp_path),
         "--vars", json.dumps(built.settings.dbt_vars())],
        env=built.env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    assert "model.tradedep.fct_product_dependency" in catalog["nodes"]
    assert (tmp_path / "static_index.html").stat().st_size > 100_000


def _set(column, value):
    def change(frame):
        frame = frame.copy()
        frame[column] = frame[column].astype(object)
        frame.loc[0, column] = value
        return frame
    return change


def _duplicate(frame):
    return pd.concat([frame, frame.iloc[[0]]], ignore_index=True)


MART_BREAKAGES = [
    ("fct_product_dependency", _duplicate, "expect_compound_columns_to_be_unique", "hs6,year"),
    ("fct_product_dependency", _set("us_import_share", 1.2), "expect_column_values_to_be_between", "us_import_share"),
    ("fct_product_dependency", _set("world_export_hhi", -0.1), "expect_column_values_to_be_between", "world_export_hhi"),
    ("fct_product_dependency", _set("imports_from_world_usd", -1.0), "expect_column_values_to_be_between", "imports_from_world_usd"),
    ("fct_product_dependency", _set("normalised_trade_balance", 1.5), "expect_column_values_to_be_between", "normalised_trade_balance"),
    ("fct_product_dependency", _set("year", 2031), "expect_column_distinct_values_to_equal_set", "year"),
    ("fct_product_dependency", _set("hs6", "8486"), "expect_column_values_to_match_regex", "hs6"),
    ("fct_product_dependency", _set("is_dependent", None), "expect_column_values_to_not_be_null", "is_dependent"),
    ("fct_self_reliance_trend", _set("measured_direction", "better"), "expect_column_values_to_be_in_set", "measured_direction"),
    ("fct_self_reliance_trend", lambda f: f.iloc[1:], "expect_table_row_count_to_equal", None),
    ("fct_self_reliance_trend", _set("partner_import_share_latest", 2.0), "expect_column_values_to_be_between", "partner_import_share_latest"),
    ("fct_self_reliance_trend", _set("basket", "everything"), "expect_column_values_to_be_in_set", "basket"),
    ("fct_claim_assessment", _set("verdict", "proven"), "expect_column_values_to_be_in_set", "verdict"),
    ("fct_claim_assessment", lambda f: f.iloc[1:], "expect_column_distinct_values_to_equal_set", "sector"),
    ("fct_sector_suppliers", _duplicate, "expect_compound_columns_to_be_unique", "sector,supplier_code,year"),
    ("fct_sector_suppliers", _set("supplier_rank", 0), "expect_column_values_to_be_between", "supplier_rank"),
    ("fct_supplier_shift", _set("latest_import_share", 1.5), "expect_column_values_to_be_between", "latest_import_share"),
    ("fct_mirror_gaps", _set("reported_by", "nobody"), "expect_column_values_to_be_in_set", "reported_by"),
    ("fct_mirror_gaps", _duplicate, "expect_compound_columns_to_be_unique", "hs6,partner_code,year"),
    ("fct_industry_import_penetration", _set("import_penetration", -0.5), "expect_column_values_to_be_between", "import_penetration"),
    ("dim_country", _duplicate, "expect_column_values_to_be_unique", "country_code"),
    ("dim_product", _set("hs6", None), "expect_column_values_to_not_be_null", "hs6"),
    ("dim_data_source", lambda f: f.iloc[1:], "expect_column_distinct_values_to_equal_set", "source"),
]


@pytest.mark.parametrize(("name", "breakage", "expectation", "column"), MART_BREAKAGES)
def test_each_mart_suite_names_the_invariant_bad_data_breaks(built, tmp_path, name, breakage, expectation, column):
    from conftest import validate_frame
    from dagster_project.quality.mart_suites import MART_SUITES

    suite = next(suite for suite in MART_SUITES if suite.name == name)
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        expectations = suite.expectations(built.settings, con)
        frame = con.execute(f"SELECT * FROM {suite.table}").df()
    database = built.settings.warehouse_path
    assert validate_frame(name, frame, expectations, tmp_path, database).success  # the built mart passes
    outcome = validate_frame(name, breakage(frame), expectations, tmp_path, database)
    assert (expectation, column) in {(f.expectation, f.column) for f in outcome.failures}, outcome.summary()


def comtrade_years(built) -> list[int]:
    """The years the marts take from China's reports to Comtrade: those after BACI's last that China reported."""
    return [year for year in built.settings.comtrade_years if year > YEARS[-1]]


def test_the_marts_run_to_the_last_year_china_has_reported(built):
    spliced = comtrade_years(built)
    assert spliced, "the sample's Comtrade years must reach past BACI's last year"
    mart = query(built.settings, f"SELECT DISTINCT year, data_source, valuation FROM {MART} ORDER BY year")
    assert mart["year"].to_list() == [*YEARS, *spliced]
    reported = mart.filter(pl.col("year") > YEARS[-1])
    assert reported["valuation"].str.contains("China-reported").all() and reported["data_source"].str.contains("Comtrade").all()
    sources = {row["source"]: row for row in query(built.settings, "SELECT * FROM marts.dim_data_source").iter_rows(named=True)}
    assert (sources["baci"]["mart_first_year"], sources["baci"]["mart_last_year"]) == (YEARS[0], YEARS[-1])
    assert (sources["comtrade"]["mart_first_year"], sources["comtrade"]["mart_last_year"]) == (spliced[0], spliced[-1])
    assert sources["comtrade"]["overlap_year"] == YEARS[-1] and sources["comtrade"]["last_month"] is not None
    assert f"UN Comtrade (China-reported) {spliced[0]}-{spliced[-1]}" in built.first_run.stdout  # the build summary says so


def reference_conversion(build_revision: str) -> dict[str, str]:
    """HS22 codes -> the build revision's, by the UNSD conversion as the dbt seed holds it (is_conversion links)."""
    links = pl.read_csv(DBT_PROJECT_DIR / "seeds" / "hs_correspondence.csv", schema_overrides={
        "newer_hs6": pl.String, "older_hs6": pl.String}).filter(pl.col("is_conversion"))
    step = {revision: dict(rows.select("newer_hs6", "older_hs6").iter_rows())
            for (revision,), rows in links.group_by("newer_revision")}
    return {code: step["HS17"][hs17] for code, hs17 in step["HS22"].items() if hs17 in step["HS17"]} if build_revision == "HS12" else step["HS22"]


def test_a_comtrade_years_sector_totals_equal_the_sum_of_the_converted_records(built):
    """Recompute a reported year's sector figures from the raw Comtrade records: convert each HS22 code to HS12 with
    the UNSD conversion, keep the sector's full basket, sum China's reported imports over partners."""
    year = comtrade_years(built)[-1]
    convert = reference_conversion("HS12")
    basket = set(query(built.settings, "SELECT hs6 FROM intermediate.int_sector_basket_products "
                       "WHERE sector = 'Chip-making equipment' AND basket = 'full'")["hs6"])
    records = query(built.settings, """SELECT cmd_code, partner_code, flow_code, round(primary_value) AS usd
        FROM raw.comtrade_flows WHERE reporter_code = 156 AND freq_code = 'A' AND ref_year = ?
        AND coalesce(partner2_code, 0) = 0 AND coalesce(mot_code, 0) = 0 AND coalesce(customs_code, 'C00') = 'C00'""",
                    [year]).with_columns(pl.col("cmd_code").replace_strict(convert, default=None).alias("hs6"))
    in_sector = records.filter(pl.col("hs6").is_in(list(basket)))
    imports = in_sector.filter((pl.col("flow_code") == "M") & (pl.col("partner_code") != 0))
    exports = in_sector.filter((pl.col("flow_code") == "X") & (pl.col("partner_code") == 0))["usd"].sum()
    assert imports.height > 0
    rows = query(built.settings, f"SELECT * FROM {MART} WHERE sector = 'Chip-making equipment' AND basket = 'full' "
                 "AND year = ?", [year])
    for row in rows.iter_rows(named=True):
        members = query(built.settings, "SELECT country_code FROM seeds.partner_group WHERE partner_group = ?",
                        [row["partner_group"]])["country_code"].to_list()
        partner = imports if members == [None] else imports.filter(pl.col("partner_code").is_in(members))
        assert row["imports_from_world_usd"] == imports["usd"].sum() and row["exports_to_world_usd"] == exports
        assert row["imports_from_partner_usd"] == partner["usd"].sum(), row["partner_group"]


def test_the_overlap_mart_sets_both_sources_side_by_side(built):
    overlap = query(built.settings, "SELECT * FROM marts.fct_source_overlap WHERE partner_group = 'World'")
    assert set(overlap["year"]) == {YEARS[-1]} and overlap.height == 14
    assert (overlap["baci_imports_usd"] > 0).all() and (overlap["comtrade_imports_usd"] > 0).all()
    # The sample's China reports its imports CIF, 2.5-6.5% above the FOB flows BACI holds.
    traded = overlap.filter(pl.col("baci_imports_usd") > 1e6)
    assert traded["comtrade_to_baci_ratio"].is_between(1.02, 1.07).all(), traded.select("sector", "comtrade_to_baci_ratio")


@needs_reference(REFERENCE_DIR / "concordance")
def test_real_codes_convert_as_the_unsd_tables_say(built):
    """The warehouse's conversion of every HS22 code to HS12 (int_hs_conversion) against the UNSD conversion tables
    read straight from ../shared/reference: HS22 854142/854143 (solar cells, modules) go to HS17 854140 and so to
    HS12 854140; HS22 850171 (a photovoltaic generator) goes to HS17 850131, which is HS12 850131."""
    def table(name: str) -> dict[str, str]:
        frame = pl.read_csv(REFERENCE_DIR / "concordance" / name, infer_schema_length=0)
        return dict(frame.select(frame.columns[0], frame.columns[1]).iter_rows())

    hs22_hs17, hs17_hs12 = table("HS2022toHS2017_Conversion.csv"), table("HS2017toHS2012_Conversion.csv")
    assert hs22_hs17["854142"] == hs22_hs17["854143"] == "854140" and hs22_hs17["850171"] == "850131"
    expected = {code: hs17_hs12[hs17] for code, hs17 in hs22_hs17.items()}
    converted = dict(query(built.settings, "SELECT source_hs6, hs6 FROM intermediate.int_hs_conversion "
                           "WHERE source_revision = 'HS22'").iter_rows())
    assert converted == expected
    assert converted["854142"] == converted["854143"] == "854140" and converted["850171"] == "850131"

"""The whole pipeline on the synthetic sample, through the real `tradedep` command, in a temporary directory;
then what analysts see of it: the Dagster UI (GraphQL and the rendered graph), the exports, the report.

Every test here shares one sample build, so they stay in one file (pytest-xdist sends a file to one worker).
Browser tests drive headless Chromium, which `.ci/run` installs; outside CI they are skipped without it.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, PROJECT_ROOT, load_settings
from sample_build import YEARS, query, tradedep

pytestmark = pytest.mark.pipeline
MART = "marts.fct_sector_dependency"


def test_the_build_reports_a_synthetic_warehouse(built):
    assert "SYNTHETIC SAMPLE" in built.first_run.stdout
    assert built.settings.warehouse_path.exists()


def test_the_mart_covers_every_sector_partner_and_year(built):
    mart = query(built.settings, f"SELECT * FROM {MART}")
    sectors = query(built.settings, "SELECT DISTINCT sector FROM seeds.sector_hs_map WHERE hs_revision = 'HS12'")
    assert sectors.height == 14
    groups = set(query(built.settings, "SELECT DISTINCT partner_group FROM seeds.partner_group")["partner_group"])
    assert {"US", "EU27", "World", "US+EU", "Japan, Korea, Taiwan"} == groups == set(mart["partner_group"])
    assert set(mart["year"]) == set(YEARS)
    assert mart.height == 14 * len(groups) * len(YEARS)
    assert mart["is_synthetic"].all() and mart["data_source"].str.starts_with("SYNTHETIC SAMPLE").all()
    assert (mart["imports_from_world_usd"] > 0).all()


def test_mart_numbers_match_an_independent_computation(built):
    """Recompute one sector's figures from raw.baci_trade with polars and compare with the mart."""
    trade = query(built.settings, "SELECT t AS year, i, j, k, v * 1000 AS usd FROM raw.baci_trade")
    prefixes = query(built.settings, "SELECT hs_prefix FROM seeds.sector_hs_map WHERE sector = 'Chip-making equipment' AND hs_revision = 'HS12'")["hs_prefix"].to_list()
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
            "World": world,
        }
        mart = query(built.settings, f"SELECT * FROM {MART} WHERE sector = 'Chip-making equipment' AND year = ?", [year])
        for row in mart.iter_rows(named=True):
            assert row["imports_from_partner_usd"] == pytest.approx(expected[row["partner_group"]], rel=1e-9)
            assert row["imports_from_world_usd"] == pytest.approx(world, rel=1e-9)
            assert row["partner_import_share"] == pytest.approx(expected[row["partner_group"]] / world, rel=1e-9)
            assert row["exports_to_world_usd"] == pytest.approx(exports, rel=1e-9)
            assert row["net_import_ratio"] == pytest.approx(world / exports, rel=1e-9)
            assert row["supplier_hhi"] == pytest.approx((hhi["m"] * hhi["hhi"]).sum() / hhi["m"].sum(), rel=1e-9)


def test_the_warehouse_opens_in_duckdb_1_5_clients(built):
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'warehouse'").fetchall()[0][0]
    assert tags["storage_version"].startswith("v1.5")


def test_materialisations_are_recorded_and_marked_synthetic(built):
    os.environ["DAGSTER_HOME"] = str(built.settings.dagster_home)
    try:
        with dg.DagsterInstance.get() as instance:
            for key in (["raw", "baci_trade"], ["raw", "baci_countries"], ["marts", "fct_sector_dependency"]):
                event = instance.get_latest_materialization_event(dg.AssetKey(key))
                assert event is not None, key
                metadata = event.asset_materialization.metadata
                assert metadata["synthetic"].value is True, key
            trade = instance.get_latest_materialization_event(dg.AssetKey(["raw", "baci_trade"])).asset_materialization
            assert trade.metadata["rows_loaded"].value > 0 and trade.metadata["byte_count"].value > 0
            assert "BACI_HS12_Y2016_V202501.csv" in trade.metadata["source_members"].value
    finally:
        del os.environ["DAGSTER_HOME"]


def test_definitions_validate_and_the_graph_is_connected(built):
    result = subprocess.run([BIN_DIR / "dagster", "definitions", "validate"], env=built.env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    from dagster_project.definitions import build_definitions

    saved = dict(os.environ)
    try:
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
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_sql_reads_while_nobody_writes_and_says_so_when_a_build_writes(built):
    result = tradedep(built.env, "sql", f"SELECT count(*) AS n FROM {MART}")
    assert result.returncode == 0 and str(14 * 5 * len(YEARS)) in result.stdout
    with duckdb.connect(str(built.settings.warehouse_path)):  # a writer holds the lock
        busy = tradedep(built.env, "sql", "SELECT 1")
    assert busy.returncode == 3 and "locked by another process" in busy.stderr


def test_the_blocking_check_fails_on_bad_mart_data(built, tmp_path):
    """Tamper with a copy of the warehouse; the Dagster check and `tradedep check` both fail and say why."""
    bad_warehouse = tmp_path / "bad.duckdb"
    bad_warehouse.write_bytes(built.settings.warehouse_path.read_bytes())
    with duckdb.connect(str(bad_warehouse)) as con:
        con.execute(f"UPDATE {MART} SET partner_import_share = 1.5 WHERE partner_group = 'US' AND year = {YEARS[0]}")
    env = {**built.env, "TRADEDEP_WAREHOUSE": str(bad_warehouse)}
    cli = tradedep(env, "check")
    assert cli.returncode == 1 and "PASSED raw_baci_trade:" in cli.stdout and "18 of 19 suites passed" in cli.stdout
    assert "expect_column_values_to_be_between on partner_import_share failed: 14 unexpected" in cli.stdout, cli.stdout

    from dagster_project.definitions import build_definitions

    saved = dict(os.environ)
    try:
        settings = load_settings({**env, "TRADEDEP_SAMPLE": "1"})
        mart_key = dg.AssetKey(["marts", "fct_sector_dependency"])
        check = dg.AssetCheckKey(mart_key, "gx_fct_sector_dependency")
        job = dg.define_asset_job("check_only", selection=dg.AssetSelection.checks(check))
        defs = dg.Definitions.merge(build_definitions(settings), dg.Definitions(jobs=[job]))
        result = defs.resolve_job_def("check_only").execute_in_process(raise_on_error=False)
        evaluation = result.get_asset_check_evaluations()[0]
        assert not evaluation.passed and not result.success  # blocking: the run fails
        failures = evaluation.metadata["failures"].value
        assert {"expectation": "expect_column_values_to_be_between", "column": "partner_import_share"}.items() <= failures[0].items()
        assert failures[0]["unexpected_count"] == 14 and failures[0]["sample"][0] == 1.5
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_a_rebuild_downloads_nothing_and_changes_no_row_count(built):
    manifest_path = built.settings.baci_landing_dir / "manifest.json"
    manifest_before = json.loads(manifest_path.read_text())
    counts_sql = (
        "SELECT schema_name || '.' || table_name AS name FROM duckdb_tables() ORDER BY name"
    )
    tables = query(built.settings, counts_sql)["name"].to_list()
    before = {name: query(built.settings, f"SELECT count(*) AS n FROM {name}")["n"][0] for name in tables}
    mart_before = query(built.settings, f"SELECT * FROM {MART} ORDER BY sector, partner_group, year")
    checksums_before = mart_checksums(built.settings)
    result = tradedep(built.env, "build", "--sample")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    after = {name: query(built.settings, f"SELECT count(*) AS n FROM {name}")["n"][0] for name in tables}
    assert after == before
    assert json.loads(manifest_path.read_text()) == manifest_before  # the landed zip was not fetched again
    assert query(built.settings, f"SELECT * FROM {MART} ORDER BY sector, partner_group, year").equals(mart_before)
    assert mart_checksums(built.settings) == checksums_before  # every mart, value for value
    run_id = re.search(r"\(run ([0-9a-f-]+),", result.stdout).group(1)
    assert not list((DBT_PROJECT_DIR / "target").glob(f"tradedep_dbt-{run_id[:7]}-*"))  # a successful run cleans up


def mart_checksums(settings) -> dict[str, tuple[int, str]]:
    """Row count and an order-free checksum of every row of every mart."""
    names = query(settings, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'")["table_name"]
    assert len(names) >= 10
    return {name: tuple(query(settings, f"SELECT count(*), sum(hash(r)::HUGEINT)::VARCHAR FROM marts.{name} AS r").row(0))
            for name in names}


def test_select_builds_a_part(built):
    result = tradedep(built.env, "build", "--sample", "--select", 'key:"raw/baci_countries"')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Built: 1 assets materialised" in result.stdout


def test_build_without_network_or_landed_files_fails_fast_naming_sample(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_")}
    env.update({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_BACI_URL": "http://127.0.0.1:9/baci"})  # nothing listens
    result = tradedep(env, "build", timeout=120)
    assert result.returncode == 2
    assert "tradedep build --sample" in result.stderr and "Traceback" not in result.stderr


def test_every_source_is_loaded_and_marked_synthetic(built):
    rows = query(built.settings, "SELECT source, is_enabled, row_count, is_synthetic FROM marts.dim_data_source ORDER BY source")
    assert rows["source"].to_list() == ["baci", "comtrade", "oecd_tiva", "worldbank"]
    assert rows["is_enabled"].all() and (rows["row_count"] > 0).all() and rows["is_synthetic"].all()
    by_source = query(built.settings, "SELECT DISTINCT source FROM intermediate.int_china_trade_by_source ORDER BY 1")
    assert by_source["source"].to_list() == ["BACI", "UN Comtrade (China-reported)"]


def test_the_marts_agree_with_each_other(built):
    """Sector totals equal the sum of their products; group and partner totals add up."""
    mismatched = query(built.settings, f"""
        SELECT s.sector, s.year, s.imports_from_world_usd, sum(p.imports_from_world_usd) AS products_total
        FROM (SELECT DISTINCT sector, year, imports_from_world_usd FROM {MART}) AS s
        JOIN intermediate.int_sector_products AS sp ON sp.sector = s.sector
        JOIN marts.fct_product_dependency AS p ON p.hs6 = sp.hs6 AND p.year = s.year
        GROUP BY ALL HAVING abs(s.imports_from_world_usd - sum(p.imports_from_world_usd)) > 0.5""")
    assert mismatched.height == 0, mismatched
    groups = query(built.settings, f"""
        SELECT sector, year, max(CASE WHEN partner_group = 'US' THEN imports_from_partner_usd END)
             + max(CASE WHEN partner_group = 'EU27' THEN imports_from_partner_usd END)
             - max(CASE WHEN partner_group = 'US+EU' THEN imports_from_partner_usd END) AS difference
        FROM {MART} GROUP BY ALL""")
    assert (groups["difference"].abs() < 0.5).all()
    partners = query(built.settings, """
        SELECT year, flow_code, hs6, sum(CASE WHEN partner_code <> 0 THEN value_usd END) AS partners,
               sum(CASE WHEN partner_code = 0 THEN value_usd END) AS world
        FROM intermediate.int_china_trade_by_source WHERE source = 'BACI' GROUP BY ALL""")
    assert ((partners["partners"] - partners["world"]).abs() < 0.5).all()  # shares over all partners sum to 1


def test_the_trend_shows_the_patterns_the_sample_was_built_with(built):
    trend = query(built.settings, "SELECT * FROM marts.fct_self_reliance_trend WHERE partner_group = 'US+EU'")
    direction = dict(zip(trend["sector"], trend["measured_direction"], strict=True))
    assert direction["Rail"] == direction["Green energy"] == "falling dependency"
    assert trend.filter(pl.col("sector") == "Rail")["claim_agrees"][0] is True
    chip_tools = query(built.settings, """
        SELECT year, bool_or(is_persistent_dependency) AS persistent, bool_or(is_chokepoint) AS chokepoint
        FROM marts.fct_product_dependency WHERE sectors LIKE '%Chip-making equipment%' AND hs6 LIKE '8486%'
        GROUP BY year ORDER BY year""")
    assert chip_tools["chokepoint"].all() and chip_tools["persistent"].tail(len(YEARS) - 1).all()


def test_dbt_docs_generate(built, tmp_path):
    env = {**built.env, "TRADEDEP_WAREHOUSE": str(built.settings.warehouse_path)}
    result = subprocess.run(
        [BIN_DIR / "dbt", "docs", "generate", "--static", "--profiles-dir", ".", "--target-path", str(tmp_path)],
        env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=300,
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
    ("fct_mirror_gaps", _set("reported_by", "nobody"), "expect_column_values_to_be_in_set", "reported_by"),
    ("fct_mirror_gaps", _duplicate, "expect_compound_columns_to_be_unique", "hs6,partner_code,year"),
    ("fct_industry_import_penetration", _set("import_penetration", -0.5), "expect_column_values_to_be_between", "import_penetration"),
    ("dim_country", _duplicate, "expect_column_values_to_be_unique", "country_code"),
    ("dim_product", _set("hs6", None), "expect_column_values_to_not_be_null", "hs6"),
    ("dim_data_source", lambda f: f.iloc[1:], "expect_column_distinct_values_to_equal_set", "source"),
]


@pytest.mark.parametrize(("name", "breakage", "expectation", "column"), MART_BREAKAGES)
def test_each_mart_suite_names_the_invariant_bad_data_breaks(built, name, breakage, expectation, column):
    from dagster_project.quality.gx_runner import run_suite_in_batches
    from dagster_project.quality.mart_suites import MART_SUITES

    suite = next(suite for suite in MART_SUITES if suite.name == name)
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        expectations = suite.expectations(built.settings, con)
        frame = con.execute(f"SELECT * FROM {suite.table}").df()
    assert run_suite_in_batches(name, [frame], expectations).success  # the built mart passes
    outcome = run_suite_in_batches(name, [breakage(frame)], expectations)
    assert (expectation, column) in {(f.expectation, f.column) for f in outcome.failures}, outcome.summary()


# What analysts see: the UI, the exports, the report, the asset metadata.

GROUPS = {"raw", "seeds", "staging", "intermediate", "marts", "quality", "exports", "report"}
LOCATION = "dagster_project.definitions"


def marts(settings) -> list[str]:
    return query(settings, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1")["table_name"].to_list()


def chromium() -> str:
    binary = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no Chromium installed (apt-get install chromium); CI installs it")
    return binary


def render_dom(url: str) -> str:
    """The page's DOM after its scripts ran, as headless Chromium sees it."""
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1600,2400",
         "--virtual-time-budget=20000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def webserver(built):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**built.env, **built.settings.process_env()}
    process = subprocess.Popen([BIN_DIR / "dagster-webserver", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
                               env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()[-3000:]
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("the Dagster webserver did not answer within 120 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def graphql(url: str, text: str) -> dict:
    response = httpx.post(f"{url}/graphql", json={"query": text}, timeout=60)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_the_webserver_lists_every_asset_with_group_description_and_checks(webserver, built):
    nodes = graphql(webserver, """{ assetNodes { assetKey { path } groupName description kinds
        assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }""")["assetNodes"]
    by_key = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    from dagster_project.definitions import build_definitions

    saved = dict(os.environ)
    try:
        expected = {key.to_user_string() for key in build_definitions(built.settings).resolve_asset_graph().get_all_asset_keys()}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert set(by_key) == expected and len(expected) >= 40
    assert {node["groupName"] for node in nodes} == GROUPS
    assert all(node["description"] and node["kinds"] for node in nodes), [k for k, n in by_key.items() if not n["description"]]
    assert by_key["exports/mart_files"]["groupName"] == "exports" and by_key["report/dependency_report"]["groupName"] == "report"
    assert "great_expectations" in by_key["quality/validation_results_page"]["kinds"]
    checks = {key: {check["name"]: check["blocking"] for check in node["assetChecksOrError"]["checks"]} for key, node in by_key.items()}
    for table in ("raw/baci_trade", "raw/comtrade_flows", "raw/oecd_tiva", "raw/worldbank_indicators", *(f"marts/{m}" for m in marts(built.settings))):
        suite = f"gx_{table.replace('/', '_')}" if table.startswith("raw") else f"gx_{table.split('/')[1]}"
        assert checks[table].get(suite) is True, (table, checks[table])


def test_jobs_and_the_monthly_schedule_are_served_and_the_schedule_is_off(webserver):
    data = graphql(webserver, """{ repositoriesOrError { ... on RepositoryConnection { nodes {
        jobs { name } schedules { name cronSchedule scheduleState { status } } } } } }""")
    repository = data["repositoriesOrError"]["nodes"][0]
    assert {"build_all", "refresh_sources", "rebuild_marts", "export"} <= {job["name"] for job in repository["jobs"]}
    schedule = next(s for s in repository["schedules"] if s["name"] == "monthly_refresh")
    assert schedule["cronSchedule"] == "0 3 2 * *" and schedule["scheduleState"]["status"] == "STOPPED"


def test_the_browser_renders_the_asset_graph(webserver):
    graph = render_dom(f"{webserver}/locations/{LOCATION}/asset-groups/marts")
    drawn = {name for name in re.findall(r'data-tooltip="([a-z_]+)"', graph)}
    assert len(drawn & {"fct_sector_dependency", "fct_product_dependency", "fct_self_reliance_trend", "fct_mirror_gaps",
                        "fct_industry_import_penetration", "dim_sector", "dim_partner", "dim_country", "dim_product",
                        "dim_data_source"}) >= 3, drawn
    assert graph.count("<path") >= 10 and "Asset checks" in graph  # edges and node bodies were drawn
    lineage = render_dom(f"{webserver}/asset-groups")
    assert all(f">{group}<" in lineage for group in GROUPS)


def test_the_browser_renders_the_report_charts(built):
    page = built.settings.report_path
    dom = render_dom(page.as_uri())
    sectors = query(built.settings, "SELECT count(*) AS n FROM marts.dim_sector")["n"][0]
    assert dom.count('<svg class="chart"') == sectors + 2  # a panel per sector, the change chart, chokepoint counts
    assert len(re.findall(r'<path class="series" d="M[\d.]+,[\d.]+ L', dom)) == 2 * sectors  # US and EU27 lines
    assert dom.count('<rect class="bar') >= sectors
    assert "SYNTHETIC SAMPLE" in dom.split("<h1>")[0]


def test_the_exports_read_back_to_the_marts(built):
    folder = built.settings.exports_dir
    names = marts(built.settings)
    assert sorted(path.stem for path in folder.glob("*.parquet")) == names
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        for name in names:
            mart = con.sql(f"SELECT * FROM marts.{name}").pl()
            order = mart.columns
            schema = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                      "WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position", [name]).fetchall())
            from_polars = pl.read_parquet(folder / f"{name}.parquet")
            from_duckdb = con.sql(f"SELECT * FROM read_parquet('{folder / name}.parquet')").pl()
            from_csv = con.sql(f"SELECT * FROM read_csv('{folder / name}.csv', header = true, columns = ?)", params=[schema]).pl()
            for exported in (from_polars, from_duckdb, from_csv):
                assert_frame_equal(exported.sort(order, nulls_last=True), mart.sort(order, nulls_last=True))
    dictionary = (folder / "data_dictionary.md").read_text()
    assert "SYNTHETIC SAMPLE" in dictionary and all(f"## {name} (" in dictionary for name in names)
    assert not list(folder.glob(".*"))


def test_tables_show_columns_rows_and_a_preview_in_the_ui(built):
    os.environ["DAGSTER_HOME"] = str(built.settings.dagster_home)
    try:
        with dg.DagsterInstance.get() as instance:
            for key in (["raw", "baci_trade"], ["raw", "comtrade_flows"], ["marts", "fct_sector_dependency"]):
                metadata = instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization.metadata
                columns = [column.name for column in metadata["dagster/column_schema"].value.columns]
                assert metadata["dagster/row_count"].value > 0, key
                assert metadata["preview"].value.startswith("| " + " | ".join(columns) + " |"), key
            report = instance.get_latest_materialization_event(dg.AssetKey(["report", "dependency_report"]))
            assert report.asset_materialization.metadata["synthetic"].value is True
    finally:
        del os.environ["DAGSTER_HOME"]


def test_export_command_checks_first_and_exports_nothing_from_bad_marts(built, tmp_path):
    good = tradedep(built.env, "export", "--format", "csv", "--dest", str(tmp_path / "good"))
    assert good.returncode == 0, good.stderr
    assert sorted(p.stem for p in (tmp_path / "good").glob("*.csv")) == marts(built.settings)
    assert not list((tmp_path / "good").glob("*.parquet"))
    bad_warehouse = tmp_path / "bad.duckdb"
    shutil.copy(built.settings.warehouse_path, bad_warehouse)
    with duckdb.connect(str(bad_warehouse)) as con:
        con.execute("UPDATE marts.fct_product_dependency SET us_import_share = 2 WHERE hs6 = (SELECT min(hs6) FROM marts.fct_product_dependency)")
    bad = tradedep({**built.env, "TRADEDEP_WAREHOUSE": str(bad_warehouse)}, "export", "--dest", str(tmp_path / "bad"))
    assert bad.returncode == 1 and "nothing exported" in bad.stderr and "us_import_share" in bad.stdout
    assert not (tmp_path / "bad").exists()
    unknown = tradedep(built.env, "export", "--format", "xlsx", "--dest", str(tmp_path / "x"))
    assert unknown.returncode == 2 and "unknown export format xlsx" in unknown.stderr


def test_sql_reads_a_query_from_a_file(built, tmp_path):
    query_file = tmp_path / "q.sql"
    query_file.write_text("SELECT count(DISTINCT sector) AS sectors FROM marts.fct_sector_dependency")
    result = tradedep(built.env, "sql", "--file", str(query_file))
    assert result.returncode == 0 and "14" in result.stdout
    failed = tradedep(built.env, "sql", "SELECT * FROM no_such_table")
    assert failed.returncode == 1 and "no_such_table" in failed.stderr

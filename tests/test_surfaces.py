"""What analysts see: the Dagster UI (GraphQL and the rendered graph), the exports, the report, asset metadata.

Reads the session's sample build (the `built` fixture, made once for every worker); a test that writes works on a
copy (`built_copy`). Browser tests drive headless Chromium, which
`.ci/run` installs; outside CI they are skipped without it.
"""

import json
import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dagster_project.definitions import CODE_LOCATION
from dagster_project.settings import BIN_DIR, PROJECT_ROOT
from sample_build import instance_of, query, tradedep, tradedep_here

pytestmark = pytest.mark.pipeline
GROUPS = {"raw", "seeds", "staging", "intermediate", "marts", "quality", "exports", "report"}
LOCATION = CODE_LOCATION  # what `tradedep ui` serves (pyproject.toml's [tool.dagster])


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


@dataclass
class RunningUI:
    url: str
    process: subprocess.Popen  # `tradedep ui`


@pytest.fixture(scope="module")
def ui(built, tmp_path_factory):
    """`tradedep ui` (the webserver and daemon) over a copy of the session's build, as a user starts it; the last test
    of this file stops it."""
    from sample_build import copy_of

    served = copy_of(built, tmp_path_factory.mktemp("webserver") / "data")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([BIN_DIR / "tradedep", "ui", "--sample", "--port", str(port)], env=served.env,
                               cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
        yield RunningUI(url, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


@pytest.fixture
def webserver(ui) -> str:
    return ui.url


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

    expected = {key.to_user_string() for key in build_definitions(built.settings).resolve_asset_graph().get_all_asset_keys()}
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


def test_runs_of_tradedep_build_show_under_their_job_and_on_the_timeline(webserver, built):
    """The session's `tradedep build` run is listed on the build_all job's page (runs filtered by code location) and
    has the repository origin the Overview timeline groups runs by, as a run launched from the UI has."""
    with instance_of(built.settings) as instance:
        first_run = instance.get_runs()[-1]  # the session's build (runs come newest first)
    data = graphql(webserver, f"""{{
        pipelineOrError(params: {{pipelineName: "build_all", repositoryName: "__repository__",
                                  repositoryLocationName: "{LOCATION}"}}) {{ ... on Pipeline {{ runs {{ runId }} }} }}
        runOrError(runId: "{first_run.run_id}") {{ ... on Run {{ pipelineName
            repositoryOrigin {{ repositoryName repositoryLocationName }} }} }} }}""")
    assert first_run.run_id in {run["runId"] for run in data["pipelineOrError"]["runs"]}
    assert data["runOrError"] == {"pipelineName": "build_all", "repositoryOrigin": {
        "repositoryName": "__repository__", "repositoryLocationName": LOCATION}}


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
    charts = re.findall(r'<svg class="chart".*?</svg>', dom, flags=re.S)
    # a share panel and a suppliers panel per sector, the change chart, the chokepoint counts
    assert len(charts) == 2 * sectors + 2
    assert all("<title>" in chart and 'class="axis-label"' in chart for chart in charts)  # titled, axes labelled
    assert len(re.findall(r'<path class="series" d="M[\d.]+,[\d.]+ L', dom)) == 2 * sectors  # US and EU27 lines
    assert dom.count('<rect class="bar"') >= 2 * sectors
    assert "Who replaced the US and the EU" in dom and "SYNTHETIC SAMPLE" in dom.split("<h1>")[0]
    # The labels come from the build: its baseline is its first three years (2013-2015 lies outside it).
    trend = query(built.settings, "SELECT DISTINCT baseline_first_year, baseline_last_year, latest_first_year, "
                  "latest_last_year FROM marts.fct_self_reliance_trend").row(0)
    assert f"baseline {trend[0]}-{trend[1]}" in dom and f"latest {trend[2]}-{trend[3]}" in dom
    assert "2013" not in dom and "2015" not in dom


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
            if "hs6" in schema:  # quoted on every line, with its leading zeros
                lines = (folder / f"{name}.csv").read_text().splitlines()
                position = list(schema).index("hs6")
                codes = [row[position] for row in csv.reader(lines[1:])]
                assert lines[0].split(",")[position] == '"hs6"', name
                assert all(f'"{code}"' in line for code, line in zip(codes, lines[1:], strict=True) if code), name
                assert sorted(code for code in codes if code) == sorted(mart["hs6"].drop_nulls()), name
    products = pl.read_parquet(folder / "fct_product_dependency.parquet")
    assert products.equals(products.sort("hs6", "year"))  # sorted by the mart's key (its dbt unique test)
    dictionary = (folder / "data_dictionary.md").read_text()
    assert "SYNTHETIC SAMPLE" in dictionary and all(f"## {name} (" in dictionary for name in names)
    assert not list(folder.glob(".*"))


def test_tables_show_columns_rows_and_a_preview_in_the_ui(built):
    with instance_of(built.settings) as instance:
        for key in (["raw", "baci_trade"], ["raw", "comtrade_flows"], ["marts", "fct_sector_dependency"]):
            metadata = instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization.metadata
            columns = [column.name for column in metadata["dagster/column_schema"].value.columns]
            assert metadata["dagster/row_count"].value > 0, key
            assert metadata["preview"].value.startswith("| " + " | ".join(columns) + " |"), key
        report = instance.get_latest_materialization_event(dg.AssetKey(["report", "dependency_report"]))
        assert report.asset_materialization.metadata["synthetic"].value is True


def test_export_command_checks_first_and_exports_nothing_from_bad_marts(built_copy, tmp_path):
    built = built_copy  # the export validates the marts first, and records the results in the build's quality folder
    good = tradedep_here(built.env, "export", "--excel", "--dest", str(tmp_path / "good"))  # --excel: CSV only
    assert good.returncode == 0, good.stderr
    assert sorted(p.stem for p in (tmp_path / "good").glob("*.csv")) == marts(built.settings)
    assert not list((tmp_path / "good").glob("*.parquet"))
    products = (tmp_path / "good" / "fct_product_dependency.csv").read_text(encoding="utf-8-sig").splitlines()
    assert (tmp_path / "good" / "dim_country.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert all(line.startswith('"=""') for line in products[1:]) and any(line.startswith('"=""0') for line in products)
    bad_warehouse = tmp_path / "bad.duckdb"
    shutil.copy(built.settings.warehouse_path, bad_warehouse)
    with duckdb.connect(str(bad_warehouse)) as con:
        con.execute("UPDATE marts.fct_product_dependency SET us_import_share = 2 WHERE hs6 = (SELECT min(hs6) FROM marts.fct_product_dependency)")
    bad = tradedep_here({**built.env, "TRADEDEP_WAREHOUSE": str(bad_warehouse)}, "export", "--dest", str(tmp_path / "bad"))
    assert bad.returncode == 1 and "nothing exported" in bad.stderr and "us_import_share" in bad.stdout
    assert not (tmp_path / "bad").exists()
    unknown = tradedep_here(built.env, "export", "--format", "xlsx", "--dest", str(tmp_path / "x"))
    assert unknown.returncode == 2 and "unknown export format xlsx" in unknown.stderr


def test_sql_reads_a_query_from_a_file(built, tmp_path):
    query_file = tmp_path / "q.sql"
    query_file.write_text("SELECT count(DISTINCT sector) AS sectors FROM marts.fct_sector_dependency")
    result = tradedep(built.env, "sql", "--file", str(query_file))
    assert result.returncode == 0 and "14" in result.stdout
    failed = tradedep(built.env, "sql", "SELECT * FROM no_such_table")
    assert failed.returncode == 1 and "no_such_table" in failed.stderr


def mart_schema(con, name) -> dict[str, str]:
    return dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position", [name]).fetchall())


def test_sql_csv_and_json_give_back_a_whole_mart_exactly(built, tmp_path):
    """Every row and column, unqualified names (marts first), values exact: read back, they equal the mart."""
    for name in ("fct_product_dependency", "dim_country"):
        csv = tradedep(built.env, "sql", "--format", "csv", f"SELECT * FROM {name}")
        assert csv.returncode == 0, csv.stderr
        (tmp_path / f"{name}.csv").write_text(csv.stdout)
        out = tradedep(built.env, "sql", "--format", "json", "--out", str(tmp_path / f"{name}.json"), f"SELECT * FROM {name}")
        assert out.returncode == 0 and out.stdout == "", out.stderr
        with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
            schema = mart_schema(con, name)
            mart = con.sql(f"SELECT * FROM marts.{name}").pl().sort(list(schema), nulls_last=True)
            for reader in ("read_csv", "read_json"):
                path = tmp_path / f"{name}.{reader.removeprefix('read_')}"
                back = con.sql(f"SELECT * FROM {reader}(?, columns = ?)", params=[str(path), schema]).pl()
                assert_frame_equal(back.sort(list(schema), nulls_last=True), mart)


def test_sql_lists_every_table_with_its_dbt_description_marts_first(built):
    from dagster_project import dbt_docs

    result = tradedep(built.env, "sql", "--tables", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = {(row["schema"], row["name"]): row for row in json.loads(result.stdout)}
    schemas = [schema for schema, _ in listed]
    assert schemas[: len(marts(built.settings))] == ["marts"] * len(marts(built.settings))
    described = dbt_docs.relation_descriptions(dbt_docs.load())
    assert listed["marts", "fct_sector_dependency"]["description"] == described["marts", "fct_sector_dependency"]
    assert listed["raw", "baci_trade"]["description"].startswith("Trade flows as in the release CSVs")
    assert listed["staging", "stg_baci__trade"]["kind"] == "view"
    shown = tradedep(built.env, "sql", "SHOW TABLES", "--format", "csv")
    assert shown.stdout.splitlines()[1:] == [f'"{name}"' for name in marts(built.settings)]


def test_the_quality_page_says_synthetic_and_lists_raw_suites_first(built):
    from dagster_project.quality.mart_suites import MART_SUITES
    from dagster_project.quality.raw_suites import RAW_SUITES

    page = (built.settings.quality_dir / "index.html").read_text()
    assert "SYNTHETIC SAMPLE" in page.split("<h1>")[0]
    summary = page.split('<table class="summary">')[1].split("</table>")[0]
    assert re.findall(r"<a href='#(\w+)'>", summary) == [suite.name for suite in (*RAW_SUITES, *MART_SUITES)]
    assert "<td>value &gt; 0</td>" in page  # BACI values are strictly positive


def descendants(pid: int) -> set[int]:
    """Every process started by pid, and by those, from /proc."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_ctrl_c_to_the_ui_stops_the_webserver_and_daemon_it_started(ui):
    """Last in this file: it stops the module's UI. SIGINT (Ctrl-C) to `tradedep ui` ends dagster dev, the webserver,
    the daemon and the code servers: no process it started is left."""
    started = descendants(ui.process.pid)
    assert len(started) >= 3  # dagster dev, the webserver, the daemon (and code servers)
    ui.process.send_signal(signal.SIGINT)
    assert ui.process.wait(timeout=90) == 0
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started if running(pid)]

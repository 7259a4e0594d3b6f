"""`tradedep build` without --sample, against a local HTTP server that answers like every real source.

The answers are written in each source's real format by the sample generators and served at the URLs
the clients build; the build sees only HTTP. An API key is set to prove it never leaks.
"""

import json
import os
import re
import subprocess
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import duckdb
import pytest
from werkzeug import Request, Response

from dagster_project.sample import baci_sample, comtrade_sample, oecd_tiva_sample, worldbank_sample
from dagster_project.settings import BIN_DIR, PROJECT_ROOT, parse_months
from dagster_project.sources import comtrade, oecd_tiva, worldbank
from dagster_project.sources.baci import Release

pytestmark = pytest.mark.pipeline
API_KEY = "test-key-7f3a9c-never-logged"
PRODUCTS = ["854231", "848620"]
COMTRADE_YEARS = [2024]
COMTRADE_MONTHS = "2024-11..2025-02"  # across a year boundary
WDI_YEARS = (2022, 2024)  # the trade years, BACI's (2022-2023) and Comtrade's (2024)
RELEASE = Release("HS12", "V202501")


def route(url: str) -> tuple[str, frozenset]:
    parts = urlsplit(url)
    return parts.path, frozenset(parse_qsl(parts.query))


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict[tuple[str, frozenset], bytes]:
    """Every URL the clients will ask for, mapped to a real-format body."""
    folder = tmp_path_factory.mktemp("answers")
    base = "http://server"
    served: dict[tuple[str, frozenset], bytes] = {}
    baci_sample.write_release_zip(folder / RELEASE.zip_name, RELEASE)
    served[route(f"{base}/baci/{RELEASE.zip_name}")] = (folder / RELEASE.zip_name).read_bytes()
    months = parse_months(COMTRADE_MONTHS, date.today())
    requests = comtrade.plan_requests(PRODUCTS, COMTRADE_YEARS, keyed=True, months=months)
    for request, landed in zip(requests, comtrade_sample.write_sample(folder / "comtrade", requests, "HS12"), strict=True):
        served[route(request.url(base, keyed=True))] = landed.path.read_bytes()
    tiva_requests = oecd_tiva.plan_requests(version="1.0")
    for request, landed in zip(tiva_requests, oecd_tiva_sample.write_sample(folder / "tiva", tiva_requests, version="1.0"), strict=True):
        served[route(oecd_tiva.request_url(base, request, "1.0"))] = landed.path.read_bytes()
    for landed in worldbank_sample.write_sample(folder / "wdi", *WDI_YEARS):
        indicator, page = re.fullmatch(r"wdi_(.+)_\d{4}-\d{4}_p(\d+)\.json", landed.path.name).groups()
        served[route(worldbank.page_url(base, indicator, *WDI_YEARS, int(page)))] = landed.path.read_bytes()
    return served


@pytest.fixture(scope="module")
def live_build(answers, tmp_path_factory):
    from pytest_httpserver import HTTPServer

    seen: list[tuple[str, str | None]] = []

    def handler(request: Request) -> Response:
        seen.append((request.path, request.headers.get("Ocp-Apim-Subscription-Key")))
        body = answers.get((request.path, frozenset(request.args.items(multi=True))))
        return Response(body, status=200) if body is not None else Response("no such resource", status=404)

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(".*")).respond_with_handler(handler)
    server.start()
    data_dir = tmp_path_factory.mktemp("live") / "data"
    base = f"http://127.0.0.1:{server.port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k not in {"DAGSTER_HOME", "COMTRADE_API_KEY"}}
    env.update({
        "TRADEDEP_DATA_DIR": str(data_dir), "TRADEDEP_YEARS": "2022-2023",
        "TRADEDEP_BACI_URL": f"{base}/baci", "TRADEDEP_COMTRADE_URL": base, "TRADEDEP_OECD_URL": base,
        "TRADEDEP_WORLDBANK_URL": base, "TRADEDEP_COMTRADE_YEARS": "2024", "TRADEDEP_COMTRADE_MONTHS": COMTRADE_MONTHS,
        "TRADEDEP_COMTRADE_PRODUCTS": ",".join(PRODUCTS), "TRADEDEP_COMTRADE_THROTTLE": "0",
        "TRADEDEP_OECD_THROTTLE": "0", "COMTRADE_API_KEY": API_KEY,
    })
    try:
        first = build(env)
        requests_after_first = len(seen)
        second = build(env, "--select", 'key:"landing/*"')  # every source's landing again
        yield {"env": env, "data_dir": data_dir, "first": first, "second": second, "seen": seen,
               "requests_after_first": requests_after_first}
    finally:
        server.stop()


def build(env, *args):
    return subprocess.run([BIN_DIR / "tradedep", "build", *args], env=env, capture_output=True, text=True, timeout=900,
                          cwd=PROJECT_ROOT)


def query(data_dir: Path, sql: str):
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def materialised(data_dir: Path) -> list:
    """The asset keys the latest run of this data folder's Dagster history materialised."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        run = instance.get_runs(limit=1)[0]
        return [record.dagster_event.asset_key for record in instance.all_logs(run.run_id)
                if record.dagster_event and record.dagster_event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]


def test_the_build_loads_every_source_from_the_server(live_build):
    first = live_build["first"]
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert "SYNTHETIC" not in first.stdout  # nothing came from the sample
    sources = {row[0]: row[1:] for row in query(live_build["data_dir"],
               "SELECT source, is_enabled, row_count, is_synthetic FROM marts.dim_data_source")}
    assert set(sources) == {"baci", "comtrade", "oecd_tiva", "worldbank"}
    for name, (enabled, rows, synthetic) in sources.items():
        assert enabled and rows > 0 and not synthetic, name
    assert query(live_build["data_dir"], "SELECT DISTINCT year, data_source FROM marts.fct_sector_dependency ORDER BY 1") == [
        (2022, "CEPII BACI V202501 (HS12)"), (2023, "CEPII BACI V202501 (HS12)"),
        (2024, "UN Comtrade, China-reported (HS22 converted to HS12)")]
    paths = {path for path, _ in live_build["seen"]}
    assert {"/data/v1/get/C/A/HS", "/data/v1/get/C/M/HS"} <= paths  # the keyed endpoint, annual and monthly
    assert any(path.startswith("/public/rest/data/OECD.STI.PIE") for path in paths)
    assert any(path.startswith("/v2/country/CHN;USA;EUU/indicator/") for path in paths)


def test_comtrade_years_beyond_baci_come_from_china_reports(live_build):
    rows = query(live_build["data_dir"],
                 "SELECT source, min(year), max(year) FROM intermediate.int_year_source GROUP BY source ORDER BY source")
    assert rows == [("baci", 2022, 2023), ("comtrade", 2024, 2024)]
    period = "ref_year::INTEGER * 100 + coalesce(ref_month, 0)"  # ref_year is a SMALLINT
    loaded = query(live_build["data_dir"], f"SELECT freq_code, min({period}), max({period}) FROM raw.comtrade_flows "
                   "GROUP BY ALL ORDER BY ALL")
    assert loaded == [("A", 202400, 202400), ("M", 202411, 202502)]


def test_the_key_goes_only_in_the_header_and_is_written_nowhere(live_build):
    comtrade_calls = [key for path, key in live_build["seen"] if path.startswith("/data/v1/")]
    assert comtrade_calls and all(key == API_KEY for key in comtrade_calls)
    assert all(key is None for path, key in live_build["seen"] if not path.startswith("/data/v1/"))
    for run in (live_build["first"], live_build["second"]):
        assert API_KEY not in run.stdout + run.stderr
    # The grep covers Dagster's event log (every log line, asset metadata and error of the runs) and compute logs.
    assert list((live_build["data_dir"] / "dagster_home" / "history" / "runs").glob("*.db"))
    leaks = [path for path in live_build["data_dir"].rglob("*") if path.is_file() and API_KEY.encode() in path.read_bytes()]
    assert leaks == []
    manifest = json.loads((live_build["data_dir"] / "raw" / "comtrade" / "manifest.json").read_text())
    assert all(API_KEY not in name + json.dumps(entry) for name, entry in manifest.items())


def test_landing_again_fetches_nothing(live_build):
    second = live_build["second"]
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    landed = {key.to_user_string() for key in materialised(live_build["data_dir"])}
    assert landed == {"landing/baci_release", "landing/comtrade", "landing/oecd_tiva", "landing/worldbank"}
    assert len(live_build["seen"]) == live_build["requests_after_first"]  # every landed file was reused


def test_the_live_build_page_and_output_do_not_say_synthetic(live_build):
    page = (live_build["data_dir"] / "quality" / "index.html").read_text()
    assert 'class="synthetic"' not in page and "SYNTHETIC SAMPLE" not in live_build["first"].stdout


def test_an_unreachable_source_fails_with_its_cause_and_the_way_out_and_keeps_the_traceback_in_the_log(live_build, tmp_path):
    """Only Comtrade's landing (one step), in a new data folder, against a port where nothing listens."""
    env = {**live_build["env"], "TRADEDEP_DATA_DIR": str(tmp_path / "data"), "TRADEDEP_COMTRADE_URL": "http://127.0.0.1:9"}
    result = build(env, "--select", 'key:"landing/comtrade"')
    assert result.returncode == 1
    assert re.search(r"^\[1/1\] FAILED +landing/comtrade", result.stdout, re.M), result.stdout
    assert "Comtrade: http://127.0.0.1:9/" in result.stdout and "ConnectError" in result.stdout  # the cause
    assert "TRADEDEP_SOURCES=baci,oecd_tiva,worldbank tradedep build" in result.stdout  # the way out
    assert "Traceback" not in result.stdout + result.stderr and len(result.stdout.splitlines()) < 15
    log = Path(re.search(r"^Full log .*: (\S+)$", result.stdout, re.M).group(1)).read_text()
    assert "DownloadError" in log and "Stack Trace" in log

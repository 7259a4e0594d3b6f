"""The World Bank WDI client against a local HTTP server: URL, pages, the API's error answer, typed parse, sample."""

import csv
import json
import re

import polars as pl
import pytest
from conftest import REFERENCE_DIR, assert_too_many_bad_rows_fail, load_raw, needs_reference, quarantined, warehouse_rows
from conftest import clean_frame
from werkzeug import Request, Response

from dagster_project.sample import worldbank_sample
from dagster_project.sources import landing, quarantine, worldbank
from dagster_project.sources.worldbank import WorldBankFormatError

MANF = "NV.IND.MANF.CD"
GDP = "NY.GDP.MKTP.CD"
API_PATH = "/v2/country/CHN;USA;EUU/indicator/{}"
COUNTRY = {"CHN": ("CN", "China"), "EUU": ("EU", "European Union"), "USA": ("US", "United States")}
NAMES = {MANF: "Manufacturing, value added (current US$)", GDP: "GDP (current US$)"}
ERROR_ANSWER = '[{"message":[{"id":"120","key":"Invalid value","value":"The provided parameter value is not valid"}]}]'
WDI_DIR = REFERENCE_DIR / "wdi"
BULK_CSV = WDI_DIR / "API_NV.IND.MANF.CD_DS2_en_csv_v2_5363423.csv"
GDP_CSV = WDI_DIR / "wdi_api_CHN_USA_GDP_growth_inflation_2010-2024__rewritten.csv"


def api_row(indicator: str, iso3: str, year: int, value: float | None, decimal: int = 0) -> dict:
    """One row exactly as the API writes it (same keys, same order)."""
    country_id, name = COUNTRY[iso3]
    return {"indicator": {"id": indicator, "value": NAMES.get(indicator, indicator)},
            "country": {"id": country_id, "value": name}, "countryiso3code": iso3, "date": str(year),
            "value": value, "unit": "", "obs_status": "", "decimal": decimal}


def api_pages(rows: list[dict], per_page: int) -> list[str]:
    """The API's answers for rows split into pages: [header, rows], compact as the API writes it."""
    pages = max(1, -(-len(rows) // per_page))
    return [
        json.dumps([{"page": n, "pages": pages, "per_page": per_page, "total": len(rows), "sourceid": "2",
                     "lastupdated": "2025-07-01"}, rows[(n - 1) * per_page: n * per_page]], separators=(",", ":"))
        for n in range(1, pages + 1)
    ]


def serve_pages(httpserver, indicator: str, bodies: list[str]) -> None:
    """Answer each page number with its body, as the API does for ?page=n."""
    def handler(request: Request) -> Response:
        return Response(bodies[int(request.args["page"]) - 1], content_type="application/json;charset=utf-8")

    httpserver.expect_request(API_PATH.format(indicator)).respond_with_handler(handler)


def fetch(httpserver, landing_dir, indicators=(MANF,), first=2019, last=2021, **options):
    return worldbank.fetch(landing_dir, httpserver.url_for("/"), first, last, indicators=indicators, **options)


ROWS = [api_row(MANF, iso3, year, value) for iso3, year, value in [
    ("CHN", 2021, 4865830000000.0), ("CHN", 2020, 3853806000000.5), ("CHN", 2019, 3823408000000.0),
    ("EUU", 2021, 2526612000000.0), ("EUU", 2020, None), ("EUU", 2019, 2353417000000.0),
    ("USA", 2021, 2497132000000.0), ("USA", 2020, 2238323000000.0), ("USA", 2019, 2355960000000.0),
]]


def assert_nothing_landed(landing_dir):
    assert not landing_dir.exists() or sorted(p.name for p in landing_dir.iterdir()) == []


def test_url_parameters_and_file_layout(httpserver, tmp_path):
    serve_pages(httpserver, MANF, api_pages(ROWS, 1000))
    landed = fetch(httpserver, tmp_path / "wdi")
    request = httpserver.log[0][0]
    assert request.path == "/v2/country/CHN;USA;EUU/indicator/NV.IND.MANF.CD"
    assert request.args.to_dict() == {"format": "json", "per_page": "1000", "date": "2019:2021", "page": "1"}
    assert worldbank.page_url("https://api.worldbank.org/", MANF, 2000, 2024, 2) == (
        "https://api.worldbank.org/v2/country/CHN;USA;EUU/indicator/NV.IND.MANF.CD"
        "?format=json&per_page=1000&date=2000:2024&page=2"
    )
    assert [item.path.name for item in landed] == ["wdi_NV.IND.MANF.CD_2019-2021_p1.json"]
    manifest = json.loads((tmp_path / "wdi" / "manifest.json").read_text())
    entry = manifest["wdi_NV.IND.MANF.CD_2019-2021_p1.json"]
    assert entry["url"].endswith("date=2019:2021&page=1") and entry["synthetic"] is False
    assert entry["sha256"] == landing.sha256_of(landed[0].path)


def test_every_page_is_fetched_and_parsed_once(httpserver, tmp_path):
    bodies = api_pages(ROWS, 4)  # 3 pages of 4, 4 and 1 rows
    # The API can repeat a row across pages when data shift between requests: it must be kept once.
    page_two = json.loads(bodies[1])
    page_two[1].append(ROWS[0])
    bodies[1] = json.dumps(page_two)
    serve_pages(httpserver, MANF, bodies)
    landed = fetch(httpserver, tmp_path / "wdi")
    assert [item.path.name for item in landed] == [f"wdi_NV.IND.MANF.CD_2019-2021_p{n}.json" for n in (1, 2, 3)]
    assert [request.args["page"] for request, _ in httpserver.log] == ["1", "2", "3"]
    frame = clean_frame(worldbank.read([item.path for item in landed]))
    assert frame.height == 9 and frame.select(worldbank.KEY).is_unique().all()
    assert frame.filter((pl.col("country_iso3") == "EUU") & (pl.col("year") == 2020))["value"].to_list() == [None]


def test_parse_types_every_column(tmp_path):
    path = tmp_path / "page.json"
    rows = [api_row(MANF, "CHN", 2021, 4865830000000.0), api_row(MANF, "EUU", 2020, None, 1)]
    path.write_text(api_pages(rows, 1000)[0])
    frame = clean_frame(worldbank.read([path]))
    assert frame.schema == pl.Schema(worldbank.SCHEMA)
    assert frame.rows() == [
        (MANF, NAMES[MANF], "CHN", "China", 2021, 4865830000000.0, "", "", 0),
        (MANF, NAMES[MANF], "EUU", "European Union", 2020, None, "", "", 1),
    ]


def test_the_api_error_answer_names_the_indicator_and_lands_nothing(httpserver, tmp_path):
    httpserver.expect_request(API_PATH.format("NV.IND.BOGUS.CD")).respond_with_data(ERROR_ANSWER)
    expected = r"World Bank WDI.*refused indicator NV\.IND\.BOGUS\.CD: 120 Invalid value"
    with pytest.raises(landing.DownloadError, match=expected):
        fetch(httpserver, tmp_path / "wdi", indicators=("NV.IND.BOGUS.CD",))
    assert_nothing_landed(tmp_path / "wdi")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("<!DOCTYPE html><html><body>Service unavailable</body></html>", "text/html", "HTML"),
        ('[{"page":1,"pages":1,"per_page":1000,"total":9},[{"indicator":', "application/json", "not valid JSON"),
        ("", "application/json", "body is empty"),
        ('{"page":1}', "application/json", r"expected the API's \[header, rows\]"),
        (api_pages([{**ROWS[0], "date": None}], 1000)[0], "application/json", "none of its 1 records can be read"),
    ],
    ids=["html", "malformed-json", "empty", "wrong-shape", "no-readable-record"],
)
def test_a_bad_body_with_status_200_is_not_landed(httpserver, tmp_path, body, content_type, message):
    httpserver.expect_request(API_PATH.format(MANF)).respond_with_data(body, content_type=content_type)
    with pytest.raises(landing.DownloadError, match=f"World Bank WDI.*not valid.*{message}"):
        fetch(httpserver, tmp_path / "wdi")
    assert_nothing_landed(tmp_path / "wdi")


def test_429_is_retried_after_the_time_asked(httpserver, tmp_path):
    path = API_PATH.format(MANF)
    httpserver.expect_ordered_request(path).respond_with_response(
        Response("Rate limit is exceeded", status=429, headers={"Retry-After": "0"}))
    httpserver.expect_ordered_request(path).respond_with_data(api_pages(ROWS, 1000)[0])
    landed = fetch(httpserver, tmp_path / "wdi")
    assert len(httpserver.log) == 2 and clean_frame(worldbank.read([landed[0].path])).height == 9


def test_a_landed_file_is_reused_without_a_request_unless_refreshed(httpserver, tmp_path):
    serve_pages(httpserver, MANF, api_pages(ROWS, 5))
    first = fetch(httpserver, tmp_path / "wdi")
    assert len(httpserver.log) == 2
    again = fetch(httpserver, tmp_path / "wdi")
    assert len(httpserver.log) == 2 and [item.fetched_at for item in again] == [item.fetched_at for item in first]
    fetch(httpserver, tmp_path / "wdi", refresh=True)
    assert len(httpserver.log) == 4


def test_the_synthetic_sample_never_stands_in_for_a_download(httpserver, tmp_path):
    worldbank_sample.write_sample(tmp_path / "wdi", 2019, 2021)
    serve_pages(httpserver, GDP, api_pages([api_row(GDP, "CHN", 2021, 1.8e13)], 1000))
    landed = fetch(httpserver, tmp_path / "wdi", indicators=(GDP,))
    assert len(httpserver.log) == 1 and not landed[0].synthetic


def test_a_page_other_than_the_one_asked_is_refused(httpserver, tmp_path):
    bodies = api_pages(ROWS, 5)
    serve_pages(httpserver, MANF, [bodies[0], bodies[0]])  # a server ignoring ?page=
    with pytest.raises(landing.DownloadError, match="asked for page 2, the answer is page 1"):
        fetch(httpserver, tmp_path / "wdi")
    assert not (tmp_path / "wdi" / "wdi_NV.IND.MANF.CD_2019-2021_p2.json").exists()


def test_a_query_without_data_lands_one_empty_page(httpserver, tmp_path):
    empty = '[{"page":0,"pages":0,"per_page":0,"total":0,"sourceid":null,"lastupdated":null},null]'
    httpserver.expect_request(API_PATH.format(MANF)).respond_with_data(empty)
    landed = fetch(httpserver, tmp_path / "wdi")
    assert len(landed) == 1 and len(httpserver.log) == 1
    assert clean_frame(worldbank.read([landed[0].path])).height == 0


PAGE_NAME = "wdi_NV.IND.MANF.CD_2019-2021_p1.json"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"date": "2021Q1"}, "field 'date': expected a year as text like \"2021\", got '2021Q1'"),
        ({"value": "4.8E+12"}, "field 'value': expected a number or null, got '4.8E+12'"),
        ({"countryiso3code": ""}, "field 'countryiso3code': expected text, got ''"),
        ({"indicator": "NV.IND.MANF.CD"}, "field 'indicator': expected an object with a text id, got 'NV.IND.MANF.CD'"),
        ({"decimal": "0"}, "field 'decimal': expected a whole number, got '0'"),
    ],
)
def test_a_malformed_record_is_set_apart_with_the_file_number_and_reason(tmp_path, change, reason):
    bad = {**ROWS[1], **change}
    path = tmp_path / PAGE_NAME
    path.write_text(api_pages([ROWS[0], bad, ROWS[2]], 1000)[0])
    parsed = worldbank.read([path])
    assert parsed.frame["year"].to_list() == [2019, 2021]
    [quarantined_record] = parsed.bad_rows
    assert (quarantined_record.file, quarantined_record.line, quarantined_record.reason) == (PAGE_NAME, 2, reason)
    assert json.loads(quarantined_record.content) == bad
    assert quarantine.describe(quarantined_record, parsed.unit) == f"{PAGE_NAME}: record 2: {reason}"  # as logged


def test_a_page_with_a_bad_record_is_landed_for_the_load_to_quarantine(httpserver, tmp_path):
    serve_pages(httpserver, MANF, api_pages([ROWS[0], {**ROWS[1], "value": "n/a"}], 1000))
    [landed] = fetch(httpserver, tmp_path / "wdi")
    assert [bad.line for bad in worldbank.read([landed.path]).bad_rows] == [2]


def test_a_few_bad_records_go_to_quarantine_and_the_good_ones_load(settings, tmp_path):
    from dagster_project.assets.sources import worldbank_spec

    bad = {**ROWS[3], "date": "2021Q1"}
    path = tmp_path / PAGE_NAME
    path.write_text(api_pages([*ROWS[:3], bad], 1000)[0])
    for _ in range(2):  # a re-run replaces the page's quarantined records, it does not add to them
        parsed = load_raw(settings, worldbank_spec(), [path], max_bad_row_share=0.25)
    assert parsed.frame.height == 3 and len(parsed.bad_rows) == 1
    query = "SELECT country_iso3, year FROM raw.worldbank_indicators ORDER BY ALL"
    assert warehouse_rows(settings, query) == [("CHN", 2019), ("CHN", 2020), ("CHN", 2021)]
    [(source, file, line, reason, content)] = quarantined(settings)
    assert (source, file, line) == ("worldbank", PAGE_NAME, 4) and reason.startswith("field 'date'")
    assert json.loads(content) == bad


def test_too_many_bad_records_fail_naming_the_file_and_records_and_keep_the_loaded_table(settings, tmp_path):
    from dagster_project.assets.sources import worldbank_spec

    path = tmp_path / PAGE_NAME
    path.write_text(api_pages([*ROWS, {**ROWS[0], "date": None}], 1000)[0])
    assert_too_many_bad_rows_fail(
        settings, worldbank_spec(), path,
        api_pages([ROWS[0], {**ROWS[1], "value": "n/a"}, {**ROWS[2], "countryiso3code": None}], 1000)[0],
        rf"{re.escape(PAGE_NAME)}: 2 of 3 rows are malformed, more than TRADEDEP_MAX_BAD_ROW_SHARE=0\.5: "
        r"record 2: field 'value'.*; record 3: field 'countryiso3code'",
    )


def test_conflicting_values_for_one_year_are_refused(tmp_path):
    first, second = tmp_path / "p1.json", tmp_path / "p2.json"
    first.write_text(api_pages([ROWS[0]], 1000)[0])
    second.write_text(api_pages([{**ROWS[0], "value": 1.0}], 1000)[0])
    with pytest.raises(WorldBankFormatError, match=r"p1\.json, p2\.json: indicator NV.IND.MANF.CD, CHN 2021"):
        worldbank.read([first, second])


# --- the real recorded data (read only; skipped without the reference folder) ---

def reference_manufacturing() -> dict[tuple[str, int], float | None]:
    """(iso3, year) -> value from the real WDI bulk CSV (BOM, E notation, empty cells)."""
    with BULK_CSV.open(encoding="utf-8-sig", newline="") as handle:
        records = {row["Country Code"]: row for row in csv.DictReader(handle)}
    return {
        (iso3, year): float(records[iso3][str(year)]) if records[iso3][str(year)] else None
        for iso3 in COUNTRY for year in range(1960, 2022)
    }


def reference_gdp() -> dict[tuple[str, int], float]:
    """(iso3, year) -> GDP in current USD as pulled from the API and re-written as CSV."""
    iso3 = {"China": "CHN", "USA": "USA"}
    with GDP_CSV.open(encoding="utf-8", newline="") as handle:
        return {(iso3[row["country"]], int(row["year"])): float(row["value"])
                for row in csv.DictReader(handle) if row["indicator"] == "GDP"}


def api_rows_from(reference: dict[tuple[str, int], float | None], indicator: str) -> list[dict]:
    ordered = sorted(reference, key=lambda key: (COUNTRY[key[0]][1], -key[1]))  # the API's order
    return [api_row(indicator, iso3, year, reference[iso3, year]) for iso3, year in ordered]


@needs_reference(WDI_DIR)
@pytest.mark.parametrize(("indicator", "years"), [(MANF, (1960, 2021)), (GDP, (2010, 2024))])
def test_parse_matches_the_real_recorded_data_value_for_value(httpserver, tmp_path, indicator, years):
    reference = reference_manufacturing() if indicator == MANF else reference_gdp()
    serve_pages(httpserver, indicator, api_pages(api_rows_from(reference, indicator), 20))
    landed = fetch(httpserver, tmp_path / "wdi", indicators=(indicator,), first=years[0], last=years[1])
    assert len(landed) > 1
    frame = clean_frame(worldbank.read([item.path for item in landed]))
    parsed = {(iso3, year): value for iso3, year, value in frame.select("country_iso3", "year", "value").rows()}
    assert parsed == reference
    if indicator == MANF:
        assert parsed["CHN", 2021] == 4.87e12 and parsed["CHN", 1990] is None


# --- the synthetic sample ---

@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return worldbank_sample.write_sample(tmp_path_factory.mktemp("wdi"), 2000, 2024)


def test_the_sample_is_deterministic_and_marked_synthetic(sample, tmp_path):
    again = worldbank_sample.write_sample(tmp_path, 2000, 2024)
    assert [item.path.name for item in again] == [item.path.name for item in sample]
    assert all(a.path.read_bytes() == b.path.read_bytes() for a, b in zip(again, sample, strict=True))
    assert all(item.synthetic and item.url.startswith("sample://tradedep/worldbank/wdi_") for item in sample)
    assert landing.landed_file(sample[0].path) is not None


def test_the_sample_has_the_names_and_pages_fetch_lands(sample, httpserver, tmp_path):
    for indicator in worldbank.INDICATORS:
        pages = sorted((item for item in sample if f"_{indicator}_" in item.path.name), key=lambda i: i.path.name)
        serve_pages(httpserver, indicator, [item.path.read_text() for item in pages])
    fetched = fetch(httpserver, tmp_path / "wdi", indicators=tuple(worldbank.INDICATORS), first=2000, last=2024)
    assert [item.path.name for item in fetched] == [item.path.name for item in sample]
    assert [item.sha256 for item in fetched] == [item.sha256 for item in sample]
    assert sum(MANF in item.path.name for item in sample) >= 2  # several pages for one indicator


def test_the_sample_parses_with_plausible_magnitudes(sample):
    frame = clean_frame(worldbank.read([item.path for item in sample]))
    assert frame.height == len(worldbank.INDICATORS) * 3 * 25
    assert frame.filter(pl.col("year") == 2024)["value"].null_count() > 0  # unpublished latest values
    assert frame.filter(pl.col("year") < 2024)["value"].null_count() == 0
    rows = frame.filter(pl.col("indicator_id") == MANF).select("country_iso3", "year", "value").rows()
    manufacturing = {(iso3, year): value for iso3, year, value in rows}
    assert all(3e12 <= manufacturing["CHN", year] <= 5.5e12 for year in range(2016, 2025))
    assert all(2e12 <= manufacturing[iso3, 2021] <= 3e12 for iso3 in ("USA", "EUU"))
    shares = frame.filter(pl.col("indicator_id") == "NV.MNF.TECH.ZS.UN")["value"].drop_nulls()
    assert shares.min() > 20 and shares.max() < 70


@needs_reference(BULK_CSV)
def test_the_sample_is_of_the_real_order_of_magnitude(sample):
    real = reference_manufacturing()
    frame = clean_frame(worldbank.read([item.path for item in sample])).filter(pl.col("indicator_id") == MANF)
    for iso3, year, value in frame.select("country_iso3", "year", "value").rows():
        if 2010 <= year <= 2021:
            assert 0.7 < value / real[iso3, year] < 1.4, (iso3, year, value, real[iso3, year])

"""The UN Comtrade API v1 client against a local HTTP server: planning, landing, parsing, the sample."""

import csv
import json
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from conftest import REFERENCE_DIR, assert_too_many_bad_rows_fail, load_raw, needs_reference, quarantined, warehouse_rows
from conftest import clean_frame
from werkzeug import Response

from dagster_project.sample import comtrade_sample
from dagster_project.settings import DBT_PROJECT_DIR, DEFAULT_COMTRADE_URL
from dagster_project.sources import comtrade, landing, quarantine

KEY = "test-key-5f3a9c-SECRET"
COMTRADE_REFERENCE = REFERENCE_DIR / "comtrade"
EU_US_WORLD = {0, 842, *comtrade.EU27}
# The API's paths (reference/SOURCES.md), written out here so that the code's templates are checked against them.
ANNUAL_DATA, MONTHLY_DATA = "/data/v1/get/C/A/HS", "/data/v1/get/C/M/HS"
ANNUAL_PREVIEW, MONTHLY_PREVIEW = "/public/v1/preview/C/A/HS", "/public/v1/preview/C/M/HS"
MONTHS = [202512, *range(202601, 202612)]  # twelve months across a year boundary


def record(reporter=156, flow="M", partner=842, cmd="854231", year=2023, cif=1.5e9, fob=None, qty=None, month=None):
    """A record with every field of a real data answer (includeDesc=false leaves descriptions null): annual, or
    monthly when `month` is given (freqCode M, refMonth the month, period YYYYMM)."""
    primary = cif if cif is not None else fob
    period = str(year) if month is None else f"{year}{month:02d}"
    return {
        "typeCode": "C", "freqCode": "A" if month is None else "M",
        "refPeriodId": year * 10000 + (month or 1) * 100 + 1, "refYear": year,
        "refMonth": 52 if month is None else month, "period": period, "reporterCode": reporter, "reporterISO": None, "reporterDesc": None, "flowCode": flow,
        "flowDesc": None, "partnerCode": partner, "partnerISO": None, "partnerDesc": None, "partner2Code": 0,
        "partner2ISO": None, "partner2Desc": None, "classificationCode": "H6", "classificationSearchCode": "HS",
        "isOriginalClassification": True, "cmdCode": cmd, "cmdDesc": None, "aggrLevel": 6, "isLeaf": True,
        "customsCode": "C00", "customsDesc": None, "mosCode": "0", "motCode": 0, "motDesc": None,
        "qtyUnitCode": 5, "qtyUnitAbbr": None, "qty": qty, "isQtyEstimated": False, "altQtyUnitCode": 5,
        "altQtyUnitAbbr": None, "altQty": qty, "isAltQtyEstimated": False, "netWgt": None,
        "isNetWgtEstimated": False, "grossWgt": None, "isGrossWgtEstimated": False, "cifvalue": cif,
        "fobvalue": fob, "primaryValue": primary, "legacyEstimationFlag": 0, "isReported": True, "isAggregate": False,
    }


def answer(records, error=""):
    return json.dumps({"elapsedTime": "0.12 secs", "count": len(records), "data": records, "error": error}, indent=4)


def one_request(keyed=False, products=("854231",)):
    return comtrade.plan_requests(list(products), [2023], keyed=keyed)[0]


def fetch(httpserver, landing_dir, requests, api_key=None, **options):
    return comtrade.fetch(requests, landing_dir, httpserver.url_for("").rstrip("/"), api_key, throttle_seconds=0,
                          **options)


def assert_nothing_landed(landing_dir):
    assert not landing_dir.exists() or [p.name for p in landing_dir.iterdir()] == []


# ---------------------------------------------------------------- planning


def path_and_params(request, keyed=True):
    url = urlsplit(request.url("https://comtradeapi.un.org", keyed=keyed))
    return url.path, {name: values[0] for name, values in parse_qs(url.query).items()}


def test_urls_and_parameters():
    plan = comtrade.plan_requests(["854231", "848620"], [2022, 2023], keyed=True, months=[202512, 202601])
    assert [(r.freq_code, r.flow_codes) for r in plan] == [("A", ("M",)), ("A", ("X",)), ("A", ("X",)),
                                                           ("M", ("M",)), ("M", ("X",))]
    imports, exports, mirror, monthly_imports, monthly_exports = plan
    path, params = path_and_params(imports)
    assert path == ANNUAL_DATA
    assert params == {  # no partnerCode: every partner, the World aggregate included
        "reporterCode": "156", "partner2Code": "0", "cmdCode": "848620,854231", "flowCode": "M", "period": "2022,2023",
        "motCode": "0", "customsCode": "C00", "maxRecords": "100000", "includeDesc": "false",
    }
    _, params = path_and_params(exports)
    assert (params["reporterCode"], params["partnerCode"], params["flowCode"]) == (
        "156", ",".join(map(str, [0, *comtrade.EU27, 842])), "X")
    _, params = path_and_params(mirror)
    assert (params["reporterCode"], params["partnerCode"], params["flowCode"]) == (
        ",".join(map(str, [*comtrade.EU27, 842])), "156", "X")
    path, params = path_and_params(monthly_imports)
    assert path == MONTHLY_DATA and params["period"] == "202512,202601" and params["flowCode"] == "M"
    assert params["partnerCode"] == ",".join(map(str, [0, 842, *comtrade.EU27, 392, 410, 490]))
    path, params = path_and_params(monthly_exports)
    assert path == MONTHLY_DATA and (params["partnerCode"], params["flowCode"]) == ("0", "X")
    assert path_and_params(imports, keyed=False)[0] == ANNUAL_PREVIEW
    assert path_and_params(monthly_imports, keyed=False)[0] == MONTHLY_PREVIEW
    assert imports.url("https://example.org/", keyed=True).startswith(f"https://example.org{ANNUAL_DATA}?")


def cells(planned):
    """Every (reporter, partner, product, period, flow, frequency) the requests ask for; '*' = every partner."""
    return [(rep, par, cmd, period, flow, r.freq_code) for r in planned for rep in r.reporter_codes
            for par in (r.partner_codes or ("*",)) for cmd in r.cmd_codes for period in r.periods for flow in r.flow_codes]


def test_the_plan_covers_every_flow_once_and_no_request_can_reach_the_preview_limit():
    products = [f"8542{n:02d}" for n in range(30)] + ["848620", "848610"]
    years = [2023, 2024, 2025]
    planned = comtrade.plan_requests(products, years, keyed=False, months=MONTHS)
    assert all(r.record_estimate < comtrade.PREVIEW_MAX_RECORDS == r.max_records for r in planned)
    assert all(len(r.url(DEFAULT_COMTRADE_URL, keyed=False)) <= comtrade.MAX_URL_CHARS for r in planned)
    asked = cells(planned)
    imports = {(156, "*", c, y, "M", "A") for c in products for y in years}
    exports = {(156, p, c, y, "X", "A") for p in EU_US_WORLD for c in products for y in years}
    mirror = {(r, 156, c, y, "X", "A") for r in EU_US_WORLD - {0} for c in products for y in years}
    monthly_imports = {(156, p, c, m, "M", "M") for p in comtrade.MONTHLY_PARTNERS for c in products for m in MONTHS}
    monthly_exports = {(156, 0, c, m, "X", "M") for c in products for m in MONTHS}
    assert len(asked) == len(set(asked)) and set(asked) == imports | exports | mirror | monthly_imports | monthly_exports


def test_a_request_for_every_partner_is_sized_by_the_assumed_number_of_partners():
    products = [f"8542{n:02d}" for n in range(30)]
    for keyed in (False, True):
        every_partner = [r for r in comtrade.plan_requests(products, [2023, 2024], keyed=keyed) if not r.partner_codes]
        assert sum(len(r.cmd_codes) * len(r.periods) for r in every_partner) == 60
        for request in every_partner:
            assert request.record_estimate == comtrade.ALL_PARTNERS_ESTIMATE * len(request.cmd_codes) * len(request.periods)
            assert request.record_estimate < request.max_records
    # Keyless, one product and year already gives up to 250 records: two would reach the preview's 500.
    keyless = [r for r in comtrade.plan_requests(products, [2023, 2024], keyed=False) if not r.partner_codes]
    assert len(keyless) == 60 and {(len(r.cmd_codes), len(r.periods)) for r in keyless} == {(1, 1)}


def test_a_keyed_plan_of_many_products_keeps_every_url_within_4096_characters():
    products = [f"{n:06d}" for n in range(10000, 12500)]
    planned = comtrade.plan_requests(products, [2023], keyed=True, months=MONTHS)
    assert all(len(r.url(DEFAULT_COMTRADE_URL, keyed=True)) <= comtrade.MAX_URL_CHARS for r in planned)
    assert all(r.record_estimate < r.max_records == comtrade.KEYED_MAX_RECORDS for r in planned)
    for freq, flow, partners in (("A", "M", ()), ("M", "M", comtrade.MONTHLY_PARTNERS), ("M", "X", (0,))):
        group = [r for r in planned if (r.freq_code, r.flow_codes, r.partner_codes) == (freq, (flow,), partners)]
        assert sum(len(r.cmd_codes) * len(r.periods) for r in group) == len(products) * (1 if freq == "A" else 12)


def test_annual_and_monthly_requests_land_in_different_files():
    annual = comtrade.ComtradeRequest((156,), (0,), ("854231",), ("X",), (202512,), 500, freq_code="A")
    monthly = replace(annual, freq_code="M")
    assert annual.params() == monthly.params() and annual.file_name != monthly.file_name
    assert annual.file_name.startswith("comtrade_A_") and monthly.file_name.startswith("comtrade_M_")
    names = [r.file_name for r in comtrade.plan_requests(["854231", "848620"], [2025], keyed=False, months=MONTHS)]
    assert len(names) == len(set(names))


def test_codes_must_be_six_digit_text_and_months_yyyymm():
    with pytest.raises(ValueError, match="6 digits"):
        comtrade.plan_requests(["8542"], [2023], keyed=False)
    with pytest.raises(ValueError, match="YYYYMM"):
        comtrade.plan_requests(["854231"], [2023], keyed=False, months=[202513])
    with pytest.raises(ValueError, match="YYYYMM"):
        comtrade.plan_requests(["854231"], [2023], keyed=False, months=[2025])


def test_the_monthly_partners_are_the_partner_groups_members():
    with (DBT_PROJECT_DIR / "seeds" / "partner_group.csv").open(newline="") as handle:
        members = {int(row["country_code"]) for row in csv.DictReader(handle) if row["country_code"]}
    assert set(comtrade.MONTHLY_PARTNERS) == {comtrade.WORLD, *members}


# ---------------------------------------------------------------- fetching


def test_the_key_goes_only_in_the_header(httpserver, tmp_path):
    httpserver.expect_request(ANNUAL_DATA).respond_with_data(answer([record()]), content_type="application/json")
    request = one_request(keyed=True)
    [landed] = fetch(httpserver, tmp_path / "raw", [request], api_key=KEY)
    seen, _ = httpserver.log[0]
    assert seen.headers[comtrade.KEY_HEADER] == KEY
    assert KEY not in seen.url and KEY not in seen.query_string.decode()
    assert parse_qs(seen.query_string.decode())["motCode"] == ["0"]
    assert landed.path.name == request.file_name and landed.url.startswith(httpserver.url_for(ANNUAL_DATA))
    for path in (tmp_path / "raw").iterdir():
        assert KEY not in path.name and KEY not in path.read_text()
    manifest = json.loads((tmp_path / "raw" / "manifest.json").read_text())
    assert manifest[request.file_name]["synthetic"] is False and KEY not in json.dumps(manifest)


def test_without_a_key_the_preview_is_asked_and_no_key_header_is_sent(httpserver, tmp_path):
    httpserver.expect_request(ANNUAL_PREVIEW).respond_with_data(answer([record()]))
    fetch(httpserver, tmp_path / "raw", [one_request()])
    seen, _ = httpserver.log[0]
    assert comtrade.KEY_HEADER not in seen.headers


def test_a_plan_for_the_keyed_endpoint_is_refused_without_a_key(httpserver, tmp_path):
    with pytest.raises(ValueError, match="COMTRADE_API_KEY"):
        fetch(httpserver, tmp_path / "raw", [one_request(keyed=True)])
    assert httpserver.log == []


def test_429_is_retried_after_retry_after(httpserver, tmp_path, fake_time):
    busy = Response('{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}',
                    status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request(ANNUAL_DATA).respond_with_response(busy)
    httpserver.expect_ordered_request(ANNUAL_DATA).respond_with_data(answer([record()]))
    [landed] = fetch(httpserver, tmp_path / "raw", [one_request(keyed=True)], api_key=KEY)
    assert fake_time.sleeps == [1.0] and len(httpserver.log) == 2
    assert clean_frame(comtrade.read(landed.path)).height == 1


def test_a_preview_answer_at_the_cap_is_an_error_not_a_silent_truncation(httpserver, tmp_path):
    records = [record(cmd=f"{854200 + n % 90}", year=2000 + n // 90) for n in range(500)]
    httpserver.expect_request(ANNUAL_PREVIEW).respond_with_data(answer(records))
    expected = r"UN Comtrade: .*http://.*/preview/.*exceeds the preview limit.*COMTRADE_API_KEY"
    with pytest.raises(landing.DownloadError, match=expected):
        fetch(httpserver, tmp_path / "raw", [one_request()])
    assert_nothing_landed(tmp_path / "raw")


def test_count_0_is_an_empty_result(httpserver, tmp_path):
    httpserver.expect_request(ANNUAL_PREVIEW).respond_with_data(answer([]))
    [landed] = fetch(httpserver, tmp_path / "raw", [one_request()])
    frame = clean_frame(comtrade.read(landed.path))
    assert frame.height == 0 and frame.schema == pl.Schema(comtrade.SCHEMA)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<!DOCTYPE html><html><body>Service unavailable</body></html>", "HTML page"),
        (answer([record()])[:-40], "not valid JSON"),
        ('{"statusCode": 401, "message": "Access denied due to invalid subscription key."}', "answered an error: 401"),
        (answer([], error="Invalid parameter: cmdCode"), "answered an error: Invalid parameter"),
        (json.dumps({"elapsedTime": "0.1 secs", "count": 1, "data": [{"refYear": 2023}], "error": ""}), "no field"),
    ],
    ids=["html", "malformed-json", "gateway-error", "api-error", "bad-record"],
)
def test_a_bad_answer_with_status_200_is_not_landed(httpserver, tmp_path, body, message):
    httpserver.expect_request(ANNUAL_DATA).respond_with_data(body, content_type="text/html")
    with pytest.raises(landing.DownloadError, match=f"UN Comtrade: .*{ANNUAL_DATA}.*{message}") as caught:
        fetch(httpserver, tmp_path / "raw", [one_request(keyed=True)], api_key=KEY)
    assert KEY not in str(caught.value)
    assert_nothing_landed(tmp_path / "raw")


def test_a_landed_file_is_reused_without_a_request_and_the_throttle_only_spaces_network_calls(
    httpserver, tmp_path, fake_time
):
    httpserver.expect_request(ANNUAL_PREVIEW).respond_with_data(answer([record()]))
    first, second, third = comtrade.plan_requests([f"8542{n:02d}" for n in range(17)], [2023], keyed=False)[:3]
    options = {"throttle_seconds": 6.0}
    base = httpserver.url_for("").rstrip("/")
    comtrade.fetch([first, second], tmp_path / "raw", base, None, **options)
    assert len(httpserver.log) == 2 and fake_time.sleeps == [6.0]
    landed = comtrade.fetch([first, second, third], tmp_path / "raw", base, None, **options)
    assert len(httpserver.log) == 3 and fake_time.sleeps == [6.0]  # two reused, one network call: no pause
    assert [f.path.name for f in landed] == [first.file_name, second.file_name, third.file_name]
    comtrade.fetch([first], tmp_path / "raw", base, None, refresh=True, **options)
    assert len(httpserver.log) == 4


def test_a_monthly_request_is_asked_at_the_monthly_path(httpserver, tmp_path):
    plan = comtrade.plan_requests(["854231"], [2025], keyed=True, months=MONTHS)
    annual, monthly = plan[0], plan[3]
    httpserver.expect_request(ANNUAL_DATA).respond_with_data(answer([record(year=2025)]))
    httpserver.expect_request(MONTHLY_DATA).respond_with_data(answer([record(year=2025, month=12)]))
    first, second = fetch(httpserver, tmp_path / "raw", [annual, monthly], api_key=KEY)
    assert [seen.path for seen, _ in httpserver.log] == [ANNUAL_DATA, MONTHLY_DATA]
    assert parse_qs(httpserver.log[1][0].query_string.decode())["period"] == [",".join(map(str, MONTHS))]
    assert clean_frame(comtrade.read(first.path))["freq_code"].to_list() == ["A"]
    assert clean_frame(comtrade.read(second.path)).select("freq_code", "ref_year", "ref_month").row(0) == ("M", 2025, 12)


# ---------------------------------------------------------------- parsing


@needs_reference(COMTRADE_REFERENCE)
def test_parse_the_real_data_answer_value_for_value():
    frame = clean_frame(comtrade.read(COMTRADE_REFERENCE / "data_v1_get_C_A_HS__reporter156_partner32-276_2010_TOTAL.json"))
    assert frame.schema == pl.Schema(comtrade.SCHEMA)
    common = ("A", 2010, None, 156)  # annual: refMonth 52 is no month
    tail = (0, "H3", "TOTAL", 0, "C00")
    assert frame.rows() == [
        (*common, "M", 32, *tail, 6804128143.0, None, 6804128143.0, None, None, True, False),
        (*common, "M", 276, *tail, 74251272075.0, None, 74251272075.0, None, None, True, False),
        (*common, "X", 32, *tail, None, 6115764185.0, 6115764185.0, None, None, True, False),
        (*common, "X", 276, *tail, None, 68047133397.0, 68047133397.0, None, None, True, False),
    ]


@needs_reference(COMTRADE_REFERENCE)
def test_parse_the_real_preview_answer_value_for_value(tmp_path):
    name = "public_v1_preview_C_A_HS__reporter842_partner410_2024_M_8703xx__envelope.json"
    envelope = json.loads((COMTRADE_REFERENCE / name).read_text())
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(envelope["response"]))
    frame = clean_frame(comtrade.read(path))
    expected = [
        ("A", 2024, None, 842, "M", 410, 0, "H6", r["cmdCode"], 0, "C00", r["cifvalue"], r["fobvalue"],
         r["primaryValue"], r["qty"], r["netWgt"], True, False)
        for r in envelope["response"]["data"]
    ]
    assert frame.rows() == expected and frame.height == 10
    assert frame.row(0) == ("A", 2024, None, 842, "M", 410, 0, "H6", "870321", 0, "C00", 4140.0, 4139.0, 4140.0, 1.0,
                            326.199, True, False)


def test_parse_monthly_records_in_the_real_layout(tmp_path):
    """An answer to a monthly preview request, wrapped like the recorded preview answer (envelope with its
    request_url): the records carry freqCode M, refMonth 1-12 and period YYYYMM."""
    records = [record(year=2025, month=12, cif=2.5e8), record(year=2026, month=1, cif=1.25e8),
               record(year=2026, month=1, partner=0, cif=9.0e8, qty=1200.0)]
    envelope = {
        "accessed_date": "2026-12-01",
        "request_url": "https://comtradeapi.un.org/public/v1/preview/C/M/HS?reporterCode=156&period=202512,202601"
                       "&partnerCode=0,842&cmdCode=854231&flowCode=M",
        "response": {"elapsedTime": "0.31 secs", "count": 3, "data": records, "error": ""},
    }
    path = tmp_path / "monthly.json"
    path.write_text(json.dumps(envelope["response"]))
    frame = clean_frame(comtrade.read(path))
    assert frame.select("freq_code", "ref_year", "ref_month", "partner_code", "cif_value", "qty").rows() == [
        ("M", 2025, 12, 842, 2.5e8, None), ("M", 2026, 1, 842, 1.25e8, None), ("M", 2026, 1, 0, 9.0e8, 1200.0)]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({**record(), "cmdCode": 854231}, "field 'cmdCode' is 854231, expected str"),
        ({**record(), "primaryValue": "1e9"}, "field 'primaryValue' is '1e9', expected float"),
        ({**record(), "reporterCode": None}, "field 'reporterCode' is null"),
        ({**record(), "isReported": 1}, "field 'isReported' is 1, expected bool"),
        (record(year=70000), "field 'refYear' is 70000, beyond the range of its column ref_year"),
        ({key: value for key, value in record().items() if key != "flowCode"}, "no field 'flowCode'"),
        (["not", "a", "record"], "a list, expected an object"),
        ({**record(month=3), "refMonth": 13}, "field 'refMonth' is 13, expected a month from 1 to 12 in a monthly record"),
        ({**record(month=3), "refMonth": "03"}, "field 'refMonth' is '03', expected int"),
        ({key: value for key, value in record(month=3).items() if key != "refMonth"}, "no field 'refMonth'"),
        ({**record(month=3), "period": "2023"}, "field 'period' is '2023', expected '202303' for refYear 2023, refMonth 3"),
        ({**record(month=3), "period": 202303}, "field 'period' is 202303, expected str"),
        ({**record(), "refMonth": 3}, "field 'refMonth' is 3, expected 52 in an annual record"),
        ({**record(), "freqCode": "Q"}, "field 'freqCode' is 'Q', expected one of A, M"),
    ],
)
def test_a_malformed_record_is_set_apart_with_the_file_number_and_reason(tmp_path, bad, reason):
    path = tmp_path / "bad.json"
    path.write_text(answer([record(), bad, record(partner=276)]))
    parsed = comtrade.read(path)
    assert parsed.frame["partner_code"].to_list() == [842, 276]
    [quarantined_record] = parsed.bad_rows
    assert (quarantined_record.file, quarantined_record.line, quarantined_record.reason) == ("bad.json", 2, reason)
    assert json.loads(quarantined_record.content) == bad
    assert quarantine.describe(quarantined_record, parsed.unit) == f"bad.json: record 2: {reason}"  # as logged


def test_a_few_bad_records_go_to_quarantine_and_the_good_ones_load(settings, tmp_path):
    from dagster_project.assets.sources import comtrade_spec

    path = tmp_path / "comtrade_a.json"
    bad = {**record(partner=40), "primaryValue": "n/a"}
    path.write_text(answer([record(), record(partner=276), bad]))
    for _ in range(2):  # a re-run replaces the file's quarantined records, it does not add to them
        parsed = load_raw(settings, comtrade_spec(), [path])
    assert parsed.frame.height == 2 and len(parsed.bad_rows) == 1
    assert warehouse_rows(settings, "SELECT ref_year, partner_code FROM raw.comtrade_flows ORDER BY ALL") == [
        (2023, 276), (2023, 842)
    ]
    [(source, file, line, reason, content)] = quarantined(settings)
    assert (source, file, line) == ("comtrade", "comtrade_a.json", 3)
    assert reason == "field 'primaryValue' is 'n/a', expected float"
    assert json.loads(content) == bad


def test_annual_and_monthly_rows_of_a_year_load_together_and_the_table_holds_what_is_asked(settings, tmp_path):
    from dagster_project.assets.sources import comtrade_spec

    annual, monthly = tmp_path / "comtrade_A_1.json", tmp_path / "comtrade_M_1.json"
    annual.write_text(answer([record(year=2025), record(year=2025, partner=276)]))
    monthly.write_text(answer([record(year=2025, month=12), record(year=2026, month=1),
                               {**record(year=2026, month=2), "refMonth": 14}]))
    query = "SELECT freq_code, ref_year, ref_month, partner_code FROM raw.comtrade_flows ORDER BY ALL"
    for _ in range(2):  # a re-run replaces the rows, it does not add to them
        load_raw(settings, comtrade_spec(), [annual, monthly])
    assert warehouse_rows(settings, query) == [("A", 2025, None, 276), ("A", 2025, None, 842), ("M", 2025, 12, 842),
                                               ("M", 2026, 1, 842)]
    [(source, file, line, reason, _)] = quarantined(settings)
    assert (source, file, line) == ("comtrade", "comtrade_M_1.json", 3) and reason.startswith("field 'refMonth' is 14")
    load_raw(settings, comtrade_spec(), [annual])  # TRADEDEP_COMTRADE_MONTHS=none: no monthly rows are left behind
    assert warehouse_rows(settings, query) == [("A", 2025, None, 276), ("A", 2025, None, 842)]


def test_a_raw_table_left_by_an_older_version_is_created_anew(settings):
    from dagster_project import raw_tables
    from dagster_project.warehouse import connect

    with connect(settings.warehouse_path) as con:  # the layout before the monthly view: no freq_code, no ref_month
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.comtrade_flows (ref_year SMALLINT NOT NULL, cmd_code VARCHAR NOT NULL)")
        con.execute("INSERT INTO raw.comtrade_flows VALUES (2023, '854231')")
        raw_tables.create_all(con)
        assert con.execute("SELECT count(*) FROM raw.comtrade_flows").fetchall() == [(0,)]  # its raw asset reloads it
        con.execute("INSERT INTO raw.comtrade_flows (freq_code, ref_year, reporter_code, flow_code, partner_code, "
                    "cmd_code, synthetic) VALUES ('A', 2023, 156, 'M', 0, '854231', false)")
        raw_tables.create_all(con)  # a table of the current layout is left as it is
    columns = [row[0] for row in warehouse_rows(settings, "DESCRIBE raw.comtrade_flows")]
    assert columns == raw_tables.column_names("raw.comtrade_flows")
    assert columns[:3] == ["freq_code", "ref_year", "ref_month"]
    assert warehouse_rows(settings, "SELECT count(*) FROM raw.comtrade_flows") == [(1,)]


def test_too_many_bad_records_fail_naming_the_file_and_records_and_keep_the_loaded_table(settings, tmp_path):
    from dagster_project.assets.sources import comtrade_spec

    path = tmp_path / "comtrade_a.json"
    path.write_text(answer([record(), record(partner=276), {**record(partner=40), "qty": "n/a"}]))
    assert_too_many_bad_rows_fail(
        settings, comtrade_spec(), path,
        answer([record(partner=40), {**record(), "cmdCode": None}, {**record(), "refYear": "2023"}]),
        r"comtrade_a\.json: 2 of 3 rows are malformed, more than TRADEDEP_MAX_BAD_ROW_SHARE=0\.5: "
        r"record 2: field 'cmdCode' is null; record 3: field 'refYear'",
    )


# ---------------------------------------------------------------- the sample (its world: test_sample.py)


def test_the_sample_is_not_reused_as_a_real_download(httpserver, tmp_path):
    request = one_request()
    comtrade_sample.write_sample(tmp_path / "raw", [request], "HS12")
    httpserver.expect_request(ANNUAL_PREVIEW).respond_with_data(answer([record()]))
    [landed] = fetch(httpserver, tmp_path / "raw", [request])
    assert len(httpserver.log) == 1 and landed.synthetic is False

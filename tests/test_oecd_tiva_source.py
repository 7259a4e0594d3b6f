"""The OECD TiVA client against a local HTTP server, its parser, and the synthetic sample."""

import csv
import json

import polars as pl
import pytest
from conftest import REFERENCE_DIR, assert_too_many_bad_rows_fail, load_raw, needs_reference, quarantined, warehouse_rows
from conftest import clean_frame
from werkzeug import Response

from dagster_project.sample import oecd_tiva_sample
from dagster_project.sources import landing, oecd_tiva, quarantine
from dagster_project.sources.oecd_tiva import TivaFormatError, TivaRequest
from dagster_project.sources.quarantine import BadRow

TIVA_REFERENCE_DIR = REFERENCE_DIR / "oecd_tiva"
HEADER = (
    "DATAFLOW,ACTION,MEASURE,REF_AREA,ACTIVITY,COUNTERPART_AREA,UNIT_MEASURE,FREQ,TIME_PERIOD,OBS_VALUE,"
    "UNIT_MULT,CONTACT,DATA_COMP,STAT_CONC_DEF\n"
)
FLOW = "OECD.STI.PIE:DSD_TIVA_MAINLV@DF_MAINLV(1.0)"


def row(measure="PROD", area="CHN", activity="C26", year=2019, value="1234.5", mult='"6"', counterpart="W") -> str:
    # Shaped like the recorded rows: quoted codes, one field fewer than the header.
    return (
        f'{FLOW},I,"{measure}","{area}","{activity}","{counterpart}","USD","A",{year},{value},{mult},'
        '"[object Object]","[object Object]"\n'
    )


GOOD_CSV = HEADER + row(year=2019, value="1234.5") + row(year=2020, value="") + row(activity="C", value="47066307")
REQUEST = TivaRequest("PROD", ("CHN", "W"), ("C", "C26"), start_year=2019, end_year=2020)
PATH = "/public/rest/data/OECD.STI.PIE,DSD_TIVA_MAINLV@DF_MAINLV,1.0/PROD.CHN+W.C+C26.W.USD.A"


def fetch(httpserver, landing_dir, requests=(REQUEST,), **kwargs):
    return oecd_tiva.fetch(list(requests), landing_dir, httpserver.url_for("/"), **{"throttle_seconds": 0, **kwargs})


def write(tmp_path, text, name="answer.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_url_has_the_key_in_dimension_order_and_the_parameters():
    url = oecd_tiva.request_url("https://sdmx.oecd.org/", REQUEST, "1.0")
    assert url == (
        f"https://sdmx.oecd.org{PATH}"
        "?startPeriod=2019&endPeriod=2020&dimensionAtObservation=AllDimensions&format=csv"
    )
    all_partners = TivaRequest("IMGR", ("CHN",), ("C",), counterpart_areas=())
    assert "/IMGR.CHN.C..USD.A?" in oecd_tiva.request_url("https://h", all_partners, "1.1")
    assert "DSD_TIVA_MAINLV@DF_MAINLV,1.1/" in oecd_tiva.request_url("https://h", all_partners, "1.1")


def test_codes_that_are_not_sdmx_identifiers_are_refused():
    with pytest.raises(ValueError, match="not an SDMX code"):
        TivaRequest("PROD", ("CHN/../x",), ("C",))


def test_the_plan_is_one_request_per_measure_with_the_edition_years():
    plan = oecd_tiva.plan_requests()
    assert [r.measure for r in plan] == ["PROD", "IMGR", "EXGR"]
    assert all(r.ref_areas == ("CHN", "W") and r.counterpart_areas == ("W",) for r in plan)
    assert all(r.activities == ("C", *oecd_tiva.MANUFACTURING_INDUSTRIES) for r in plan)
    assert all((r.start_year, r.end_year) == (1995, 2020) for r in plan)
    assert len({r.file_name("1.0") for r in plan}) == 3
    partner = oecd_tiva.plan_requests(include_partner_imports=True)[-1]
    assert (partner.measure, partner.ref_areas, partner.counterpart_areas) == ("IMGR", ("CHN",), ("USA", "EU27_2020"))
    assert partner.optional


def test_fetch_lands_verifies_and_records(httpserver, tmp_path):
    httpserver.expect_request(PATH, query_string={
        "startPeriod": "2019", "endPeriod": "2020", "dimensionAtObservation": "AllDimensions", "format": "csv",
    }).respond_with_data(GOOD_CSV, content_type="application/vnd.sdmx.data+csv")
    [landed] = fetch(httpserver, tmp_path / "tiva")
    assert landed.path == tmp_path / "tiva" / REQUEST.file_name("1.0") and landed.path.read_text() == GOOD_CSV
    entry = json.loads((tmp_path / "tiva" / "manifest.json").read_text())[landed.path.name]
    assert entry["synthetic"] is False and entry["url"].endswith("&format=csv") and entry["sha256"] == landed.sha256


def test_a_landed_file_is_reused_without_a_request_or_a_pause(httpserver, tmp_path, fake_time):
    other = TivaRequest("IMGR", ("CHN",), ("C26",), start_year=2019, end_year=2020)
    httpserver.expect_request(PATH).respond_with_data(GOOD_CSV)
    httpserver.expect_request(PATH.replace("PROD.CHN+W.C+C26", "IMGR.CHN.C26")).respond_with_data(
        GOOD_CSV.replace('"PROD"', '"IMGR"')
    )
    fetch(httpserver, tmp_path / "tiva", requests=(REQUEST, other), throttle_seconds=60)
    assert len(httpserver.log) == 2 and fake_time.sleeps == [60]  # a pause between the two network calls only
    again = fetch(httpserver, tmp_path / "tiva", requests=(REQUEST, other), throttle_seconds=60)
    assert len(httpserver.log) == 2 and fake_time.sleeps == [60]
    assert [f.path.name for f in again] == [REQUEST.file_name("1.0"), other.file_name("1.0")]
    fetch(httpserver, tmp_path / "tiva", requests=(REQUEST,), refresh=True)
    assert len(httpserver.log) == 3


def test_a_synthetic_file_is_not_taken_for_a_download(httpserver, tmp_path):
    oecd_tiva_sample.write_sample(tmp_path / "tiva", [REQUEST])
    httpserver.expect_request(PATH).respond_with_data(GOOD_CSV)
    [landed] = fetch(httpserver, tmp_path / "tiva")
    assert not landed.synthetic and landed.path.read_text() == GOOD_CSV and len(httpserver.log) == 1


def test_too_many_requests_is_retried_after_the_time_asked(httpserver, tmp_path):
    httpserver.expect_ordered_request(PATH).respond_with_response(
        Response("Rate limit is exceeded", status=429, headers={"Retry-After": "0"})
    )
    httpserver.expect_ordered_request(PATH).respond_with_data(GOOD_CSV)
    [landed] = fetch(httpserver, tmp_path / "tiva")
    assert landed.path.read_text() == GOOD_CSV and len(httpserver.log) == 2


def test_an_html_page_with_status_200_is_not_landed(httpserver, tmp_path):
    page = "<!DOCTYPE html><html><head><title>Access denied</title></head><body>Blocked</body></html>"
    httpserver.expect_request(PATH).respond_with_data(page, content_type="text/html")
    with pytest.raises(landing.DownloadError, match="OECD TiVA: .* not valid: .*HTML page"):
        fetch(httpserver, tmp_path / "tiva")
    assert sorted(p.name for p in (tmp_path / "tiva").iterdir()) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty"),
        ('<?xml version="1.0"?><message:Error>NoResultsFound</message:Error>', "XML"),
        (HEADER.replace(",OBS_VALUE", ""), "line 1 lacks the column.*OBS_VALUE"),
        (HEADER + row(value="n/a"), "none of its 1 lines can be read; line 2: field OBS_VALUE"),
    ],
)
def test_a_body_that_is_not_the_expected_csv_is_not_landed(httpserver, tmp_path, body, message):
    httpserver.expect_request(PATH).respond_with_data(body)
    with pytest.raises(landing.DownloadError, match=message):
        fetch(httpserver, tmp_path / "tiva")
    assert not (tmp_path / "tiva" / REQUEST.file_name("1.0")).exists()
    assert not (tmp_path / "tiva" / "manifest.json").exists()


def test_parse_types_scales_to_usd_and_keeps_missing_values_null(tmp_path):
    frame = clean_frame(oecd_tiva.read(write(tmp_path, GOOD_CSV)))
    assert frame.schema == pl.Schema(oecd_tiva.SCHEMA)
    assert frame.rows() == [
        ("PROD", "CHN", "C26", "W", "USD", 2019, 1_234_500_000.0),
        ("PROD", "CHN", "C26", "W", "USD", 2020, None),
        ("PROD", "CHN", "C", "W", "USD", 2019, 47_066_307_000_000.0),
    ]
    other_mult = clean_frame(oecd_tiva.read(write(tmp_path, HEADER + row(value="2.5", mult='"3"'), "thousands.csv")))
    assert other_mult["value_usd"].to_list() == [2500.0]


def test_a_missing_column_names_the_file_and_the_column(tmp_path):
    path = write(tmp_path, HEADER.replace(",UNIT_MULT", "") + row().replace(',"6"', ""))
    with pytest.raises(TivaFormatError, match=r"answer\.csv: line 1 lacks the column\(s\) UNIT_MULT"):
        oecd_tiva.read(path)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (row(value="n/a"), "field OBS_VALUE: 'n/a' is not a number"),
        (row(mult='"six"'), "field UNIT_MULT: 'six' is not a power of ten"),
        (row(year="2019-Q1"), "field TIME_PERIOD: '2019-Q1' is not a year"),
        (row(year=2019).replace('"USD"', '"EUR"'), "field UNIT_MEASURE: 'EUR', expected USD"),
        (f'{FLOW},I,"PROD","CHN"\n', "only 4 fields, fewer than the header needs"),
    ],
)
def test_a_malformed_row_is_set_apart_with_the_file_line_and_reason(tmp_path, line, reason):
    path = write(tmp_path, HEADER + row(year=2019) + line + row(year=2020))
    parsed = oecd_tiva.read(path)
    assert parsed.frame["year"].to_list() == [2019, 2020]
    assert parsed.bad_rows == (BadRow("answer.csv", 3, reason, line.rstrip("\n")),)
    assert quarantine.describe(parsed.bad_rows[0], parsed.unit) == f"answer.csv: line 3: {reason}"  # as logged


def test_a_repeated_observation_fails_the_whole_file(tmp_path):
    path = write(tmp_path, HEADER + row(year=2019) + row(year=2019))
    with pytest.raises(TivaFormatError, match=r"answer\.csv: line 3 repeats the observation of line 2"):
        oecd_tiva.read(path)


def test_a_few_bad_rows_go_to_quarantine_and_the_good_rows_load(settings, tmp_path):
    from dagster_project.assets.sources import oecd_tiva_spec

    bad = row(year=2018, value="n/a")
    path = write(tmp_path, GOOD_CSV + bad)
    for _ in range(2):  # a re-run replaces the file's quarantined rows, it does not add to them
        parsed = load_raw(settings, oecd_tiva_spec(), [path], max_bad_row_share=0.25)
    assert parsed.frame.height == 3 and len(parsed.bad_rows) == 1
    assert warehouse_rows(settings, "SELECT activity, year FROM raw.oecd_tiva ORDER BY ALL") == [
        ("C", 2019), ("C26", 2019), ("C26", 2020)
    ]
    assert quarantined(settings) == [
        ("oecd_tiva", "answer.csv", 5, "field OBS_VALUE: 'n/a' is not a number", bad.strip())
    ]


def test_too_many_bad_rows_fail_naming_the_file_and_lines_and_keep_the_loaded_table(settings, tmp_path):
    from dagster_project.assets.sources import oecd_tiva_spec

    assert_too_many_bad_rows_fail(
        settings, oecd_tiva_spec(), write(tmp_path, GOOD_CSV + row(year=2018, value="n/a")),
        HEADER + row(year=2018, value="n/a") + row(year=2019, mult='"six"') + row(year=2020),
        r"answer\.csv: 2 of 3 rows are malformed, more than TRADEDEP_MAX_BAD_ROW_SHARE=0\.5: "
        r"line 2: field OBS_VALUE: 'n/a' is not a number; line 3: field UNIT_MULT",
    )


@needs_reference(TIVA_REFERENCE_DIR)
@pytest.mark.parametrize("name", sorted(p.name for p in TIVA_REFERENCE_DIR.glob("*.csv")) or ["none"])
def test_the_real_recorded_files_parse_value_for_value(name):
    path = TIVA_REFERENCE_DIR / name
    with path.open(newline="", encoding="utf-8-sig") as handle:
        codes = ("MEASURE", "REF_AREA", "ACTIVITY", "COUNTERPART_AREA", "UNIT_MEASURE")
        expected = [
            (*(r[code] for code in codes), int(r["TIME_PERIOD"]), float(r["OBS_VALUE"]) * 10 ** int(r["UNIT_MULT"]))
            for r in csv.DictReader(handle)
        ]
    frame = clean_frame(oecd_tiva.read(path))
    assert frame.height == len(expected) > 100
    for got, want in zip(frame.rows(), expected, strict=True):
        assert got[:6] == want[:6] and got[6] == pytest.approx(want[6], rel=1e-12)
    if "IMGR" in name:  # China's gross imports of manufactures, 1995 and 2020, in USD
        china = frame.filter(measure="IMGR", ref_area="CHN", activity="C")
        assert china.filter(year=1995)["value_usd"].item() == 75_114_200_000.0
        assert china.filter(year=2020)["value_usd"].item() == 1_008_167_700_000.0


def test_the_sample_is_deterministic_named_like_fetch_and_parses(tmp_path):
    plan = oecd_tiva.plan_requests(include_partner_imports=True)
    first = oecd_tiva_sample.write_sample(tmp_path / "a", plan)
    second = oecd_tiva_sample.write_sample(tmp_path / "b", plan)
    assert [f.path.name for f in first] == [r.file_name("1.0") for r in plan]
    assert [f.sha256 for f in first] == [f.sha256 for f in second]
    assert all(f.synthetic and f.url.startswith("sample://tradedep/oecd_tiva/") for f in first)
    assert first[0].path.read_text().splitlines()[0] == HEADER.strip()
    frame = pl.concat([clean_frame(oecd_tiva.read(f.path)) for f in first])
    assert frame.height == 3 * 2 * 18 * 26 + 2 * 18 * 26 and frame["value_usd"].null_count() == 0
    assert sorted(frame["year"].unique()) == list(range(1995, 2021))

    def value(measure, area, activity, year, counterpart="W"):
        selected = frame.filter(
            measure=measure, ref_area=area, activity=activity, year=year, counterpart_area=counterpart
        )
        return selected["value_usd"].item()

    assert 1e11 < value("PROD", "CHN", "C26", 2010) < 1e12  # China's electronics output: hundreds of billions
    assert value("IMGR", "CHN", "C26", 2020) > 2 * value("IMGR", "CHN", "C28", 2020)
    assert 2e13 < value("PROD", "W", "C", 2020) < 1e14
    assert value("IMGR", "CHN", "C30", 2020, "USA") > value("IMGR", "CHN", "C30", 2020) / 5
    industries = frame.filter(pl.col("activity") != "C", measure="PROD", ref_area="CHN", year=2020)
    assert industries["value_usd"].sum() == pytest.approx(value("PROD", "CHN", "C", 2020), rel=1e-9)

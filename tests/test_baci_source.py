"""The BACI source module: zip members, typed loads, clear errors that lose nothing already loaded."""


import duckdb
import pytest
from conftest import COUNTRIES_CSV, HEADER, REFERENCE_DIR, RELEASE, needs_reference, release_members, trade_csv, write_zip

from dagster_project.sources import baci
from dagster_project.sources.baci import BaciFormatError

SOURCE = {"sha256": "0" * 64, "url": "http://test/BACI_HS12_V202501.zip", "synthetic": False}
ROWS_2019 = [(842, 156, "854231", "1000.5", "12.25"), (276, 156, "010121", "  2.5", "NA"), (156, 842, "854231", 30, "")]


@pytest.fixture
def release_zip(tmp_path):
    members = release_members({2019: trade_csv(2019, ROWS_2019), 2020: trade_csv(2020, [(842, 156, "854231", 7, 1)])})
    return write_zip(tmp_path / "landing" / RELEASE.zip_name, members)


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def load(con, zip_path, year):
    return baci.load_trade_year(con, zip_path, RELEASE, year, SOURCE, zip_path.parent.parent / "tmp")


def test_member_names_follow_the_release_pattern():
    assert RELEASE.zip_name == "BACI_HS12_V202501.zip"
    assert RELEASE.trade_member(2019) == "BACI_HS12_Y2019_V202501.csv"
    assert RELEASE.countries_member == "country_codes_V202501.csv"
    assert RELEASE.products_member == "product_codes_HS12_V202501.csv"
    assert RELEASE.url("https://mirror/baci/") == "https://mirror/baci/BACI_HS12_V202501.zip"


def test_load_a_year_with_explicit_types(con, release_zip):
    stats = load(con, release_zip, 2019)
    assert stats.rows == 3 and stats.member == "BACI_HS12_Y2019_V202501.csv" and stats.bytes > 0
    rows = con.execute("SELECT t, i, j, k, v, q, hs_revision, release, synthetic FROM raw.baci_trade ORDER BY v").fetchall()
    assert rows == [
        (2019, 276, 156, "010121", 2.5, None, "HS12", "V202501", False),  # k keeps its leading zero; NA -> null
        (2019, 156, 842, "854231", 30.0, None, "HS12", "V202501", False),  # empty q -> null
        (2019, 842, 156, "854231", 1000.5, 12.25, "HS12", "V202501", False),
    ]
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name='baci_trade'").fetchall())
    assert types["k"] == "VARCHAR" and types["v"] == "DOUBLE" and types["t"] == "SMALLINT"


def test_reloading_a_year_replaces_it_without_duplicates(con, release_zip):
    load(con, release_zip, 2019)
    load(con, release_zip, 2020)
    load(con, release_zip, 2019)
    assert con.execute("SELECT t, count(*) FROM raw.baci_trade GROUP BY t ORDER BY t").fetchall() == [(2019, 3), (2020, 1)]
    assert con.execute("SELECT count(*) FROM raw.baci_files").fetchall() == [(2,)]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ((842, 156, "854231", "12x", 1), r'line 3.*column "v"|column "v".*line 3|Line: 3'),
        ((842, 156, "854231", -5, 1), "v=-5"),
        ((842, 156, "8542", 5, 1), "k=8542"),
        (("", 156, "854231", 5, 1), "empty exporter"),
        ((842, 156, "854231", 5, "lots"), "quantity q=lots"),
    ],
)
def test_a_bad_row_names_the_file_and_keeps_the_loaded_year(con, tmp_path, release_zip, bad_row, message):
    load(con, release_zip, 2019)
    broken = write_zip(
        tmp_path / "broken" / RELEASE.zip_name,
        release_members({2019: trade_csv(2019, [ROWS_2019[0], bad_row])}),
    )
    with pytest.raises(BaciFormatError, match="BACI_HS12_Y2019_V202501.csv") as error:
        load(con, broken, 2019)
    assert __import__("re").search(message, str(error.value)), str(error.value)
    assert con.execute("SELECT count(*) FROM raw.baci_trade WHERE t = 2019").fetchall() == [(3,)]


def test_a_row_of_another_year_is_refused(con, tmp_path):
    zip_path = write_zip(tmp_path / RELEASE.zip_name, release_members({2019: trade_csv(2019, ROWS_2019) + "2018,842,156,854231,1,1\n"}))
    with pytest.raises(BaciFormatError, match="t=2018, expected 2019"):
        load(con, zip_path, 2019)


def test_a_renamed_column_is_refused_with_the_header(con, tmp_path):
    content = "t,exporter,j,k,v,q\n2019,842,156,854231,1,1\n"
    zip_path = write_zip(tmp_path / RELEASE.zip_name, release_members({2019: content}))
    with pytest.raises(BaciFormatError, match=r"line 1 has columns \['t', 'exporter'"):
        load(con, zip_path, 2019)


def test_a_row_with_a_missing_field_is_refused(con, tmp_path):
    zip_path = write_zip(tmp_path / RELEASE.zip_name, release_members({2019: HEADER + "2019,842,156,854231,1\n"}))
    with pytest.raises(BaciFormatError, match="BACI_HS12_Y2019_V202501.csv"):
        load(con, zip_path, 2019)


def test_verify_names_missing_members(tmp_path):
    zip_path = write_zip(tmp_path / RELEASE.zip_name, release_members({2019: trade_csv(2019, ROWS_2019)}))
    baci.verify_release_zip(zip_path, RELEASE, (2019,))
    with pytest.raises(BaciFormatError, match="BACI_HS12_Y2020_V202501.csv"):
        baci.verify_release_zip(zip_path, RELEASE, (2019, 2020))


def test_a_corrupt_zip_is_refused(tmp_path):
    path = tmp_path / RELEASE.zip_name
    path.write_bytes(b"<html>Service unavailable</html>")
    with pytest.raises(BaciFormatError, match="not a readable zip"):
        baci.list_members(path)


@pytest.mark.parametrize("name", ["../evil.csv", "/etc/evil.csv", "a/../../evil.csv"])
def test_unsafe_member_names_are_refused(tmp_path, name):
    path = write_zip(tmp_path / RELEASE.zip_name, {name: "x"})
    with pytest.raises(BaciFormatError, match="unsafe member name"):
        baci.list_members(path)


def test_a_member_claiming_an_implausible_size_is_refused_before_extraction(tmp_path):
    member = RELEASE.trade_member(2019)
    path = write_zip(tmp_path / RELEASE.zip_name, {member: HEADER + "0" * 5_000_000})  # deflates about 1000x
    with pytest.raises(BaciFormatError, match="possible zip bomb"):
        with baci.extracted_member(path, member, tmp_path / "scratch"):
            pass
    assert not (tmp_path / "scratch").exists()  # refused before anything was written


def test_a_member_inflating_past_its_declared_size_fails(tmp_path):
    member = RELEASE.trade_member(2019)
    path = write_zip(tmp_path / RELEASE.zip_name, {member: trade_csv(2019, ROWS_2019)})
    data = bytearray(path.read_bytes())
    entry = data.rfind(b"PK\x01\x02")  # the member's central-directory entry
    data[entry + 24 : entry + 28] = (10).to_bytes(4, "little")  # declare 10 bytes uncompressed
    path.write_bytes(bytes(data))
    with pytest.raises(BaciFormatError, match="corrupt"):
        with baci.extracted_member(path, member, tmp_path / "scratch"):
            pass
    assert not list((tmp_path / "scratch").iterdir())  # nothing left behind


def test_countries_are_typed_and_decoded(tmp_path):
    path = write_zip(tmp_path / RELEASE.zip_name, release_members({}))
    frame = baci.read_countries(path, RELEASE)
    names = dict(zip(frame["country_code"].to_list(), frame["country_name"].to_list(), strict=True))
    assert names[384] == "Côte d'Ivoire"
    assert frame.filter(frame["country_code"] == 516)["country_iso2"].to_list() == [None]  # Namibia: empty, not 'NA'


def test_products_keep_leading_zeros_and_reject_bad_codes(tmp_path):
    path = write_zip(tmp_path / RELEASE.zip_name, release_members({}))
    assert baci.read_products(path, RELEASE)["code"].to_list() == ["010121", "854231"]
    bad = write_zip(tmp_path / "bad" / RELEASE.zip_name, {RELEASE.products_member: "code,description\n10121,Horses\n"})
    with pytest.raises(BaciFormatError, match="not 6 digits, e.g. '10121'"):
        baci.read_products(bad, RELEASE)


def test_reference_loads_replace_the_table(con, tmp_path):
    path = write_zip(tmp_path / RELEASE.zip_name, release_members({}))
    for _ in range(2):
        stats = baci.load_countries(con, path, RELEASE, SOURCE)
        baci.load_products(con, path, RELEASE, SOURCE)
    assert stats.rows == COUNTRIES_CSV.count("\n") - 1
    assert con.execute("SELECT count(*) FROM raw.baci_countries").fetchall() == [(5,)]
    assert con.execute("SELECT count(*) FROM raw.baci_products").fetchall() == [(2,)]


def test_double_encoding_fix_leaves_clean_names_alone():
    assert baci.fix_double_encoding("CuraÃ§ao") == "Curaçao"
    assert baci.fix_double_encoding("Türkiye") == "Türkiye"
    assert baci.fix_double_encoding(None) is None


@needs_reference(REFERENCE_DIR / "baci")
def test_real_baci_files_load(con, tmp_path):
    """The real country file and rows of a real (pandas-rewritten) 2023 HS22 year load as typed."""
    reference = REFERENCE_DIR / "baci"
    real_lines = (reference / "BACI_HS22_Y2023_V202501__energy_subset_pandas_rewritten.csv").read_text().splitlines()
    release = baci.Release("HS22", "V202501")
    path = write_zip(
        tmp_path / release.zip_name,
        {
            release.countries_member: (reference / "country_codes_V202501.csv").read_bytes(),
            release.products_member: (reference / "product_codes_HS22_V202501.csv").read_bytes(),
            release.trade_member(2023): "\n".join(real_lines[:2001]) + "\n",
        },
    )
    stats = baci.load_trade_year(con, path, release, 2023, SOURCE, tmp_path / "scratch")
    assert stats.rows == 2000
    assert con.execute("SELECT count(*) FROM raw.baci_trade WHERE q IS NULL").fetchall()[0][0] > 0
    countries = baci.read_countries(path, release)
    assert "Côte d'Ivoire" in countries["country_name"].to_list()
    assert len(baci.read_products(path, release)) > 5000


def test_a_few_malformed_rows_go_to_quarantine_with_line_and_reason(con, tmp_path):
    good = [(842, 156, f"{854200 + n % 90:06d}", 1 + n, 1) for n in range(1999)]
    content = trade_csv(2019, good[:500]) + "2019,842,156,854231,12x,1\n" + "".join(
        ",".join(str(v) for v in (2019, *row)) + "\n" for row in good[500:])
    zip_path = write_zip(tmp_path / RELEASE.zip_name, release_members({2019: content}))
    stats = baci.load_trade_year(con, zip_path, RELEASE, 2019, SOURCE, tmp_path / "scratch", max_bad_row_share=0.001)
    assert stats.rows == 1999 and stats.quarantined == 1
    ((source, file, line, reason, row),) = con.execute(
        "SELECT source, file, line, reason, content FROM raw.quarantine").fetchall()
    assert (source, file, line) == ("baci", "BACI_HS12_V202501.zip:BACI_HS12_Y2019_V202501.csv", 502)
    assert 'CAST in column "v"' in reason and row == "2019,842,156,854231,12x,1"


def test_too_many_malformed_rows_fail_the_load_and_keep_what_was_loaded(con, tmp_path, release_zip):
    load(con, release_zip, 2019)
    bad = trade_csv(2019, ROWS_2019) + "2019,842,156\n2019,1,2,854231,x,1\n"
    zip_path = write_zip(tmp_path / "bad" / RELEASE.zip_name, release_members({2019: bad}))
    with pytest.raises(BaciFormatError, match=r"2 of 5 rows are malformed.*line 5: MISSING COLUMNS.*line 6: CAST"):
        baci.load_trade_year(con, zip_path, RELEASE, 2019, SOURCE, tmp_path / "scratch", max_bad_row_share=0.1)
    assert con.execute("SELECT count(*) FROM raw.baci_trade WHERE t = 2019").fetchall() == [(3,)]
    assert con.execute("SELECT count(*) FROM raw.quarantine").fetchall() == [(0,)]


def test_an_unchanged_year_is_kept_and_a_changed_one_reloaded(con, release_zip):
    def load_2019(source):
        return baci.load_trade_year(con, release_zip, RELEASE, 2019, source, release_zip.parent.parent / "tmp",
                                    skip_unchanged=True)

    first = load_2019(SOURCE)
    loaded_at = con.execute("SELECT loaded_at FROM raw.baci_files").fetchall()
    again = load_2019(SOURCE)
    assert not first.unchanged and again.unchanged and (again.rows, again.member) == (first.rows, first.member)
    assert con.execute("SELECT loaded_at FROM raw.baci_files").fetchall() == loaded_at  # not read again
    other_zip = {**SOURCE, "sha256": "1" * 64}
    assert not load_2019(other_zip).unchanged
    con.execute("DELETE FROM raw.baci_trade WHERE v > 100")  # rows lost since: the year is loaded again
    assert not load_2019(other_zip).unchanged
    assert con.execute("SELECT count(*) FROM raw.baci_trade WHERE t = 2019").fetchall() == [(3,)]

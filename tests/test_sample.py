"""The synthetic sample: real formats and codes, deterministic, realistic patterns, labelled synthetic."""

import csv
import json
import zipfile
from types import SimpleNamespace

import polars as pl
import pytest
from conftest import REFERENCE_DIR, clean_frame

from dagster_project.hs_codes import comtrade_products, hs6_codes, hs22_carriers, hs22_conversion, sector_products
from dagster_project.sample import baci_sample, comtrade_sample
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.sources import baci, comtrade

HS22 = baci.Release("HS22", "V202501")  # two years (2022-2023): quick to generate
EU27 = {40, 56, 100, 191, 196, 203, 208, 233, 246, 251, 276, 300, 348, 372, 380, 428, 440, 442, 470, 528, 616, 620,
        642, 703, 705, 724, 752}


@pytest.fixture(scope="module")
def sample_zip(tmp_path_factory):
    landing_dir = tmp_path_factory.mktemp("landing")
    return baci_sample.ensure_sample_release(landing_dir, HS22)


def test_the_zip_has_the_release_members_and_a_synthetic_notice(sample_zip):
    members = baci.list_members(sample_zip.path)
    baci.verify_release_zip(sample_zip.path, HS22, (2022, 2023))
    assert "Readme.txt" in members
    with zipfile.ZipFile(sample_zip.path) as archive:
        assert "SYNTHETIC SAMPLE" in archive.read("Readme.txt").decode()
        header = archive.read(HS22.trade_member(2022)).decode().splitlines()[0]
    assert header == "t,i,j,k,v,q"
    assert sample_zip.synthetic and sample_zip.url.startswith("sample://")


def test_generation_is_deterministic(sample_zip, tmp_path):
    baci_sample.write_release_zip(tmp_path / HS22.zip_name, HS22)
    assert (tmp_path / HS22.zip_name).read_bytes() == sample_zip.path.read_bytes()


def test_a_landed_sample_is_reused(sample_zip):
    again = baci_sample.ensure_sample_release(sample_zip.path.parent, HS22)
    assert again.fetched_at == sample_zip.fetched_at and again.sha256 == sample_zip.sha256


def test_codes_are_real_and_names_double_encoded_like_baci(sample_zip):
    products = baci.read_products(sample_zip.path, HS22)
    assert set(products["code"]) == set(hs6_codes("HS22"))
    # every HS22 subheading: BACI's product list (5,609 codes, heading 2710 as one code 271000) and the UNSD tables' 2710xx
    assert products.height == 5614
    with zipfile.ZipFile(sample_zip.path) as archive:
        raw_countries = archive.read(HS22.countries_member).decode("utf-8")
    assert "CÃ´te d'Ivoire" in raw_countries  # as in the real file
    assert "Côte d'Ivoire" in baci.read_countries(sample_zip.path, HS22)["country_name"].to_list()


def china_imports(frame: pl.DataFrame, prefixes: tuple[str, ...]) -> pl.DataFrame:
    return frame.filter((pl.col("j") == 156) & pl.col("k").str.starts_with(prefixes[0]).or_(
        *[pl.col("k").str.starts_with(prefix) for prefix in prefixes[1:]]))


def test_china_imports_chips_heavily_from_asia_the_us_and_the_eu():
    frame = baci_sample.trade_frame(HS22, 2023)
    chips = china_imports(frame, ("8542",))
    total = chips["v"].sum()
    by_partner = {
        "asia": chips.filter(pl.col("i").is_in([490, 410, 392, 458]))["v"].sum(),
        "us": chips.filter(pl.col("i") == 842)["v"].sum(),
        "eu": chips.filter(pl.col("i").is_in(list(EU27)))["v"].sum(),
    }
    assert by_partner["asia"] / total > 0.5
    assert 0.02 < by_partner["us"] / total < 0.3 and 0.02 < by_partner["eu"] / total < 0.3
    chip_exports = frame.filter((pl.col("i") == 156) & pl.col("k").str.starts_with("8542"))["v"].sum()
    assert total > 2 * chip_exports  # China is a net importer of chips
    tools = china_imports(frame, ("8486",))
    us_eu_tools = tools.filter(pl.col("i").is_in([842, *EU27]))["v"].sum() / tools["v"].sum()
    assert us_eu_tools > 0.3


@pytest.mark.parametrize("prefixes", [("86",), ("870380", "850760"), ("854142", "854143")])
def test_china_exports_rail_nevs_and_solar_heavily(prefixes):
    frame = baci_sample.trade_frame(HS22, 2023)
    exports = frame.filter((pl.col("i") == 156) & pl.col("k").str.starts_with(prefixes[0]).or_(
        *[pl.col("k").str.starts_with(prefix) for prefix in prefixes[1:]]))["v"].sum()
    imports = china_imports(frame, prefixes)["v"].sum()
    assert exports > 5 * imports


def test_flows_are_unique_positive_and_many_exporters_trade():
    frame = baci_sample.trade_frame(HS22, 2022)
    assert frame.select(["i", "j", "k"]).is_duplicated().sum() == 0
    assert frame["v"].min() > 0 and frame["i"].n_unique() > 40
    assert 0.005 < frame["q"].null_count() / frame.height < 0.05  # BACI lacks ~2% of quantities


@pytest.mark.parametrize("revision", ["HS12", "HS17", "HS22"])
def test_every_sector_prefix_exists_in_its_revision(revision):
    codes = hs6_codes(revision)
    with (DBT_PROJECT_DIR / "seeds" / "sector_hs_map.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["hs_revision"] == revision]
    sectors = {row["sector"] for row in rows}
    assert len(sectors) == 14
    missing = [row["hs_prefix"] for row in rows if not any(code.startswith(row["hs_prefix"]) for code in codes)]
    assert missing == []


def test_revision_traps_are_mapped_per_revision():
    with (DBT_PROJECT_DIR / "seeds" / "sector_hs_map.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    prefixes = {(row["hs_revision"], row["sector"]): {r["hs_prefix"] for r in rows if (r["hs_revision"], r["sector"]) == (row["hs_revision"], row["sector"])} for row in rows}
    assert "8807" in prefixes["HS22", "Aerospace"] and "8803" not in prefixes["HS22", "Aerospace"]
    assert "8803" in prefixes["HS12", "Aerospace"]
    assert {"854142", "854143"} <= prefixes["HS22", "Green energy"] and "854140" in prefixes["HS17", "Green energy"]
    assert "8541" not in prefixes["HS22", "Semiconductors and IT"]
    assert "870380" in prefixes["HS17", "New-energy vehicles"] and "870380" not in prefixes["HS12", "New-energy vehicles"]


def test_hs6_code_lists_cover_each_revision():
    assert len(hs6_codes("HS12")) > 5000 and len(hs6_codes("HS17")) > 5300
    assert "880610" not in hs6_codes("HS17") and "880610" in hs6_codes("HS22")


# ---------------------------------------------------------------- the UNSD conversion the Comtrade sample follows


def conversion_rows(newer: str, older: str) -> dict[str, str]:
    with (DBT_PROJECT_DIR / "seeds" / "hs_correspondence.csv").open(newline="") as handle:
        return {row["newer_hs6"]: row["older_hs6"] for row in csv.DictReader(handle)
                if (row["newer_revision"], row["older_revision"], row["is_conversion"]) == (newer, older, "true")}


def test_hs22_codes_convert_as_the_unsd_tables_say():
    hs17, hs12 = hs22_conversion("HS17"), hs22_conversion("HS12")
    assert hs17["854142"] == hs17["854143"] == "854140" and hs17["850171"] == "850131"
    assert hs12["870380"] == "870390"  # via HS17 870380: the HS12 NEV break (docs/methodology.md, section 3)
    table_17, table_12 = conversion_rows("HS22", "HS17"), conversion_rows("HS17", "HS12")
    assert hs17 == table_17 and hs12 == {code: table_12[middle] for code, middle in table_17.items()}
    assert hs22_conversion("HS22")["854142"] == "854142" and "271000" not in hs17  # no conversion row
    with pytest.raises(ValueError, match="HS07"):
        hs22_conversion("HS07")


# ---------------------------------------------------------------- the Comtrade sample: one world with BACI's

# A record's fields in the order of the API's answers (the recorded data answer in the reference folder).
RECORD_FIELDS = [
    "typeCode", "freqCode", "refPeriodId", "refYear", "refMonth", "period", "reporterCode", "reporterISO", "reporterDesc",
    "flowCode", "flowDesc", "partnerCode", "partnerISO", "partnerDesc", "partner2Code", "partner2ISO", "partner2Desc",
    "classificationCode", "classificationSearchCode", "isOriginalClassification", "cmdCode", "cmdDesc", "aggrLevel",
    "isLeaf", "customsCode", "customsDesc", "mosCode", "motCode", "motDesc", "qtyUnitCode", "qtyUnitAbbr", "qty",
    "isQtyEstimated", "altQtyUnitCode", "altQtyUnitAbbr", "altQty", "isAltQtyEstimated", "netWgt", "isNetWgtEstimated",
    "grossWgt", "isGrossWgtEstimated", "cifvalue", "fobvalue", "primaryValue", "legacyEstimationFlag", "isReported",
    "isAggregate",
]
REAL_ANSWER = REFERENCE_DIR / "comtrade" / "data_v1_get_C_A_HS__reporter156_partner32-276_2010_TOTAL.json"
# 4, 6, 1 and 3 HS22 codes convert to these HS12 codes; every one of those HS22 codes is asked for.
HS12_TARGETS = ("854140", "870390", "848620", "850131")
COMTRADE_YEARS = [2023, 2025]  # 2023: the overlap year; 2025: beyond the release
COMTRADE_MONTHS = list(range(202501, 202513))  # the whole of 2025, to compare with the annual records


@pytest.fixture(scope="module")
def comtrade_world(tmp_path_factory):
    conversion = hs22_conversion("HS12")
    codes = sorted(code for code, target in conversion.items() if target in HS12_TARGETS)
    requests = comtrade.plan_requests(codes, COMTRADE_YEARS, keyed=True, months=COMTRADE_MONTHS)
    folder = tmp_path_factory.mktemp("comtrade")
    landed = comtrade_sample.write_sample(folder, requests, "HS12")
    frame = pl.concat([clean_frame(comtrade.read(file.path)) for file in landed]).with_columns(
        pl.col("cmd_code").replace_strict(conversion).alias("k"))
    return SimpleNamespace(folder=folder, requests=requests, landed=landed, frame=frame, codes=codes)


def baci_usd(year: int, exporter: pl.Expr, importer: pl.Expr, partner: str, key: str) -> pl.DataFrame:
    """The BACI sample's flows of the target products (as its file holds them) in USD, with the partner column
    (i or j) named `key`: key, k, usd."""
    frame = baci_sample.trade_frame(baci.Release("HS12", "V202501"), year)
    return frame.filter(exporter & importer & pl.col("k").is_in(HS12_TARGETS)).select(
        pl.col(partner).alias(key), "k", (pl.col("v") * 1000).alias("usd"))


def converted_back(records: pl.DataFrame, key: str, value: str) -> pl.DataFrame:
    """Records summed per `key` and build-revision product k, with how many HS22 codes took part."""
    return records.group_by(key, "k").agg(pl.col(value).sum().alias("reported"), pl.len().alias("codes"))


def both_sides(baci_side: pl.DataFrame, reported: pl.DataFrame, key: str) -> pl.DataFrame:
    """The two sides per flow; a flow on one side only (a record without a BACI flow, or the reverse) fails."""
    joined = baci_side.join(reported, on=[key, "k"], how="full", coalesce=True)
    assert joined.filter(pl.col("usd").is_null() | pl.col("reported").is_null()).height == 0, "flows on one side only"
    return joined


US_EU = [842, *EU27]


@pytest.mark.parametrize("year", COMTRADE_YEARS)
def test_china_imports_converted_back_are_the_baci_flows_plus_a_cif_margin(comtrade_world, year):
    records = comtrade_world.frame.filter(freq_code="A", ref_year=year, reporter_code=156, flow_code="M")
    reported = converted_back(records.filter(pl.col("partner_code") != 0), "partner_code", "cif_value")
    joined = both_sides(baci_usd(year, pl.lit(True), pl.col("j") == 156, "i", "partner_code"), reported, "partner_code")
    sharing = {product: len(codes) for product, codes in hs22_carriers("HS12").items()}
    assert joined.height > 20 and (joined["codes"] == joined["k"].replace_strict(sharing)).all()  # every HS22 code
    cents = 0.005 * joined["codes"]  # each record is rounded to the cent
    assert (joined["reported"] >= joined["usd"] * 1.025 - cents).all()
    assert (joined["reported"] <= joined["usd"] * 1.065 + cents).all()
    assert records.filter(pl.col("cif_value").is_null() | pl.col("fob_value").is_not_null()).height == 0  # CIF only


@pytest.mark.parametrize("year", COMTRADE_YEARS)
def test_mirror_and_china_exports_converted_back_are_the_baci_flows(comtrade_world, year):
    annual = comtrade_world.frame.filter(freq_code="A", ref_year=year)
    mirror = converted_back(annual.filter(partner_code=156, flow_code="X"), "reporter_code", "fob_value")
    exports = converted_back(annual.filter(reporter_code=156, flow_code="X").filter(pl.col("partner_code") != 0),
                             "partner_code", "fob_value")
    for joined in (
        both_sides(baci_usd(year, pl.col("i").is_in(US_EU), pl.col("j") == 156, "i", "reporter_code"), mirror,
                   "reporter_code"),
        both_sides(baci_usd(year, pl.col("i") == 156, pl.col("j").is_in(US_EU), "j", "partner_code"), exports,
                   "partner_code"),
    ):
        assert joined.height > 5 and ((joined["reported"] - joined["usd"]).abs() <= 0.005 * joined["codes"]).all()


def test_world_records_sum_the_partners(comtrade_world):
    annual = comtrade_world.frame.filter(freq_code="A", reporter_code=156)
    imports = annual.filter(flow_code="M")  # asked of every partner: the World record is their sum
    by_code = imports.filter(pl.col("partner_code") != 0).group_by("ref_year", "cmd_code").agg(pl.col("cif_value").sum())
    world = imports.filter(partner_code=0).select("ref_year", "cmd_code", pl.col("cif_value").alias("world"))
    joined = world.join(by_code, on=["ref_year", "cmd_code"], how="full", coalesce=True)
    assert joined.height == len(comtrade_world.codes) * len(COMTRADE_YEARS)
    assert ((joined["world"] - joined["cif_value"]).abs() < 0.01).all()
    # Exports are asked of the world, the US and the EU: the World record is every importer's BACI flow.
    world_exports = annual.filter(flow_code="X", partner_code=0).filter(pl.col("cmd_code").is_in(["854142", "870380"]))
    sharing = {product: len(codes) for product, codes in hs22_carriers("HS12").items()}
    for year, code, k, value in world_exports.select("ref_year", "cmd_code", "k", "fob_value").rows():
        flows = baci_usd(year, pl.col("i") == 156, pl.lit(True), "j", "partner").filter(k=k)["usd"]
        assert value == pytest.approx(flows.sum() / sharing[k], abs=0.005 * len(flows)), code  # sum of cents


def test_monthly_records_spread_the_year_over_its_months(comtrade_world):
    frame, keys = comtrade_world.frame, ["reporter_code", "flow_code", "partner_code", "cmd_code"]
    monthly = frame.filter(freq_code="M")
    assert set(monthly["partner_code"]) <= set(comtrade.MONTHLY_PARTNERS) and set(monthly["reporter_code"]) == {156}
    sums = monthly.group_by(keys).agg(pl.col("primary_value").sum().alias("months"), pl.len().alias("count"))
    annual = frame.filter(freq_code="A", ref_year=2025, reporter_code=156).filter(
        pl.col("partner_code").is_in(comtrade.MONTHLY_PARTNERS) & ((pl.col("flow_code") == "M") | (pl.col("partner_code") == 0)))
    joined = annual.select(*keys, "primary_value").join(sums, on=keys, how="full", coalesce=True)
    assert joined.height > 50 and (joined["count"] == 12).all()  # the same partners, every month
    assert ((joined["months"] - joined["primary_value"]).abs() <= 0.06 + 1e-9).all()  # twelve roundings to the cent
    by_month = monthly.group_by("ref_month").agg(pl.col("primary_value").sum()).sort("ref_month")["primary_value"]
    assert by_month[1] < by_month[0] < by_month[11]  # a Chinese New Year dip, a year-end peak


def test_the_comtrade_sample_is_labelled_synthetic_in_the_real_layout(comtrade_world):
    manifest = json.loads((comtrade_world.folder / "manifest.json").read_text())
    for request, file in zip(comtrade_world.requests, comtrade_world.landed, strict=True):
        entry = manifest[file.path.name]
        assert entry["synthetic"] and entry["url"].startswith(f"sample://tradedep/comtrade/HS12/C/{request.freq_code}/HS?")
        answer = json.loads(file.path.read_text())
        assert answer["synthetic"] is True and "SYNTHETIC SAMPLE" in answer["note"] and answer["count"] == len(answer["data"])
        assert {record["cmdDesc"] for record in answer["data"]} == {comtrade_sample.CMD_DESC}
        assert {(record["freqCode"], record["classificationCode"]) for record in answer["data"]} == {(request.freq_code, "H6")}
        assert list(answer["data"][0]) == RECORD_FIELDS  # the API's fields, in its order
    if REAL_ANSWER.exists():
        assert list(json.loads(REAL_ANSWER.read_text())["data"][0]) == RECORD_FIELDS


def test_the_comtrade_sample_is_deterministic_reused_and_follows_the_build_revision(comtrade_world, tmp_path):
    again = comtrade_sample.write_sample(comtrade_world.folder, comtrade_world.requests, "HS12")
    assert [file.fetched_at for file in again] == [file.fetched_at for file in comtrade_world.landed]  # reused
    elsewhere = comtrade_sample.write_sample(tmp_path, comtrade_world.requests[:2], "HS12")
    assert [file.sha256 for file in elsewhere] == [file.sha256 for file in comtrade_world.landed[:2]]
    hs17 = comtrade_sample.write_sample(tmp_path, comtrade_world.requests[:2], "HS17")  # rewritten, not reused
    assert all(file.url.startswith("sample://tradedep/comtrade/HS17/") for file in hs17)
    assert [file.sha256 for file in hs17] != [file.sha256 for file in elsewhere]


def test_the_comtrade_sample_starts_with_hs2022():
    with pytest.raises(ValueError, match="years from 2022.*2021"):
        list(comtrade_sample.answer_bodies(comtrade.plan_requests(["854231"], [2021], keyed=True), "HS12"))


def test_every_code_of_a_basket_is_carried_by_the_hs22_codes_asked_for():
    """Converting China's HS22 reports back to HS12 must give each product of the sector map its trade: the codes the
    conversion sends there, or, for a code none is sent to (HS12 854150: the conversion sends its successors
    elsewhere), the HS22 codes the correlation tables link to it; all of them are asked of Comtrade."""
    carriers = hs22_carriers("HS12")
    assert carriers["870390"] == ["870340", "870350", "870360", "870370", "870380", "870390"]  # every hybrid car
    assert carriers["854150"] and "854150" not in hs22_conversion("HS12").values()
    asked = set(comtrade_products("HS12"))
    assert all(set(carriers[product]) <= asked for product in sector_products("HS12"))

"""The synthetic sample: real formats and codes, deterministic, realistic patterns, labelled synthetic."""

import csv
import zipfile

import polars as pl
import pytest

from dagster_project.hs_codes import hs6_codes, hs22_conversion
from dagster_project.sample import baci_sample
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.sources import baci

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
    assert products.height == 5609  # every HS22 subheading in BACI's product list
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

"""Real BACI rows through the loaders and every dbt model: each product, sector and supplier figure equals a
direct computation from the file, and every quality suite passes on real data.

Two real extracts from ../shared/reference (skipped when that folder is absent): 2023 HS22 flows of 32
energy-related products (release V202501, with BACI's own country and product lists), and 2022 and 2024 HS17
flows of 30 critical-material products (release V202601; ISO3 country codes mapped to BACI's codes, values in
USD turned back into BACI's thousands). The raw tables are loaded by the same functions the Dagster assets call;
dbt then builds every model, as `tradedep build` would, without the Dagster run around it.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from dataclasses import dataclass

import duckdb
import polars as pl
import pytest
from conftest import REFERENCE_DIR, needs_reference, write_zip

from dagster_project import raw_tables
from dagster_project.hs_codes import hs6_codes
from dagster_project.quality import mart_suites, raw_suites
from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, load_settings
from dagster_project.sources import baci, landing

pytestmark = [
    pytest.mark.pipeline,
    needs_reference(REFERENCE_DIR / "baci"),
]
CHINA = 156


@dataclass(frozen=True)
class RealCase:
    revision: str
    release: str
    members: dict[int, str]  # year -> file under ../shared/reference
    products: str | None  # BACI's product list, or None to write the revision's codes (hs_products seed)


CASES = {
    "HS22 2023 energy": RealCase("HS22", "V202501", {2023: "baci/BACI_HS22_Y2023_V202501__energy_subset_pandas_rewritten.csv"},
                                 "baci/product_codes_HS22_V202501.csv"),
    "HS17 2022 and 2024 critical materials": RealCase("HS17", "V202601", {
        2022: "baci_china/BACI_HS17_Y2022_V202601__critical_materials_ijcmd_USD__rewritten.csv",
        2024: "baci_china/BACI_HS17_Y2024_V202601__critical_materials_ijcmd_USD__rewritten.csv"}, None),
}


def member_csv(path: str, year: int, iso3_codes: dict[str, int]) -> bytes:
    """The file as a BACI trade member (t,i,j,k,v,q): the HS17 extracts carry ISO3 codes and USD values."""
    text = (REFERENCE_DIR / path).read_text(encoding="utf-8")
    if text.startswith("t,i,j,k,v,q"):
        return text.encode("utf-8")
    out = io.StringIO()
    out.write("t,i,j,k,v,q\n")
    for row in csv.DictReader(io.StringIO(text)):
        out.write(f"{year},{iso3_codes[row['i']]},{iso3_codes[row['j']]},{row['cmd']},{float(row['value']) / 1000:.3f},\n")
    return out.getvalue().encode("utf-8")


def products_csv(case: RealCase) -> bytes:
    if case.products:
        return (REFERENCE_DIR / case.products).read_bytes()
    return ("code,description\n" + "".join(f"{code},HS17 {code}\n" for code in hs6_codes(case.revision))).encode("utf-8")


def build_real(case: RealCase, data_dir) -> dict:
    countries = REFERENCE_DIR / "baci" / "country_codes_V202501.csv"
    iso3_codes = {row["country_iso3"]: int(row["country_code"]) for row in csv.DictReader(countries.open(encoding="utf-8"))}
    release = baci.Release(case.revision, case.release)
    years = sorted(case.members)
    settings = load_settings({"TRADEDEP_DATA_DIR": str(data_dir), "TRADEDEP_HS_REVISION": case.revision,
                              "TRADEDEP_BACI_RELEASE": case.release, "TRADEDEP_YEARS": ",".join(map(str, years)),
                              "TRADEDEP_SOURCES": "baci"})
    zip_path = write_zip(settings.baci_landing_dir / release.zip_name, {
        release.countries_member: countries.read_bytes(),
        release.products_member: products_csv(case),
        **{release.trade_member(year): member_csv(path, year, iso3_codes) for year, path in case.members.items()},
    })
    landed = landing.land_local_file(zip_path, url="file://shared/reference", synthetic=False)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        raw_tables.create_all(con)
        baci.load_countries(con, zip_path, release, landed.manifest_entry())
        baci.load_products(con, zip_path, release, landed.manifest_entry())
        for year in years:
            baci.load_trade_year(con, zip_path, release, year, landed.manifest_entry(), settings.scratch_dir)
    target = data_dir / "dbt_target"  # not dbt/target: tests on other workers read that project's manifest
    result = subprocess.run(
        [BIN_DIR / "dbt", "build", "--exclude-resource-type", "test", "unit_test", "--profiles-dir", ".",
         "--target-path", str(target), "--log-path", str(target), "--vars", json.dumps(settings.dbt_vars())],
        cwd=DBT_PROJECT_DIR,
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = {name: con.sql(f"SELECT * FROM {name}").pl() for name in (
            "marts.fct_sector_dependency", "marts.fct_product_dependency", "marts.fct_sector_suppliers",
            "marts.fct_supplier_shift", "intermediate.int_sector_basket_products", "seeds.partner_group")}
        flows = con.sql("SELECT t AS year, i, j, k, round(v * 1000) AS usd, q FROM raw.baci_trade").pl()
    members = tables["seeds.partner_group"].filter(pl.col("country_code").is_not_null())
    groups = {group: rows["country_code"].to_list() for (group,), rows in members.group_by("partner_group")}
    assert groups["US"] == [842] and groups["Taiwan"] == [490] and len(groups["EU27"]) == 27
    return {"settings": settings, "tables": tables, "flows": flows, "years": years, "groups": groups}


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def real(request, tmp_path_factory):
    return build_real(CASES[request.param], tmp_path_factory.mktemp("real") / "data")


def test_the_raw_files_match_the_reference_totals(real):
    """The loaders kept every dollar: China's imports as SOURCE.txt reports them for the HS17 extracts."""
    china = real["flows"].filter(pl.col("j") == CHINA).group_by("year").agg(pl.col("usd").sum())
    totals = dict(china.iter_rows())
    if 2024 in totals:
        assert totals[2022] == 80_157_724_453 and totals[2024] == 91_076_295_145
    assert all(value > 0 for value in totals.values())


def test_product_figures_equal_a_direct_computation(real):
    flows = real["flows"]
    products = real["tables"]["marts.fct_product_dependency"]
    assert products.height > 20 and set(products["data_source"]) == {f"CEPII BACI {real['settings'].baci_release} "
                                                                      f"({real['settings'].hs_revision})"}
    for row in products.iter_rows(named=True):
        year_flows = flows.filter((pl.col("year") == row["year"]) & (pl.col("k") == row["hs6"]))
        imports = year_flows.filter(pl.col("j") == CHINA)
        exports = year_flows.filter(pl.col("i") == CHINA)["usd"].sum()
        world = imports["usd"].sum()
        assert row["imports_from_world_usd"] == world and row["exports_to_world_usd"] == exports
        by_supplier = imports.group_by("i").agg(pl.col("usd").sum())
        if world:
            assert row["supplier_hhi"] == pytest.approx(((by_supplier["usd"] / world) ** 2).sum(), rel=1e-12)
            assert row["us_import_share"] == pytest.approx(imports.filter(pl.col("i") == 842)["usd"].sum() / world, rel=1e-12)
            assert row["supplier_1_code"] == by_supplier.sort(["usd", "i"], descending=[True, False])["i"][0]
            with_quantity = imports.filter(pl.col("q").is_not_null())
            if with_quantity.height:
                assert row["import_unit_value_usd_per_tonne"] == pytest.approx(
                    with_quantity["usd"].sum() / with_quantity["q"].sum(), rel=1e-9)
        world_exports = year_flows.group_by("i").agg(pl.col("usd").sum())
        expected_world_hhi = ((world_exports["usd"] / world_exports["usd"].sum()) ** 2).sum()
        assert row["world_export_hhi"] == pytest.approx(expected_world_hhi, rel=1e-12)
        assert row["is_dependent"] == bool(
            world > 0 and row["supplier_hhi"] > 0.4 and expected_world_hhi > 0.4 and world > exports
        )
        assert row["is_persistent_dependency"] is None  # no build here holds three consecutive years


def full_baskets(real) -> dict[str, set[str]]:
    """Each sector's headline basket computed here from the seed: core prefixes matched against the revision's codes."""
    settings = real["settings"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        prefixes = con.sql("SELECT sector, hs_prefix FROM seeds.sector_hs_map WHERE scope = 'core' AND hs_revision = ?",
                           params=[settings.hs_revision]).pl()
    codes = hs6_codes(settings.hs_revision)
    return {sector: {code for code in codes if any(code.startswith(p) for p in rows["hs_prefix"])}
            for (sector,), rows in prefixes.group_by("sector")}


def test_sector_figures_equal_a_direct_computation(real):
    flows, groups = real["flows"], real["groups"]
    sectors = real["tables"]["marts.fct_sector_dependency"]
    basket_products = real["tables"]["intermediate.int_sector_basket_products"]
    baskets = {(sector, "full"): codes for sector, codes in full_baskets(real).items()}
    assert baskets.keys() <= {(s, b) for s, b in basket_products.select("sector", "basket").unique().iter_rows()}
    for (sector, basket), rows in basket_products.filter(pl.col("basket") != "full").group_by("sector", "basket"):
        baskets[sector, basket] = set(rows["hs6"])
    checked = 0
    for (sector, basket), codes in baskets.items():
        for year in real["years"]:
            in_basket = flows.filter((pl.col("year") == year) & pl.col("k").is_in(list(codes)))
            imports = in_basket.filter(pl.col("j") == CHINA)
            exports = in_basket.filter(pl.col("i") == CHINA)["usd"].sum()
            world = imports["usd"].sum()
            rows = sectors.filter((pl.col("sector") == sector) & (pl.col("basket") == basket) & (pl.col("year") == year))
            for row in rows.iter_rows(named=True):
                assert row["imports_from_world_usd"] == world and row["exports_to_world_usd"] == exports, (sector, basket)
                partner = world if row["partner_group"] == "World" else imports.filter(
                    pl.col("i").is_in(groups[row["partner_group"]]))["usd"].sum()
                assert row["imports_from_partner_usd"] == partner
                if world:
                    assert row["partner_import_share"] == pytest.approx(partner / world, rel=1e-12)
                    assert row["normalised_trade_balance"] == pytest.approx((exports - world) / (exports + world), rel=1e-12)
                    checked += 1
    assert checked >= 9 * 3  # several sectors with imports, every partner group


def test_supplier_figures_equal_a_direct_computation(real):
    flows = real["flows"]
    suppliers = real["tables"]["marts.fct_sector_suppliers"]
    checked = 0
    for sector, codes in full_baskets(real).items():
        for year in real["years"]:
            imports = flows.filter((pl.col("year") == year) & pl.col("k").is_in(list(codes)) & (pl.col("j") == CHINA))
            by_supplier = imports.group_by("i").agg(pl.col("usd").sum()).sort(["usd", "i"], descending=[True, False])
            rows = suppliers.filter((pl.col("sector") == sector) & (pl.col("year") == year)).sort("supplier_rank")
            assert rows["supplier_code"].to_list() == by_supplier["i"].to_list(), (sector, year)
            total = by_supplier["usd"].sum()
            for row, (code, usd) in zip(rows.iter_rows(named=True), by_supplier.iter_rows(), strict=True):
                assert row["imports_usd"] == usd and row["import_share"] == pytest.approx(usd / total, rel=1e-12)
                checked += 1
    assert checked > 50
    shift = real["tables"]["marts.fct_supplier_shift"]
    # The baseline (2013-2015) is outside these builds: both windows are the build's years, so nothing shifted.
    expected = suppliers.group_by("sector", "supplier_code").agg((pl.col("import_share").sum() / len(real["years"])).alias("share"))
    joined = shift.join(expected, on=["sector", "supplier_code"])
    assert joined.height == shift.height > 0
    assert ((joined["latest_import_share"] - joined["share"]).abs() < 1e-12).all() and (joined["share_change_pp"].abs() < 1e-9).all()


def test_every_quality_suite_passes_on_real_data(real):
    settings = real["settings"]
    for suite in [*raw_suites.enabled_suites(settings), *mart_suites.enabled_suites(settings)]:
        outcome = raw_suites.validate(settings, suite)
        assert outcome.success, outcome.summary()

"""Real BACI rows through the whole pipeline: every mart figure equals a direct computation from the file.

The landing zone gets a zip made of real BACI files from ../shared/reference (the 2023 HS22 country and
product lists and real 2023 flows of 32 energy-related products); skipped when that folder is absent.
"""

import os
import subprocess

import duckdb
import polars as pl
import pytest
from conftest import REFERENCE_DIR, needs_reference, write_zip

from dagster_project.settings import BIN_DIR, PROJECT_ROOT
from dagster_project.sources import landing
from dagster_project.sources.baci import Release

pytestmark = [
    pytest.mark.pipeline,
    needs_reference(REFERENCE_DIR / "baci"),
]
RELEASE = Release("HS22", "V202501")
REAL_FLOWS = "BACI_HS22_Y2023_V202501__energy_subset_pandas_rewritten.csv"


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("real") / "data"
    reference = REFERENCE_DIR / "baci"
    zip_path = write_zip(
        data_dir / "raw" / "baci" / RELEASE.zip_name,
        {
            RELEASE.countries_member: (reference / "country_codes_V202501.csv").read_bytes(),
            RELEASE.products_member: (reference / "product_codes_HS22_V202501.csv").read_bytes(),
            RELEASE.trade_member(2023): (reference / REAL_FLOWS).read_bytes(),
        },
    )
    landing.land_local_file(zip_path, url="file://shared/reference/baci", synthetic=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
    env.update({"TRADEDEP_DATA_DIR": str(data_dir), "TRADEDEP_HS_REVISION": "HS22", "TRADEDEP_YEARS": "2023",
                "TRADEDEP_SOURCES": "baci"})
    result = subprocess.run([BIN_DIR / "tradedep", "build"], env=env, capture_output=True, text=True, timeout=900,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        marts = {name: con.sql(f"SELECT * FROM marts.{name}").pl() for name in ("fct_sector_dependency", "fct_product_dependency")}
        prefixes = con.sql("SELECT sector, hs_prefix FROM seeds.sector_hs_map WHERE hs_revision = 'HS22'").pl()
        eu27 = con.sql("SELECT country_code FROM seeds.partner_group WHERE partner_group = 'EU27'").pl()["country_code"].to_list()
    flows = pl.read_csv(REFERENCE_DIR / "baci" / REAL_FLOWS, schema_overrides={"k": pl.String, "v": pl.Float64})
    flows = flows.with_columns((pl.col("v") * 1000).round(0).alias("usd"))
    return {"marts": marts, "prefixes": prefixes, "eu27": eu27, "flows": flows, "stdout": result.stdout}


def test_the_real_build_says_where_its_numbers_come_from(real_build):
    assert "SYNTHETIC" not in real_build["stdout"]
    assert set(real_build["marts"]["fct_sector_dependency"]["data_source"]) == {"CEPII BACI V202501 (HS22)"}


def test_product_figures_equal_a_direct_computation(real_build):
    flows = real_build["flows"]
    products = real_build["marts"]["fct_product_dependency"]
    for row in products.iter_rows(named=True):
        imports = flows.filter((pl.col("j") == 156) & (pl.col("k") == row["hs6"]))
        exports = flows.filter((pl.col("i") == 156) & (pl.col("k") == row["hs6"]))["usd"].sum()
        world = imports["usd"].sum()
        assert row["imports_from_world_usd"] == world and row["exports_to_world_usd"] == exports
        by_supplier = imports.group_by("i").agg(pl.col("usd").sum())
        if world:
            assert row["supplier_hhi"] == pytest.approx(((by_supplier["usd"] / world) ** 2).sum(), rel=1e-12)
            assert row["us_import_share"] == pytest.approx(imports.filter(pl.col("i") == 842)["usd"].sum() / world, rel=1e-12)
            assert row["supplier_1_code"] == by_supplier.sort(["usd", "i"], descending=[True, False])["i"][0]
        world_exports = flows.filter(pl.col("k") == row["hs6"]).group_by("i").agg(pl.col("usd").sum())
        expected_world_hhi = ((world_exports["usd"] / world_exports["usd"].sum()) ** 2).sum()
        assert row["world_export_hhi"] == pytest.approx(expected_world_hhi, rel=1e-12)
        assert row["is_dependent"] == bool(
            world > 0 and row["supplier_hhi"] > 0.4 and expected_world_hhi > 0.4 and world > exports
        )


def test_sector_figures_equal_a_direct_computation(real_build):
    flows, prefixes, eu27 = real_build["flows"], real_build["prefixes"], real_build["eu27"]
    sectors = real_build["marts"]["fct_sector_dependency"]
    checked = 0
    for sector in sectors["sector"].unique():
        sector_prefixes = prefixes.filter(pl.col("sector") == sector)["hs_prefix"].to_list()
        in_sector = pl.any_horizontal([pl.col("k").str.starts_with(p) for p in sector_prefixes])
        imports = flows.filter(in_sector & (pl.col("j") == 156))
        exports = flows.filter(in_sector & (pl.col("i") == 156))["usd"].sum()
        world = imports["usd"].sum()
        expected = {"World": world, "US": imports.filter(pl.col("i") == 842)["usd"].sum(),
                    "EU27": imports.filter(pl.col("i").is_in(eu27))["usd"].sum()}
        for row in sectors.filter(pl.col("sector") == sector).iter_rows(named=True):
            assert row["imports_from_world_usd"] == world and row["exports_to_world_usd"] == exports
            if row["partner_group"] in expected and world:
                assert row["imports_from_partner_usd"] == expected[row["partner_group"]]
                assert row["partner_import_share"] == pytest.approx(expected[row["partner_group"]] / world, rel=1e-12)
                checked += 1
    assert checked >= 6  # the energy products reach several sectors (green energy, power equipment...)

"""The whole pipeline on the synthetic sample, through the real `tradedep` command: what the session's build made
(read only). Builds on copies of it, and builds that fail: tests/test_rebuilds.py."""

import functools
import json
import re
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import polars as pl
import pytest

from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, PROJECT_ROOT
from conftest import REFERENCE_DIR, needs_reference
from sample_build import MART, YEARS, instance_of, query, sector_baskets

pytestmark = pytest.mark.pipeline


def test_the_build_reports_a_synthetic_warehouse(built):
    assert "SYNTHETIC SAMPLE" in built.first_run.stdout
    assert built.settings.warehouse_path.exists()


def test_a_piped_build_prints_a_line_per_step_and_the_summary_and_keeps_the_rest_in_its_log(built):
    output = built.first_run.stdout
    lines = output.splitlines()
    assert "\x1b" not in output and len(lines) < 60, output
    steps = [line for line in lines if re.match(r"\[ ?\d+/\d+\] ", line)]
    total = int(re.match(r"\[ ?\d+/(\d+)\]", steps[0]).group(1))
    assert len(steps) == total and all(" ok " in line for line in steps)
    assert any(line.endswith(" tradedep_dbt") or " tradedep_dbt (" in line for line in steps)
    assert "Done. PASS=" not in output and " - dagster - " not in output  # dbt's and Dagster's lines: in the log
    log = Path(re.search(r"^Full log .*: (\S+)$", output, re.M).group(1))
    assert log.parent == built.settings.logs_dir
    text = log.read_text()
    assert "Done. PASS=" in text and " - dagster - INFO - " in text and "\x1b" not in text
    assert "instead of an `AssetCheckResult`" not in text  # dagster-dbt's notice on the singular test is silenced


def test_the_mart_covers_every_sector_basket_partner_and_year(built):
    mart = query(built.settings, f"SELECT * FROM {MART}")
    baskets = sector_baskets(built.settings)
    assert {sector for sector, _ in baskets} == set(mart["sector"]) and len(set(mart["sector"])) == 14
    assert {sector for sector, basket in baskets if basket == "broad"} == {"Chip-making equipment", "Green energy", "Petrochemicals"}
    groups = set(query(built.settings, "SELECT DISTINCT partner_group FROM seeds.partner_group")["partner_group"])
    assert {"US", "EU27", "World", "US+EU", "Japan, Korea, Taiwan", "Japan", "Korea", "Taiwan", "Netherlands"} == groups
    assert groups == set(mart["partner_group"])
    years = [*YEARS, *comtrade_years(built)]  # BACI's, then the years China has reported since
    assert sorted(set(mart["year"])) == years
    assert mart.height == len(baskets) * len(groups) * len(years)
    assert mart["is_synthetic"].all() and mart["data_source"].str.starts_with("SYNTHETIC SAMPLE").all()
    assert (mart["imports_from_world_usd"] > 0).all()


def test_mart_numbers_match_an_independent_computation(built):
    """Recompute one sector's figures from raw.baci_trade with polars and compare with the mart."""
    trade = query(built.settings, "SELECT t AS year, i, j, k, v * 1000 AS usd FROM raw.baci_trade")
    prefixes = query(built.settings, "SELECT hs_prefix FROM seeds.sector_hs_map WHERE sector = 'Chip-making equipment' "
                     "AND hs_revision = 'HS12' AND scope = 'core'")["hs_prefix"].to_list()
    in_sector = pl.any_horizontal([pl.col("k").str.starts_with(prefix) for prefix in prefixes])
    eu = query(built.settings, "SELECT country_code FROM seeds.partner_group WHERE partner_group = 'EU27'")["country_code"].to_list()
    for year in YEARS:
        imports = trade.filter(in_sector & (pl.col("j") == 156) & (pl.col("year") == year))
        world = imports["usd"].sum()
        exports = trade.filter(in_sector & (pl.col("i") == 156) & (pl.col("year") == year))["usd"].sum()
        by_product = imports.group_by("k").agg(pl.col("usd").sum().alias("m"))
        hhi = imports.join(by_product, on="k").group_by("k").agg(((pl.col("usd") / pl.col("m")) ** 2).sum().alias("hhi"), pl.col("m").first())
        expected = {
            "US": imports.filter(pl.col("i") == 842)["usd"].sum(),
            "EU27": imports.filter(pl.col("i").is_in(eu))["usd"].sum(),
            "US+EU": imports.filter(pl.col("i").is_in([842, *eu]))["usd"].sum(),
            "Japan, Korea, Taiwan": imports.filter(pl.col("i").is_in([392, 410, 490]))["usd"].sum(),
            "Japan": imports.filter(pl.col("i") == 392)["usd"].sum(),
            "Korea": imports.filter(pl.col("i") == 410)["usd"].sum(),
            "Taiwan": imports.filter(pl.col("i") == 490)["usd"].sum(),
            "Netherlands": imports.filter(pl.col("i") == 528)["usd"].sum(),
            "World": world,
        }
        mart = query(built.settings, f"SELECT * FROM {MART} WHERE sector = 'Chip-making equipment' AND basket = 'full' "
                     "AND year = ?", [year])
        for row in mart.iter_rows(named=True):
            assert row["imports_from_partner_usd"] == pytest.approx(expected[row["partner_group"]], rel=1e-9)
            assert row["imports_from_world_usd"] == pytest.approx(world, rel=1e-9)
            assert row["partner_import_share"] == pytest.approx(expected[row["partner_group"]] / world, rel=1e-9)
            assert row["exports_to_world_usd"] == pytest.approx(exports, rel=1e-9)
            assert row["net_import_ratio"] == pytest.approx(world / exports, rel=1e-9)
            assert row["supplier_hhi"] == pytest.approx((hhi["m"] * hhi["hhi"]).sum() / hhi["m"].sum(), rel=1e-9)


def test_the_warehouse_is_written_at_the_oldest_storage_version_so_older_clients_open_it(built):
    """dbt and every load write into the file at the storage version it was created with (docs/bi.md: which
    clients open it)."""
    from dagster_project.warehouse import STORAGE_NUMBER, STORAGE_VERSION

    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'warehouse'").fetchall()[0][0]
    assert tags["storage_version"] == f"{STORAGE_VERSION}+" == "v1.0.0+"
    header = built.settings.warehouse_path.read_bytes()[:20]
    assert header[8:12] == b"DUCK" and int.from_bytes(header[12:20], "little") == STORAGE_NUMBER


def test_materialisations_are_recorded_and_marked_synthetic(built):
    with instance_of(built.settings) as instance:
        for key in (["raw", "baci_trade"], ["raw", "baci_countries"], ["marts", "fct_sector_dependency"]):
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None, key
            assert event.asset_materialization.metadata["synthetic"].value is True, key
        trade = instance.get_latest_materialization_event(dg.AssetKey(["raw", "baci_trade"])).asset_materialization
    assert trade.metadata["rows_loaded"].value > 0 and trade.metadata["byte_count"].value > 0
    assert f"BACI_HS12_Y{YEARS[-1]}_V202501.csv" in trade.metadata["source_members"].value


def test_definitions_validate_and_the_graph_is_connected(built):
    result = subprocess.run([BIN_DIR / "dagster", "definitions", "validate"], env=built.env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    from dagster_project.definitions import build_definitions

    defs = build_definitions(built.settings)
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey(["raw", "baci_trade"]) in graph.get(dg.AssetKey(["staging", "stg_baci__trade"])).parent_keys
    assert dg.AssetKey(["landing", "baci_release"]) in graph.get(dg.AssetKey(["raw", "baci_trade"])).parent_keys
    specs = [spec for checks in defs.asset_checks for spec in checks.check_specs]
    raw_checks = {spec.name: spec for spec in specs if spec.asset_key.path[0] == "raw"}
    assert {"gx_raw_baci_trade", "gx_raw_baci_trade_years", "gx_raw_baci_members", "gx_raw_baci_china_import_shares",
            "gx_raw_baci_countries", "gx_raw_baci_products",
            "gx_raw_comtrade_flows", "gx_raw_oecd_tiva", "gx_raw_worldbank_indicators"} == set(raw_checks)
    assert all(spec.blocking for spec in raw_checks.values())
    assert any(
        spec.name == "gx_fct_sector_dependency" and spec.blocking
        and spec.asset_key == dg.AssetKey(["marts", "fct_sector_dependency"])
        for spec in specs
    )


def test_every_source_is_loaded_and_marked_synthetic(built):
    rows = query(built.settings, "SELECT source, is_enabled, row_count, is_synthetic FROM marts.dim_data_source ORDER BY source")
    assert rows["source"].to_list() == ["baci", "comtrade", "oecd_tiva", "worldbank"]
    assert rows["is_enabled"].all() and (rows["row_count"] > 0).all() and rows["is_synthetic"].all()
    by_source = query(built.settings, "SELECT DISTINCT source FROM intermediate.int_china_flows_by_source ORDER BY 1")
    assert by_source["source"].to_list() == ["baci", "comtrade"]


def test_the_marts_agree_with_each_other(built):
    """Sector totals equal the sum of their basket's products; group and partner totals add up; the comparable
    basket is inside the full one and the full one inside the broad one; supplier shares add up to 1."""
    mismatched = query(built.settings, f"""
        SELECT s.sector, s.basket, s.year, s.imports_from_world_usd, sum(p.imports_from_world_usd) AS products_total
        FROM (SELECT DISTINCT sector, basket, year, imports_from_world_usd FROM {MART}) AS s
        JOIN intermediate.int_sector_basket_products AS sp ON sp.sector = s.sector AND sp.basket = s.basket
        JOIN marts.fct_product_dependency AS p ON p.hs6 = sp.hs6 AND p.year = s.year
        GROUP BY ALL HAVING abs(s.imports_from_world_usd - sum(p.imports_from_world_usd)) > 0.5""")
    assert mismatched.height == 0, mismatched
    outside = query(built.settings, """
        SELECT inner_basket.sector, inner_basket.basket, inner_basket.hs6
        FROM intermediate.int_sector_basket_products AS inner_basket
        ANTI JOIN intermediate.int_sector_basket_products AS outer_basket
            ON outer_basket.sector = inner_basket.sector AND outer_basket.hs6 = inner_basket.hs6
            AND outer_basket.basket = CASE inner_basket.basket WHEN 'comparable' THEN 'full' ELSE 'broad' END
        WHERE inner_basket.basket = 'comparable'
           OR (inner_basket.basket = 'full' AND inner_basket.sector IN
               (SELECT sector FROM intermediate.int_sector_basket_products WHERE basket = 'broad'))""")
    assert outside.height == 0, outside
    suppliers = query(built.settings, """
        SELECT s.sector, s.year, sum(s.imports_usd) AS suppliers, max(d.imports_from_world_usd) AS world
        FROM marts.fct_sector_suppliers AS s
        JOIN marts.fct_sector_dependency AS d USING (sector, year)
        WHERE d.basket = 'full' AND d.partner_group = 'World' GROUP BY ALL""")
    assert ((suppliers["suppliers"] - suppliers["world"]).abs() < 0.5).all()
    groups = query(built.settings, f"""
        SELECT sector, basket, year, max(CASE WHEN partner_group = 'US' THEN imports_from_partner_usd END)
             + max(CASE WHEN partner_group = 'EU27' THEN imports_from_partner_usd END)
             - max(CASE WHEN partner_group = 'US+EU' THEN imports_from_partner_usd END) AS difference
        FROM {MART} GROUP BY ALL""")
    assert (groups["difference"].abs() < 0.5).all()
    partners = query(built.settings, """
        SELECT year, hs6, sum(imports_usd) FILTER (WHERE partner_group = 'World') AS world,
               max(supplier_count) AS suppliers
        FROM intermediate.int_china_product_imports_by_partner JOIN intermediate.int_china_product_totals USING (year, hs6)
        GROUP BY ALL HAVING abs(sum(imports_usd) FILTER (WHERE partner_group = 'World') - max(imports_world_usd)) > 0.5""")
    assert partners.height == 0, partners  # the World group is every supplier: shares over all partners sum to 1


def test_the_marts_recover_the_patterns_the_sample_was_generated_with(built):
    """The sample generator invents falling US and EU shares in rail and green energy and a persistent chokepoint in
    chip-making tools: the marts must recover them. This checks the code; it says nothing about China."""
    trend = query(built.settings, "SELECT * FROM marts.fct_self_reliance_trend WHERE partner_group = 'US+EU' AND basket = 'full'")
    direction = dict(zip(trend["sector"], trend["measured_direction"], strict=True))
    assert direction["Rail"] == direction["Green energy"] == "falling dependency"
    # 2013-2015 asked, none held: the baseline is the build's first three years, the latest its last three (the last
    # ones from China's reports).
    last_year = comtrade_years(built)[-1]
    assert trend.select("baseline_first_year", "baseline_last_year", "latest_first_year", "latest_last_year",
                        "latest_window_sources").unique().rows() == [
        (YEARS[0], YEARS[2], last_year - 2, last_year, "BACI; UN Comtrade (China-reported)")]
    verdicts = dict(query(built.settings, "SELECT sector, verdict FROM marts.fct_claim_assessment").iter_rows())
    assert verdicts["Rail"] == "consistent" and verdicts["Aerospace"] == "no claim"
    chip_tools = query(built.settings, """
        SELECT year, bool_or(is_persistent_dependency) AS persistent, bool_or(is_chokepoint) AS chokepoint,
               min(window_years_observed) AS window_years
        FROM marts.fct_product_dependency WHERE sectors LIKE '%Chip-making equipment%' AND hs6 LIKE '8486%'
        GROUP BY year ORDER BY year""")
    # Persistence needs three years: unknown in the build's first two, then a persistent chokepoint.
    later = chip_tools.height - 2  # BACI's later years and the years from China's reports
    assert chip_tools["window_years"].to_list() == [1, 2, *[3] * later]
    assert chip_tools["chokepoint"].to_list() == [None, None, *[True] * later] and chip_tools["persistent"][-1]
    shift = query(built.settings, "SELECT * FROM marts.fct_supplier_shift WHERE sector = 'Green energy' ORDER BY share_change_pp")
    assert shift["supplier_partner_groups"][0] is not None and "US+EU" in shift["supplier_partner_groups"][0]  # the biggest loser


def test_dbt_docs_generate(built, tmp_path):
    result = subprocess.run(
        [BIN_DIR / "dbt", "docs", "generate", "--static", "--profiles-dir", ".", "--target-path", str(tmp_path),
         "--vars", json.dumps(built.settings.dbt_vars())],
        env=built.env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    assert "model.tradedep.fct_product_dependency" in catalog["nodes"]
    assert (tmp_path / "static_index.html").stat().st_size > 100_000


def _set(column, value):
    def change(frame):
        frame = frame.copy()
        frame[column] = frame[column].astype(object)
        frame.loc[0, column] = value
        return frame
    return change


def _duplicate(frame):
    return pd.concat([frame, frame.iloc[[0]]], ignore_index=True)


MART_BREAKAGES = [
    ("fct_product_dependency", _duplicate, "expect_compound_columns_to_be_unique", "hs6,year"),
    ("fct_product_dependency", _set("us_import_share", 1.2), "expect_column_values_to_be_between", "us_import_share"),
    ("fct_product_dependency", _set("world_export_hhi", -0.1), "expect_column_values_to_be_between", "world_export_hhi"),
    ("fct_product_dependency", _set("imports_from_world_usd", -1.0), "expect_column_values_to_be_between", "imports_from_world_usd"),
    ("fct_product_dependency", _set("normalised_trade_balance", 1.5), "expect_column_values_to_be_between", "normalised_trade_balance"),
    ("fct_product_dependency", _set("year", 2031), "expect_column_distinct_values_to_equal_set", "year"),
    ("fct_product_dependency", _set("hs6", "8486"), "expect_column_values_to_match_regex", "hs6"),
    ("fct_product_dependency", _set("is_dependent", None), "expect_column_values_to_not_be_null", "is_dependent"),
    ("fct_self_reliance_trend", _set("measured_direction", "better"), "expect_column_values_to_be_in_set", "measured_direction"),
    ("fct_self_reliance_trend", lambda f: f.iloc[1:], "expect_table_row_count_to_equal", None),
    ("fct_self_reliance_trend", _set("partner_import_share_latest", 2.0), "expect_column_values_to_be_between", "partner_import_share_latest"),
    ("fct_self_reliance_trend", _set("basket", "everything"), "expect_column_values_to_be_in_set", "basket"),
    ("fct_claim_assessment", _set("verdict", "proven"), "expect_column_values_to_be_in_set", "verdict"),
    ("fct_claim_assessment", lambda f: f.iloc[1:], "expect_column_distinct_values_to_equal_set", "sector"),
    ("fct_sector_suppliers", _duplicate, "expect_compound_columns_to_be_unique", "sector,supplier_code,year"),
    ("fct_sector_suppliers", _set("supplier_rank", 0), "expect_column_values_to_be_between", "supplier_rank"),
    ("fct_supplier_shift", _set("latest_import_share", 1.5), "expect_column_values_to_be_between", "latest_import_share"),
    ("fct_mirror_gaps", _set("reported_by", "nobody"), "expect_column_values_to_be_in_set", "reported_by"),
    ("fct_mirror_gaps", _duplicate, "expect_compound_columns_to_be_unique", "hs6,partner_code,year"),
    ("fct_industry_import_penetration", _set("import_penetration", -0.5), "expect_column_values_to_be_between", "import_penetration"),
    ("dim_country", _duplicate, "expect_column_values_to_be_unique", "country_code"),
    ("dim_product", _set("hs6", None), "expect_column_values_to_not_be_null", "hs6"),
    ("dim_data_source", lambda f: f.iloc[1:], "expect_column_distinct_values_to_equal_set", "source"),
]


@pytest.fixture(scope="module")
def mart_suite(built):
    """A mart suite's expectations and its mart's rows as a frame, by suite name (each read once)."""
    from dagster_project.quality.mart_suites import MART_SUITES

    @functools.cache
    def read(name):
        suite = next(suite for suite in MART_SUITES if suite.name == name)
        with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
            return suite.expectations(built.settings, con), con.execute(f"SELECT * FROM {suite.table}").df()
    return read


@pytest.mark.parametrize("name", sorted({name for name, *_ in MART_BREAKAGES}))
def test_each_mart_passes_its_suite_when_validated_as_a_frame(built, tmp_path, mart_suite, name):
    """The frames below are validated as a table of a copy of the warehouse: unbroken, each mart passes that way."""
    from conftest import validate_frame

    expectations, frame = mart_suite(name)
    assert validate_frame(name, frame, expectations, tmp_path, built.settings.warehouse_path).success


@pytest.mark.parametrize(("name", "breakage", "expectation", "column"), MART_BREAKAGES)
def test_each_mart_suite_names_the_invariant_bad_data_breaks(built, tmp_path, mart_suite, name, breakage, expectation,
                                                            column):
    from conftest import validate_frame

    expectations, frame = mart_suite(name)
    outcome = validate_frame(name, breakage(frame), expectations, tmp_path, built.settings.warehouse_path)
    assert (expectation, column) in {(f.expectation, f.column) for f in outcome.failures}, outcome.summary()


def comtrade_years(built) -> list[int]:
    """The years the marts take from China's reports to Comtrade: those after BACI's last that China reported."""
    return [year for year in built.settings.comtrade_years if year > YEARS[-1]]


def test_the_marts_run_to_the_last_year_china_has_reported(built):
    spliced = comtrade_years(built)
    assert spliced, "the sample's Comtrade years must reach past BACI's last year"
    mart = query(built.settings, f"SELECT DISTINCT year, data_source, valuation FROM {MART} ORDER BY year")
    assert mart["year"].to_list() == [*YEARS, *spliced]
    reported = mart.filter(pl.col("year") > YEARS[-1])
    assert reported["valuation"].str.contains("China-reported").all() and reported["data_source"].str.contains("Comtrade").all()
    sources = {row["source"]: row for row in query(built.settings, "SELECT * FROM marts.dim_data_source").iter_rows(named=True)}
    assert (sources["baci"]["mart_first_year"], sources["baci"]["mart_last_year"]) == (YEARS[0], YEARS[-1])
    assert (sources["comtrade"]["mart_first_year"], sources["comtrade"]["mart_last_year"]) == (spliced[0], spliced[-1])
    assert sources["comtrade"]["overlap_year"] == YEARS[-1] and sources["comtrade"]["last_month"] is not None
    assert f"UN Comtrade (China-reported) {spliced[0]}-{spliced[-1]}" in built.first_run.stdout  # the build summary says so


def reference_conversion(build_revision: str) -> dict[str, str]:
    """HS22 codes -> the build revision's, by the UNSD conversion as the dbt seed holds it (is_conversion links)."""
    links = pl.read_csv(DBT_PROJECT_DIR / "seeds" / "hs_correspondence.csv", schema_overrides={
        "newer_hs6": pl.String, "older_hs6": pl.String}).filter(pl.col("is_conversion"))
    step = {revision: dict(rows.select("newer_hs6", "older_hs6").iter_rows())
            for (revision,), rows in links.group_by("newer_revision")}
    return {code: step["HS17"][hs17] for code, hs17 in step["HS22"].items() if hs17 in step["HS17"]} if build_revision == "HS12" else step["HS22"]


def test_a_comtrade_years_sector_totals_equal_the_sum_of_the_converted_records(built):
    """Recompute a reported year's sector figures from the raw Comtrade records: convert each HS22 code to HS12 with
    the UNSD conversion, keep the sector's full basket, sum China's reported imports over partners."""
    year = comtrade_years(built)[-1]
    convert = reference_conversion("HS12")
    basket = set(query(built.settings, "SELECT hs6 FROM intermediate.int_sector_basket_products "
                       "WHERE sector = 'Chip-making equipment' AND basket = 'full'")["hs6"])
    records = query(built.settings, """SELECT cmd_code, partner_code, flow_code, round(primary_value) AS usd
        FROM raw.comtrade_flows WHERE reporter_code = 156 AND freq_code = 'A' AND ref_year = ?
        AND coalesce(partner2_code, 0) = 0 AND coalesce(mot_code, 0) = 0 AND coalesce(customs_code, 'C00') = 'C00'""",
                    [year]).with_columns(pl.col("cmd_code").replace_strict(convert, default=None).alias("hs6"))
    in_sector = records.filter(pl.col("hs6").is_in(list(basket)))
    imports = in_sector.filter((pl.col("flow_code") == "M") & (pl.col("partner_code") != 0))
    exports = in_sector.filter((pl.col("flow_code") == "X") & (pl.col("partner_code") == 0))["usd"].sum()
    assert imports.height > 0
    rows = query(built.settings, f"SELECT * FROM {MART} WHERE sector = 'Chip-making equipment' AND basket = 'full' "
                 "AND year = ?", [year])
    for row in rows.iter_rows(named=True):
        members = query(built.settings, "SELECT country_code FROM seeds.partner_group WHERE partner_group = ?",
                        [row["partner_group"]])["country_code"].to_list()
        partner = imports if members == [None] else imports.filter(pl.col("partner_code").is_in(members))
        assert row["imports_from_world_usd"] == imports["usd"].sum() and row["exports_to_world_usd"] == exports
        assert row["imports_from_partner_usd"] == partner["usd"].sum(), row["partner_group"]


def test_the_overlap_mart_sets_both_sources_side_by_side(built):
    overlap = query(built.settings, "SELECT * FROM marts.fct_source_overlap WHERE partner_group = 'World'")
    assert set(overlap["year"]) == {YEARS[-1]} and overlap.height == 14
    assert (overlap["baci_imports_usd"] > 0).all() and (overlap["comtrade_imports_usd"] > 0).all()
    # The sample's China reports its imports CIF, 2.5-6.5% above the FOB flows BACI holds.
    traded = overlap.filter(pl.col("baci_imports_usd") > 1e6)
    assert traded["comtrade_to_baci_ratio"].is_between(1.02, 1.07).all(), traded.select("sector", "comtrade_to_baci_ratio")


@needs_reference(REFERENCE_DIR / "concordance")
def test_real_codes_convert_as_the_unsd_tables_say(built):
    """The warehouse's conversion of every HS22 code to HS12 (int_hs_conversion) against the UNSD conversion tables
    read straight from ../shared/reference: HS22 854142/854143 (solar cells, modules) go to HS17 854140 and so to
    HS12 854140; HS22 850171 (a photovoltaic generator) goes to HS17 850131, which is HS12 850131."""
    def table(name: str) -> dict[str, str]:
        frame = pl.read_csv(REFERENCE_DIR / "concordance" / name, infer_schema_length=0)
        return dict(frame.select(frame.columns[0], frame.columns[1]).iter_rows())

    hs22_hs17, hs17_hs12 = table("HS2022toHS2017_Conversion.csv"), table("HS2017toHS2012_Conversion.csv")
    assert hs22_hs17["854142"] == hs22_hs17["854143"] == "854140" and hs22_hs17["850171"] == "850131"
    expected = {code: hs17_hs12[hs17] for code, hs17 in hs22_hs17.items()}
    converted = dict(query(built.settings, "SELECT source_hs6, hs6 FROM intermediate.int_hs_conversion "
                           "WHERE source_revision = 'HS22'").iter_rows())
    assert converted == expected
    assert converted["854142"] == converted["854143"] == "854140" and converted["850171"] == "850131"

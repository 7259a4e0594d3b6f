"""Expectation suites for the marts (fct_sector_dependency's own expectations are in suites.py).

Each states the mart's real invariants: its key unique and not null, every configured year present where
the mart is yearly, shares and HHIs in [0, 1], values non-negative, classes from their lists.
"""

from __future__ import annotations

from typing import Any

import duckdb

from dagster_project.quality import suites
from dagster_project.quality.gx_runner import gx_expectations, unique_key
from dagster_project.quality.raw_suites import TableSuite, _whole
from dagster_project.settings import SOURCES, Settings

SHARE_MAX = 1 + 1e-9


def _key(e, columns: list[str]) -> list[Any]:
    unique = unique_key(columns) if len(columns) > 1 else (
        e.ExpectColumnValuesToBeUnique(column=columns[0]))
    return [unique, *(e.ExpectColumnValuesToNotBeNull(column=column) for column in columns)]


def _between(e, columns: tuple[str, ...], low: float | None, high: float | None = None) -> list[Any]:
    return [e.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high) for column in columns]


def _sector_baskets(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every (sector, basket) the build's revision gives products to: the rows each mart year must have."""
    return con.execute("SELECT DISTINCT sector, basket FROM intermediate.int_sector_basket_products ORDER BY 1, 2").fetchall()


def _partner_groups(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT DISTINCT partner_group FROM seeds.partner_group ORDER BY 1").fetchall()]


def _sectors(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT DISTINCT sector FROM seeds.sector_hs_map ORDER BY 1").fetchall()]


def _mart_years(settings: Settings, con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    """The years every mart by year must hold: the configured BACI years, then the years spliced from China's reports
    to Comtrade (the years after BACI's last that China has reported)."""
    spliced = [row[0] for row in con.execute(
        "SELECT year FROM intermediate.int_year_source WHERE source = 'comtrade' ORDER BY year").fetchall()]
    return tuple(sorted({*settings.years, *spliced}))


def _sector_dependency(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    return suites.fct_sector_dependency(_mart_years(settings, con), _sector_baskets(con), _partner_groups(con))


def _product_dependency(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    shares = ("us_import_share", "eu27_import_share", "chokepoint_group_import_share", "supplier_hhi",
              "world_export_hhi", "supplier_1_share", "supplier_2_share", "supplier_3_share")
    values = ("imports_from_world_usd", "imports_from_us_usd", "imports_from_eu27_usd", "exports_to_world_usd",
              "net_import_ratio", "import_unit_value_usd_per_tonne", "export_unit_value_usd_per_tonne")
    return [
        *_key(e, ["hs6", "year"]),
        e.ExpectColumnValuesToMatchRegex(column="hs6", regex=r"^\d{6}$"),
        e.ExpectColumnDistinctValuesToEqualSet(column="year", value_set=list(_mart_years(settings, con))),
        *_between(e, shares, 0, SHARE_MAX),
        *_between(e, values, 0),
        *_between(e, ("normalised_trade_balance",), -SHARE_MAX, SHARE_MAX),
        *_between(e, ("window_years_observed",), 1),
        *(e.ExpectColumnValuesToNotBeNull(column=column)
          for column in ("is_dependent", "window_years_observed", "year_start", "data_source")),
    ]


def _self_reliance_trend(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    classes = ["falling dependency", "stable", "rising dependency"]
    return [
        *_key(e, ["sector", "basket", "partner_group"]),
        e.ExpectTableRowCountToEqual(value=len(_sector_baskets(con)) * len(_partner_groups(con))),
        e.ExpectColumnValuesToBeInSet(column="basket", value_set=suites.BASKETS),
        e.ExpectColumnValuesToBeInSet(column="measured_direction", value_set=classes),
        *_between(e, ("partner_import_share_baseline", "partner_import_share_latest", "dependent_import_share_baseline",
                      "dependent_import_share_latest"), 0, SHARE_MAX),
        *_between(e, ("partner_import_share_change_pp",), -100.000001, 100.000001),
        *(e.ExpectColumnValuesToNotBeNull(column=column)
          for column in ("baseline_first_year", "baseline_last_year", "latest_first_year", "latest_last_year")),
    ]


def _claim_assessment(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["sector"]),
        e.ExpectColumnDistinctValuesToEqualSet(column="sector", value_set=_sectors(con)),
        e.ExpectColumnValuesToBeInSet(column="verdict", value_set=[
            "consistent", "partly consistent", "not consistent", "insufficient data", "no claim"]),
        e.ExpectColumnValuesToBeInSet(column="claim_type", value_set=[
            "high self-sufficiency", "moderate progress", "upgrading", "dependence persists"]),
        *_between(e, ("partner_import_share_baseline", "partner_import_share_latest", "dependent_import_share_latest"),
                  0, SHARE_MAX),
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in ("has_claim", "claim_quote", "verdict")),
    ]


def _sector_suppliers(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["sector", "supplier_code", "year"]),
        e.ExpectColumnDistinctValuesToEqualSet(column="year", value_set=list(_mart_years(settings, con))),
        *_between(e, ("import_share", "baseline_import_share"), 0, SHARE_MAX),
        *_between(e, ("imports_usd",), 0),
        *_between(e, ("supplier_rank",), 1),
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in ("imports_usd", "import_share", "supplier_rank")),
    ]


def _supplier_share_sums(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    """A sector's supplier shares add up to 1 in every year."""
    return [gx_expectations.ExpectColumnValuesToBeBetween(column="share_sum", min_value=1 - 1e-9, max_value=1 + 1e-9)]


def _source_overlap(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["sector", "partner_group"]),
        *_between(e, ("baci_import_share", "comtrade_import_share"), 0, SHARE_MAX),
        *_between(e, ("baci_imports_usd", "comtrade_imports_usd", "comtrade_to_baci_ratio"), 0),
        e.ExpectColumnUniqueValueCountToBeBetween(column="year", min_value=0, max_value=1),  # one overlap year at most
    ]


def _revision_conversion(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["freq_code", "year", "source_revision", "source_hs6"]),
        e.ExpectColumnValuesToBeInSet(column="conversion_relationship", value_set=["1:1", "n:1", "split", "not convertible"]),
        e.ExpectColumnValuesToBeInSet(column="freq_code", value_set=["A", "M"]),
        *_between(e, ("record_count",), 1),
        *_between(e, ("imports_usd", "exports_usd"), 0),
    ]


def _trailing_twelve_months(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["sector", "partner_group", "window_end_month"]),
        e.ExpectColumnValuesToBeBetween(column="months_observed", min_value=12, max_value=12),
        e.ExpectColumnValuesToBeInSet(column="status", value_set=["provisional"]),
        *_between(e, ("partner_import_share",), 0, SHARE_MAX),
        *_between(e, ("imports_from_partner_usd", "imports_from_world_usd"), 0),
    ]


def _supplier_shift(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["sector", "supplier_code"]),
        *_between(e, ("baseline_import_share", "latest_import_share"), 0, SHARE_MAX),
        *_between(e, ("share_change_pp",), -100.000001, 100.000001),
        *_between(e, ("baseline_rank", "latest_rank"), 1),
    ]


def _mirror_gaps(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["hs6", "partner_code", "year"]),
        *_between(e, ("china_reported_imports_usd", "partner_reported_exports_usd", "gap_ratio"), 0),
        e.ExpectColumnValuesToBeInSet(column="reported_by", value_set=["both", "China only", "partner only"]),
    ]


def _import_penetration(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["isic_activity", "partner", "year"]),
        *_between(e, ("gross_output_usd", "gross_imports_usd", "gross_exports_usd", "import_penetration",
                      "partner_dependence"), 0),
    ]


def _dimension(key: str):
    def expectations(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
        return _key(gx_expectations, [key])

    return expectations


def _data_source(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *_key(e, ["source"]),
        e.ExpectColumnDistinctValuesToEqualSet(column="source", value_set=list(SOURCES)),
        *_between(e, ("row_count",), 0),
    ]


SECTOR_DEPENDENCY = TableSuite("fct_sector_dependency", "marts.fct_sector_dependency", "baci",
                               _whole("marts.fct_sector_dependency"), _sector_dependency)
MART_SUITES = [
    SECTOR_DEPENDENCY,
    TableSuite("fct_product_dependency", "marts.fct_product_dependency", "baci",
               _whole("marts.fct_product_dependency"), _product_dependency),
    TableSuite("fct_self_reliance_trend", "marts.fct_self_reliance_trend", "baci",
               _whole("marts.fct_self_reliance_trend"), _self_reliance_trend),
    TableSuite("fct_claim_assessment", "marts.fct_claim_assessment", "baci",
               _whole("marts.fct_claim_assessment"), _claim_assessment),
    TableSuite("fct_sector_suppliers", "marts.fct_sector_suppliers", "baci",
               _whole("marts.fct_sector_suppliers"), _sector_suppliers),
    TableSuite(
        "fct_sector_suppliers_share_sums", "marts.fct_sector_suppliers", "baci",
        lambda settings, con: ("SELECT sector, year, sum(import_share) AS share_sum FROM marts.fct_sector_suppliers "
                               "GROUP BY sector, year", []),
        _supplier_share_sums,
    ),
    TableSuite("fct_supplier_shift", "marts.fct_supplier_shift", "baci",
               _whole("marts.fct_supplier_shift"), _supplier_shift),
    TableSuite("fct_mirror_gaps", "marts.fct_mirror_gaps", "comtrade", _whole("marts.fct_mirror_gaps"), _mirror_gaps),
    TableSuite("fct_source_overlap", "marts.fct_source_overlap", "comtrade", _whole("marts.fct_source_overlap"),
               _source_overlap),
    TableSuite("fct_revision_conversion", "marts.fct_revision_conversion", "comtrade",
               _whole("marts.fct_revision_conversion"), _revision_conversion),
    TableSuite("fct_sector_trailing_twelve_months", "marts.fct_sector_trailing_twelve_months", "comtrade",
               _whole("marts.fct_sector_trailing_twelve_months"), _trailing_twelve_months),
    TableSuite("fct_industry_import_penetration", "marts.fct_industry_import_penetration", "oecd_tiva",
               _whole("marts.fct_industry_import_penetration"), _import_penetration),
    TableSuite("dim_sector", "marts.dim_sector", "baci", _whole("marts.dim_sector"), _dimension("sector")),
    TableSuite("dim_partner", "marts.dim_partner", "baci", _whole("marts.dim_partner"), _dimension("partner_group")),
    TableSuite("dim_country", "marts.dim_country", "baci", _whole("marts.dim_country"), _dimension("country_code")),
    TableSuite("dim_product", "marts.dim_product", "baci", _whole("marts.dim_product"), _dimension("hs6")),
    TableSuite("dim_data_source", "marts.dim_data_source", "baci", _whole("marts.dim_data_source"), _data_source),
]


def enabled_suites(settings: Settings) -> list[TableSuite]:
    return [suite for suite in MART_SUITES if suite.source in settings.sources]

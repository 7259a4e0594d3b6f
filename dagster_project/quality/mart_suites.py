"""Expectation suites for the marts other than fct_sector_dependency (whose suite is in suites.py).

Each states the mart's real invariants: its key unique and not null, every configured year present where
the mart is yearly, shares and HHIs in [0, 1], values non-negative, classes from their lists.
"""

from __future__ import annotations

from typing import Any

import duckdb

from dagster_project.quality import suites
from dagster_project.quality.gx_runner import gx_expectations
from dagster_project.quality.raw_suites import TableSuite, _whole
from dagster_project.settings import SOURCES, Settings

SHARE_MAX = 1 + 1e-9


def _key(e, columns: list[str]) -> list[Any]:
    unique = e.ExpectCompoundColumnsToBeUnique(column_list=columns) if len(columns) > 1 else (
        e.ExpectColumnValuesToBeUnique(column=columns[0]))
    return [unique, *(e.ExpectColumnValuesToNotBeNull(column=column) for column in columns)]


def _between(e, columns: tuple[str, ...], low: float | None, high: float | None = None) -> list[Any]:
    return [e.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high) for column in columns]


def _sector_dependency(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    sectors = [row[0] for row in con.execute(
        "SELECT DISTINCT sector FROM seeds.sector_hs_map WHERE hs_revision = ? ORDER BY 1", [settings.hs_revision]
    ).fetchall()]
    partner_groups = [row[0] for row in con.execute("SELECT DISTINCT partner_group FROM seeds.partner_group").fetchall()]
    return suites.fct_sector_dependency(settings.years, sectors, partner_groups)


def _product_dependency(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    shares = ("us_import_share", "eu27_import_share", "chokepoint_group_import_share", "supplier_hhi",
              "world_export_hhi", "supplier_1_share", "supplier_2_share", "supplier_3_share")
    values = ("imports_from_world_usd", "imports_from_us_usd", "imports_from_eu27_usd", "exports_to_world_usd",
              "net_import_ratio")
    return [
        *_key(e, ["hs6", "year"]),
        e.ExpectColumnValuesToMatchRegex(column="hs6", regex=r"^\d{6}$"),
        e.ExpectColumnDistinctValuesToEqualSet(column="year", value_set=list(settings.years)),
        *_between(e, shares, 0, SHARE_MAX),
        *_between(e, values, 0),
        *_between(e, ("normalised_trade_balance",), -SHARE_MAX, SHARE_MAX),
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in ("is_dependent", "is_chokepoint", "data_source")),
    ]


def _self_reliance_trend(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    sectors = con.execute("SELECT count(DISTINCT sector) FROM seeds.sector_hs_map WHERE hs_revision = ?",
                          [settings.hs_revision]).fetchall()[0][0]
    groups = con.execute("SELECT count(DISTINCT partner_group) FROM seeds.partner_group").fetchall()[0][0]
    classes = ["falling dependency", "stable", "rising dependency"]
    return [
        *_key(e, ["sector", "partner_group"]),
        e.ExpectTableRowCountToEqual(value=sectors * groups),
        e.ExpectColumnValuesToBeInSet(column="measured_direction", value_set=classes),
        e.ExpectColumnValuesToBeInSet(column="claimed_direction", value_set=classes),
        *_between(e, ("partner_import_share_baseline", "partner_import_share_latest"), 0, SHARE_MAX),
        *_between(e, ("partner_import_share_change_pp",), -100.000001, 100.000001),
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
    TableSuite("fct_mirror_gaps", "marts.fct_mirror_gaps", "comtrade", _whole("marts.fct_mirror_gaps"), _mirror_gaps),
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

"""Expectation suites as code, one function per table (GX Core 1.x expectations)."""

from __future__ import annotations

from typing import Any

from dagster_project.quality.gx_runner import gx_expectations

FCT_SECTOR_DEPENDENCY_COLUMNS = [
    "sector", "partner_group", "year", "hs_revision", "imports_from_partner_usd", "imports_from_world_usd",
    "partner_import_share", "exports_to_world_usd", "net_import_ratio", "has_no_exports", "supplier_hhi",
    "mapped_product_count", "normalised_trade_balance", "dependent_product_count", "chokepoint_product_count",
    "dependent_import_share", "chokepoint_import_share", "is_synthetic", "data_source",
]
SHARE_TOLERANCE = 1e-9


def fct_sector_dependency(years: tuple[int, ...], sectors: list[str], partner_groups: list[str]) -> list[Any]:
    """Invariants of the sector mart: its key, every sector x partner x configured year, shares, values."""
    e = gx_expectations
    key = ["sector", "partner_group", "year"]
    return [
        e.ExpectTableColumnsToMatchSet(column_set=FCT_SECTOR_DEPENDENCY_COLUMNS, exact_match=True),
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in key),
        e.ExpectCompoundColumnsToBeUnique(column_list=key),
        e.ExpectTableRowCountToEqual(value=len(years) * len(sectors) * len(partner_groups)),
        e.ExpectColumnDistinctValuesToEqualSet(column="year", value_set=list(years)),
        e.ExpectColumnDistinctValuesToEqualSet(column="sector", value_set=sectors),
        e.ExpectColumnDistinctValuesToEqualSet(column="partner_group", value_set=partner_groups),
        e.ExpectColumnValuesToBeBetween(column="year", min_value=years[0], max_value=years[-1]),
        *(
            e.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1 + SHARE_TOLERANCE)
            for column in ("partner_import_share", "supplier_hhi", "dependent_import_share", "chokepoint_import_share")
        ),
        *(
            e.ExpectColumnValuesToBeBetween(column=column, min_value=0)
            for column in ("imports_from_partner_usd", "imports_from_world_usd", "exports_to_world_usd", "net_import_ratio")
        ),
        *(
            e.ExpectColumnValuesToNotBeNull(column=column)
            for column in ("imports_from_partner_usd", "imports_from_world_usd", "exports_to_world_usd", "data_source")
        ),
    ]

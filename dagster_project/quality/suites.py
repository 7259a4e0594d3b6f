"""Expectation suites as code, one function per table (GX Core 1.x expectations)."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from dagster_project.quality.gx_runner import gx_expectations, unique_key
from dagster_project.settings import DBT_PROJECT_DIR

SHARE_TOLERANCE = 1e-9
BASKETS = ["full", "comparable", "broad"]


@cache
def documented_columns(mart: str) -> list[str]:
    """The mart's columns as its dbt yml documents them (the contract the mart is built to)."""
    document = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / f"{mart}.yml").read_text(encoding="utf-8"))
    model = next(model for model in document["models"] if model["name"] == mart)
    return [column["name"] for column in model["columns"]]


def fct_sector_dependency(years: tuple[int, ...], sector_baskets: list[tuple[str, str]], partner_groups: list[str]) -> list[Any]:
    """Invariants of the sector mart: its key, every sector basket x partner x configured year, shares, values."""
    e = gx_expectations
    key = ["sector", "basket", "partner_group", "year"]
    return [
        e.ExpectTableColumnsToMatchSet(column_set=documented_columns("fct_sector_dependency"), exact_match=True),
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in key),
        unique_key(key),
        e.ExpectTableRowCountToEqual(value=len(years) * len(sector_baskets) * len(partner_groups)),
        e.ExpectColumnDistinctValuesToEqualSet(column="year", value_set=list(years)),
        e.ExpectColumnDistinctValuesToEqualSet(column="sector", value_set=sorted({sector for sector, _ in sector_baskets})),
        e.ExpectColumnDistinctValuesToEqualSet(column="basket", value_set=sorted({basket for _, basket in sector_baskets})),
        e.ExpectColumnValuesToBeInSet(column="basket", value_set=BASKETS),
        e.ExpectColumnDistinctValuesToEqualSet(column="partner_group", value_set=partner_groups),
        e.ExpectColumnValuesToBeBetween(column="year", min_value=years[0], max_value=years[-1]),
        *(
            e.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1 + SHARE_TOLERANCE)
            for column in ("partner_import_share", "supplier_hhi", "dependent_import_share", "chokepoint_import_share")
        ),
        *(
            e.ExpectColumnValuesToBeBetween(column=column, min_value=0)
            for column in ("imports_from_partner_usd", "imports_from_world_usd", "exports_to_world_usd", "net_import_ratio",
                           "import_unit_value_usd_per_tonne", "export_unit_value_usd_per_tonne", "industry_import_penetration")
        ),
        *(
            e.ExpectColumnValuesToNotBeNull(column=column)
            for column in ("imports_from_partner_usd", "imports_from_world_usd", "exports_to_world_usd", "data_source",
                           "window_years_observed", "year_start")
        ),
    ]

"""HS6 code lists per revision and the products the sector map assigns to each sector.

Both are dbt seeds, the reference data the models read too: the code lists (HS12, HS17, HS22) are
hs_products, derived from the UNSD correspondence tables by scripts/derive_hs_reference.py; the sector map is
sector_hs_map.
"""

import csv
from functools import cache

from dagster_project.settings import DBT_PROJECT_DIR

HS6_CODES_FILE = DBT_PROJECT_DIR / "seeds" / "hs_products.csv"
SECTOR_MAP_FILE = DBT_PROJECT_DIR / "seeds" / "sector_hs_map.csv"


@cache
def hs6_codes(hs_revision: str) -> tuple[str, ...]:
    with HS6_CODES_FILE.open(newline="") as handle:
        return tuple(row["hs6"] for row in csv.DictReader(handle) if row["hs_revision"] == hs_revision)


def sector_products(hs_revision: str) -> dict[str, list[str]]:
    """Product code -> the sectors whose prefixes in that revision match it, in the seed's order."""
    with SECTOR_MAP_FILE.open(newline="") as handle:
        prefixes = [(row["hs_prefix"], row["sector"]) for row in csv.DictReader(handle) if row["hs_revision"] == hs_revision]
    mapped: dict[str, list[str]] = {}
    for code in hs6_codes(hs_revision):
        for prefix, sector in prefixes:
            if code.startswith(prefix) and sector not in mapped.get(code, []):
                mapped.setdefault(code, []).append(sector)
    return mapped


def sector_sample(hs_revision: str, per_sector: int = 5) -> list[str]:
    """A few products of every sector, spread over its headings (for samples that stay small)."""
    by_sector: dict[str, list[str]] = {}
    for code, sectors in sorted(sector_products(hs_revision).items()):
        for sector in sectors:
            by_sector.setdefault(sector, []).append(code)
    chosen = {code for codes in by_sector.values() for code in codes[:: max(1, -(-len(codes) // per_sector))]}
    return sorted(chosen)

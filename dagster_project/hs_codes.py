"""HS6 code lists per revision, the UNSD conversion between revisions, and the sector map's products.

All are dbt seeds, the reference data the models read too: the code lists (HS12, HS17, HS22) are
hs_products and the correlation tables with the conversion's picks are hs_correspondence, both derived from
the UNSD tables by scripts/derive_hs_reference.py; the sector map is sector_hs_map.
"""

import csv
from functools import cache

from dagster_project.settings import DBT_PROJECT_DIR

HS6_CODES_FILE = DBT_PROJECT_DIR / "seeds" / "hs_products.csv"
SECTOR_MAP_FILE = DBT_PROJECT_DIR / "seeds" / "sector_hs_map.csv"
CORRESPONDENCE_FILE = DBT_PROJECT_DIR / "seeds" / "hs_correspondence.csv"
# The UNSD conversion tables' steps (newer, older) from HS22 down to each revision.
CONVERSION_STEPS = {"HS22": (), "HS17": (("HS22", "HS17"),), "HS12": (("HS22", "HS17"), ("HS17", "HS12"))}


@cache
def hs6_codes(hs_revision: str) -> tuple[str, ...]:
    with HS6_CODES_FILE.open(newline="") as handle:
        return tuple(row["hs6"] for row in csv.DictReader(handle) if row["hs_revision"] == hs_revision)


@cache
def sector_products(hs_revision: str) -> dict[str, tuple[str, ...]]:
    """Product code -> the sectors whose prefixes in that revision match it, in the seed's order."""
    with SECTOR_MAP_FILE.open(newline="") as handle:
        prefixes = [(row["hs_prefix"], row["sector"]) for row in csv.DictReader(handle) if row["hs_revision"] == hs_revision]
    # Look each code's prefixes up by length rather than testing every prefix against every code.
    rows_by_prefix: dict[str, list[int]] = {}
    for row, (prefix, _) in enumerate(prefixes):
        rows_by_prefix.setdefault(prefix, []).append(row)
    lengths = sorted({len(prefix) for prefix, _ in prefixes})
    mapped: dict[str, tuple[str, ...]] = {}
    for code in hs6_codes(hs_revision):
        rows = sorted(row for length in lengths for row in rows_by_prefix.get(code[:length], ()))
        sectors = tuple(dict.fromkeys(prefixes[row][1] for row in rows))
        if sectors:
            mapped[code] = sectors
    return mapped


@cache
def _conversion_step(newer: str, older: str) -> dict[str, str]:
    """Newer code -> the one older code the UNSD conversion table picks for it."""
    with CORRESPONDENCE_FILE.open(newline="") as handle:
        return {row["newer_hs6"]: row["older_hs6"] for row in csv.DictReader(handle)
                if (row["newer_revision"], row["older_revision"], row["is_conversion"]) == (newer, older, "true")}


@cache
def hs22_conversion(hs_revision: str) -> dict[str, str]:
    """HS22 code -> its code in hs_revision by the UNSD conversion: HS22->HS17, then HS17->HS12 for HS12;
    every HS22 code as itself for HS22. A code the tables do not convert (HS22 271000) is absent."""
    if hs_revision not in CONVERSION_STEPS:
        raise ValueError(f"no UNSD conversion from HS22 to {hs_revision} in {CORRESPONDENCE_FILE.name}: "
                         f"expected one of {', '.join(CONVERSION_STEPS)}")
    converted = {code: code for code in hs6_codes("HS22")}
    for newer, older in CONVERSION_STEPS[hs_revision]:
        step = _conversion_step(newer, older)
        converted = {code: step[middle] for code, middle in converted.items() if middle in step}
    return converted


def _correlation_step(newer: str, older: str) -> dict[str, set[str]]:
    """Newer code -> every older code the UNSD correlation table links it to."""
    links: dict[str, set[str]] = {}
    with CORRESPONDENCE_FILE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["newer_revision"], row["older_revision"]) == (newer, older):
                links.setdefault(row["newer_hs6"], set()).add(row["older_hs6"])
    return links


def hs22_links(hs_revision: str) -> dict[str, set[str]]:
    """HS22 code -> every code of hs_revision the UNSD correlation tables link it to (through HS17 for HS12)."""
    linked = {code: {code} for code in hs6_codes("HS22")}
    for newer, older in CONVERSION_STEPS[hs_revision]:
        step = _correlation_step(newer, older)
        linked = {code: {old for middle in olds for old in step.get(middle, ())} for code, olds in linked.items()}
    return linked


@cache
def hs22_carriers(hs_revision: str) -> dict[str, list[str]]:
    """Code of hs_revision -> the HS22 codes whose trade, converted back, makes up its own: those the UNSD conversion
    sends to it; for a code no HS22 code converts to (e.g. HS12 854150, whose HS22 successors 854151 and 854159 the
    conversion sends elsewhere), the HS22 codes the correlation tables link it to."""
    carriers: dict[str, list[str]] = {}
    for code, target in sorted(hs22_conversion(hs_revision).items()):
        carriers.setdefault(target, []).append(code)
    orphans = set(hs6_codes(hs_revision)) - set(carriers)
    for code, olds in sorted(hs22_links(hs_revision).items()):
        for old in sorted(olds & orphans):
            carriers.setdefault(old, []).append(code)
    return carriers


def comtrade_products(hs_revision: str) -> list[str]:
    """The HS22 codes to ask Comtrade for so that every basket of a build in hs_revision is complete once converted:
    the sector map's HS22 products, and the HS22 codes that make up each product of the sector map in hs_revision
    (hs22_carriers: e.g. HS22 870340, a non-plug-in hybrid, which converts into HS12 870390)."""
    carriers = hs22_carriers(hs_revision)
    making_up = {code for product in sector_products(hs_revision) for code in carriers.get(product, [])}
    return sorted(set(sector_products("HS22")) | making_up)

"""Derive the HS reference seeds from the public UNSD correspondence tables (maintenance script).

Writes, under dbt/seeds/:
- hs_products.csv: every HS6 code of HS12, HS17 and HS22 (codes only, no descriptions);
- hs_correspondence.csv: every (newer code, older code) link of the UNSD correlation tables HS2022-HS2017
  and HS2017-HS2012, with its relationship (1:1, 1:n, n:1, n:n) and whether the UNSD conversion table
  (newer to older: one older code per newer code) picks that link.

    python scripts/derive_hs_reference.py ../shared/reference

Inputs (see ../shared/reference/SOURCES.md): concordance/HS2022toHS2017_{Correlation,Conversion}.csv,
concordance/HS2017toHS2012_{Correlation,Conversion}.csv (UNSD tables, sheets written to CSV) and
baci/product_codes_HS22_V202501.csv (the HS22 code list). Run scripts/derive_basket_breaks.py after it.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "dbt" / "seeds"
HS6 = re.compile(r"^\d{6}$")
RELATIONSHIP = re.compile(r"^[1n]:[1n]$")
# (newer revision, older revision, correlation table, conversion table) in concordance/
TABLES = [
    ("HS22", "HS17", "HS2022toHS2017_Correlation.csv", "HS2022toHS2017_Conversion.csv"),
    ("HS17", "HS12", "HS2017toHS2012_Correlation.csv", "HS2017toHS2012_Conversion.csv"),
]


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [[cell.strip() for cell in row] for row in csv.reader(handle)]


def correlation_links(path: Path) -> list[tuple[str, str, str]]:
    """(newer code, older code, relationship) of every data row; header rows and 'ex' markers are skipped."""
    links = []
    for row in csv_rows(path):
        codes = [cell for cell in row if HS6.match(cell)]
        relationships = [cell for cell in row if RELATIONSHIP.match(cell)]
        if len(codes) == 2 and len(relationships) == 1:
            links.append((codes[0], codes[1], relationships[0]))
    return links


def conversion(path: Path) -> dict[str, str]:
    return {row[0]: row[1] for row in csv_rows(path) if len(row) >= 2 and HS6.match(row[0]) and HS6.match(row[1])}


def main(reference: Path) -> None:
    concordance = reference / "concordance"
    products: dict[str, set[str]] = {"HS22": {row[0] for row in csv_rows(reference / "baci" / "product_codes_HS22_V202501.csv")
                                              if row and HS6.match(row[0])}, "HS17": set(), "HS12": set()}
    correspondence = []
    for newer, older, correlation_file, conversion_file in TABLES:
        links = correlation_links(concordance / correlation_file)
        picked = conversion(concordance / conversion_file)
        linked = {(new, old) for new, old, _ in links}
        unlinked = sorted(pair for pair in picked.items() if pair not in linked)
        if unlinked:
            raise SystemExit(f"{conversion_file}: conversions missing from {correlation_file}: {unlinked[:5]}")
        products[newer] |= {new for new, _, _ in links}
        products[older] |= {old for _, old, _ in links}
        correspondence += [(newer, new, older, old, relationship, "true" if picked.get(new) == old else "false")
                           for new, old, relationship in sorted(set(links))]
    write(SEEDS / "hs_products.csv", ["hs_revision", "hs6"],
          [(revision, code) for revision in ("HS12", "HS17", "HS22") for code in sorted(products[revision])])
    write(SEEDS / "hs_correspondence.csv",
          ["newer_revision", "newer_hs6", "older_revision", "older_hs6", "relationship", "is_conversion"], correspondence)


def write(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{path}: {len(rows)} rows")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""Derive the list of HS6 codes per revision (HS12, HS17, HS22) kept in the repository.

The sample generator and the sector-map tests need the real HS6 code lists of each revision, offline.
This maintenance script derives them from the public UNSD HS correspondence tables and the BACI HS22
product file (see ../shared/reference/SOURCES.md). Only the codes are kept, not the descriptions.

    python scripts/derive_hs6_codes.py ../shared/reference > dagster_project/sample/hs6_codes.csv
"""

import csv
import re
import sys
from pathlib import Path

HS6 = re.compile(r"^\d{6}$")


def column_codes(path: Path, column: int) -> set[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {row[column] for row in csv.reader(handle) if len(row) > column and HS6.match(row[column])}


def main(reference: Path) -> None:
    concordance = reference / "concordance"
    hs22_hs17 = concordance / "HS2022toHS2017_Correlation.csv"
    hs17_hs12 = concordance / "HS2017toHS2012_Correlation.csv"
    codes = {
        "HS22": column_codes(reference / "baci" / "product_codes_HS22_V202501.csv", 0),
        "HS17": column_codes(hs22_hs17, 1) | column_codes(hs17_hs12, 0),
        "HS12": column_codes(hs17_hs12, 2),
    }
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["hs_revision", "code"])
    for revision in ("HS12", "HS17", "HS22"):
        for code in sorted(codes[revision]):
            writer.writerow([revision, code])


if __name__ == "__main__":
    main(Path(sys.argv[1]))

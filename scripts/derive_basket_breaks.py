"""Derive dbt/seeds/sector_basket_breaks.csv: where a sector's basket changes meaning between HS revisions.

BACI re-expresses every year in the build's revision: an HS12 build's years from 2017 come from reports
in HS17 (and from 2022 in HS22) converted back to HS12. A sector's HS12 basket keeps its meaning across
those years only if every HS17 (HS22) code linked to one of its HS12 codes by the UNSD correlation tables
is in the sector's HS17 (HS22) basket, and the other way round. Each newer code for which this fails is
a break of the sector in that build revision, from the newer revision's first year:
- 'enters': the newer code is outside the sector in its own revision, yet linked to a build code inside
  it (e.g. mild hybrids, HS17 870340, flow into HS12 870390 and so into HS12 New-energy vehicles);
- 'leaves': the newer code is inside the sector, yet linked to a build code outside it.
`via_conversion` says whether the UNSD conversion table (one older code per newer code, as used to
convert Comtrade records) sends the newer code across the sector boundary: the material breaks. Only
the core basket (scope 'core') is checked. The dbt test assert_sector_basket_breaks_are_listed computes
the same set in SQL and fails when the seed and the sector map disagree: run this script after editing
dbt/seeds/sector_hs_map.csv.

    python scripts/derive_basket_breaks.py
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import yaml

SEEDS = Path(__file__).resolve().parents[1] / "dbt" / "seeds"
FIRST_YEAR = {"HS17": 2017, "HS22": 2022}
# A newer code linked to more build codes than this dbt var, and not sent across by the conversion, spreads its content
# thin (parts, waste, multi-component goods): a diffuse break, listed but not counted as a change of the basket's meaning.
DIFFUSE_LINKS = yaml.safe_load((SEEDS.parent / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]["basket_break_diffuse_links"]
# Notes on the breaks that matter, by newer code or heading (the longest match wins); the rest get a generic note.
NOTES = {
    "870340": "Non-plug-in hybrid cars: HS17 gives them their own code, outside the New-energy vehicles basket; the UNSD "
              "conversion sends them to HS12 870390, the only HS12 code of the sector, so from 2017 the HS12 basket holds "
              "every hybrid (before 2017 they were in 870321-870333, by engine size)",
    "870350": "Non-plug-in diesel hybrid cars: as 870340, converted to HS12 870390 from 2017",
    "870360": "Plug-in hybrid cars: before 2017 classified by engine size (HS12 870321-870324), outside the HS12 basket; "
              "the UNSD conversion sends them to 870390, inside it, from 2017",
    "870370": "Plug-in diesel hybrid cars: as 870360 (HS12 870331-870333 before 2017, 870390 after)",
    "870390": "HS17 870390 (other vehicles, e.g. fuel-cell cars) is outside the HS17 basket but is HS12 870390, the "
              "HS12 basket",
    "870240": "Electric buses have no HS12 code: they sit in 870290 with petrol buses, outside the HS12 basket",
    "870460": "HS22 electric trucks (new subheading) were in 870490 with other trucks before HS22, outside the basket",
    "854141": "LEDs: their own HS22 code, in Semiconductors and IT; before HS22 inside 854140 with solar cells, which is "
              "Green energy",
    "854149": "Other photosensitive devices: their own HS22 code, in Semiconductors and IT; before HS22 inside 854140 "
              "with solar cells, which is Green energy",
    "85017": "HS22 photovoltaic generators (Green energy) were inside the motors and generators of 8501 before HS22 "
             "(Power equipment)",
    "850180": "HS22 photovoltaic AC generators (Green energy) were inside 850161-850164 before HS22 (Power equipment)",
    "8524": "HS22 flat-panel display modules (new heading 8524) were classified as parts of the apparatus they go into "
            "before HS22, in many headings",
    "852990": "HS22 parts for 8524-8528 correlate with the parts of many apparatus in HS17 (display modules moved out)",
    "8549": "HS22 electrical and electronic waste and scrap (new heading 8549) was classified with the goods or materials "
            "it came from before HS22; the UNSD conversion sends all of it to HS17 854231 (processors)",
    "8806": "HS22 unmanned aircraft (new heading 8806) were in 8802 (aircraft), 8525 (camera drones) or 9503 (toys) "
            "before HS22; the UNSD conversion sends camera drones to 852580, outside Aerospace",
    "8485": "HS22 additive-manufacturing machines (new heading 8485) were in the machine-tool headings before HS22",
    "6815": "HS22 split 681510 (carbon fibres and articles) into 681511-681519; the UNSD conversion sends 681511-681513 "
            "to 681599 (other mineral articles), outside New materials",
    "8112": "HS22 moved cadmium into heading 8112 (from 8107), and the conversion follows",
    "8542": "HS17 multi-component integrated circuits (MCOs) came from many HS12 headings",
}


def read(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def baskets() -> dict[tuple[str, str], set[str]]:
    """(sector, revision) -> the HS6 codes of the sector's core basket in that revision."""
    codes = defaultdict(list)
    for row in read("hs_products.csv"):
        codes[row["hs_revision"]].append(row["hs6"])
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in read("sector_hs_map.csv"):
        if row["scope"] == "core":
            revision, prefix = row["hs_revision"], row["hs_prefix"]
            found[row["sector"], revision] |= {code for code in codes[revision] if code.startswith(prefix)}
    return found


def links() -> dict[tuple[str, str], dict[str, dict[str, bool]]]:
    """(newer revision, older revision) -> newer code -> linked older code -> whether the UNSD conversion picks
    that link, for the two correlation tables (HS22-HS17, HS17-HS12)."""
    found: dict[tuple[str, str], dict[str, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
    for row in read("hs_correspondence.csv"):
        found[row["newer_revision"], row["older_revision"]][row["newer_hs6"]][row["older_hs6"]] = row["is_conversion"] == "true"
    return found


def chain(hs22_hs17: dict[str, dict[str, bool]], hs17_hs12: dict[str, dict[str, bool]]) -> dict[str, dict[str, list]]:
    """HS22 code -> HS12 code -> [(HS17 code in between, the conversion picks both steps), ...]."""
    chained: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for hs22, hs17_links in hs22_hs17.items():
        for hs17, converted in hs17_links.items():
            for hs12, converted_again in hs17_hs12.get(hs17, {}).items():
                chained[hs22][hs12].append((hs17, converted and converted_again))
    return chained


def note(code: str) -> str | None:
    matches = [prefix for prefix in NOTES if code.startswith(prefix)]
    return NOTES[max(matches, key=len)] if matches else None


def breaks() -> list[dict[str, object]]:
    """Every break of every sector. An HS22 code in an HS12 build is a break only when its HS22-HS17 step
    crosses the sector boundary too: otherwise it carries on a break that began in 2017 (listed then)."""
    basket = baskets()
    sectors = sorted({sector for sector, _ in basket})
    table = links()
    rows = []
    for sector in sectors:
        def inside(revision: str, code: str) -> bool:
            return code in basket[sector, revision]

        # (newer revision, build revision, code, its links: build code -> converted, the links that may cross)
        candidates = [("HS17", "HS12", code, olds, olds) for code, olds in table["HS17", "HS12"].items()]
        candidates += [("HS22", "HS17", code, olds, olds) for code, olds in table["HS22", "HS17"].items()]
        for code, hs12_links in chain(table["HS22", "HS17"], table["HS17", "HS12"]).items():
            # through an HS17 code on the other side of the boundary from the HS22 code: new in 2022
            new_in_2022 = {hs12: any(converted for hs17, converted in steps if inside("HS17", hs17) != inside("HS22", code))
                           for hs12, steps in hs12_links.items()
                           if any(inside("HS17", hs17) != inside("HS22", code) for hs17, _ in steps)}
            candidates.append(("HS22", "HS12", code, hs12_links, new_in_2022))
        for newer, build, code, linked, eligible in sorted(candidates, key=lambda item: (item[1], item[0], item[2])):
            crossing = sorted(old for old in eligible if inside(build, old) != inside(newer, code))
            if crossing:
                rows.append(break_row(sector, newer, build, code, inside(newer, code), crossing, eligible, len(linked)))
    return rows


def break_row(sector: str, newer: str, build: str, code: str, inside: bool, crossing: list[str],
              converted_links: dict[str, bool], linked_count: int) -> dict[str, object]:
    """One break; converted_links says, per crossing build code, whether the UNSD conversion takes that way."""
    converted = [old for old in crossing if converted_links[old]]
    diffuse = not converted and linked_count > DIFFUSE_LINKS
    shown = ", ".join(crossing[:6]) + (f" and {len(crossing) - 6} more" if len(crossing) > 6 else "")
    relation = (f"{'in' if inside else 'outside'} the sector in {newer}, linked to {build} {shown} "
                f"{'outside' if inside else 'inside'} it")
    return {
        "sector": sector, "build_revision": build, "from_year": FIRST_YEAR[newer], "newer_revision": newer,
        "newer_hs6": code, "change": "leaves" if inside else "enters",
        "via_conversion": "true" if converted else "false",
        "converted_to_hs6": converted[0] if converted else "",
        "crossing_build_codes": len(crossing),
        "linked_build_codes": linked_count,
        "is_diffuse": "true" if diffuse else "false",
        "note": f"{note(code)} ({relation})" if note(code) else relation[0].upper() + relation[1:],
    }


def main() -> None:
    rows = breaks()
    with (SEEDS / "sector_basket_breaks.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"sector_basket_breaks.csv: {len(rows)} breaks, {sum(row['via_conversion'] == 'true' for row in rows)} via the conversion")


if __name__ == "__main__":
    main()

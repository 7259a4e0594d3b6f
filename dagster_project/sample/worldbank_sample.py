"""A deterministic, SYNTHETIC set of World Bank WDI API answers for building the warehouse offline.

The files have the names `worldbank.fetch` lands and the API's exact JSON shape (header, rows sorted by
country name then year descending, compact separators), real indicator and country codes and names, and
magnitudes of the right order anchored on 2021 (manufacturing value added: China about USD 4.9 trillion,
the US and the EU about 2.5). As in the real API, the latest year lacks some values (null). Every number
is invented: nothing here is real data. The manifest marks each file synthetic.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dagster_project.files import write_atomic
from dagster_project.sources import landing, worldbank

SEED = 20250102
ANCHOR_YEAR = 2021
LAST_UPDATED = "2025-07-01"
SAMPLE_URL_PREFIX = "sample://tradedep/worldbank/"
# The real API fits three countries in one page of 1000 rows; the sample splits manufacturing value added
# into pages of 30 so that following `pages` is exercised offline too.
PAGE_SIZES = {"NV.IND.MANF.CD": 30}
# ISO3 -> (the API's country id, its name); rows come sorted by name, as the API sorts them.
COUNTRIES = {"CHN": ("CN", "China"), "EUU": ("EU", "European Union"), "USA": ("US", "United States")}
API_NAMES = {
    "NV.IND.MANF.CD": "Manufacturing, value added (current US$)",
    "NV.IND.TOTL.CD": "Industry (including construction), value added (current US$)",
    "NY.GDP.MKTP.CD": "GDP (current US$)",
    "TX.VAL.TECH.CD": "High-technology exports (current US$)",
    "NV.MNF.TECH.ZS.UN": "Medium and high-tech manufacturing value added (% manufacturing value added)",
}


@dataclass(frozen=True)
class Series:
    """How an indicator moves: its 2021 level per country and yearly factors before and after 2021."""

    level: dict[str, float]
    growth_before: dict[str, float]
    growth_after: dict[str, float]
    noise: float  # standard deviation of the yearly log noise
    decimal: int
    digits: int  # decimals kept in the JSON value
    missing_latest: tuple[str, ...]  # countries without a value for the last year (not yet published)


TRILLION = 1e12
SERIES = {
    "NV.IND.MANF.CD": Series(
        {"CHN": 4.87 * TRILLION, "USA": 2.50 * TRILLION, "EUU": 2.53 * TRILLION},
        {"CHN": 1.09, "USA": 1.031, "EUU": 1.01}, {"CHN": 0.98, "USA": 1.04, "EUU": 1.03},
        0.03, 0, 1, ("EUU",),
    ),
    "NV.IND.TOTL.CD": Series(
        {"CHN": 7.16 * TRILLION, "USA": 4.10 * TRILLION, "EUU": 3.70 * TRILLION},
        {"CHN": 1.085, "USA": 1.03, "EUU": 1.01}, {"CHN": 0.985, "USA": 1.04, "EUU": 1.03},
        0.03, 0, 1, ("EUU",),
    ),
    "NY.GDP.MKTP.CD": Series(
        {"CHN": 18.2 * TRILLION, "USA": 23.7 * TRILLION, "EUU": 17.3 * TRILLION},
        {"CHN": 1.10, "USA": 1.037, "EUU": 1.01}, {"CHN": 1.01, "USA": 1.072, "EUU": 1.04},
        0.02, 0, 1, (),
    ),
    "TX.VAL.TECH.CD": Series(
        {"CHN": 0.942 * TRILLION, "USA": 0.169 * TRILLION, "EUU": 0.775 * TRILLION},
        {"CHN": 1.07, "USA": 1.01, "EUU": 1.04}, {"CHN": 0.97, "USA": 1.03, "EUU": 1.03},
        0.04, 0, 1, ("CHN", "USA", "EUU"),
    ),
    "NV.MNF.TECH.ZS.UN": Series(
        {"CHN": 41.5, "USA": 47.0, "EUU": 48.5},
        {"CHN": 1.006, "USA": 0.998, "EUU": 1.002}, {"CHN": 1.005, "USA": 1.0, "EUU": 1.0},
        0.01, 1, 6, ("CHN", "USA", "EUU"),
    ),
}


def value(indicator: str, iso3: str, year: int, last_year: int) -> float | None:
    """One synthetic observation; the same for a year whatever the range asked for (except the latest year)."""
    series = SERIES[indicator]
    if year == last_year and iso3 in series.missing_latest:
        return None
    growth = series.growth_before[iso3] if year <= ANCHOR_YEAR else series.growth_after[iso3]
    trend = series.level[iso3] * growth ** (year - ANCHOR_YEAR)
    rng = np.random.default_rng([SEED, list(SERIES).index(indicator), list(COUNTRIES).index(iso3), year])
    return round(trend * math.exp(rng.normal(0.0, series.noise)), series.digits)


def rows(indicator: str, first_year: int, last_year: int) -> list[dict[str, object]]:
    """Every row of the indicator, in the API's key order and row order."""
    series = SERIES[indicator]
    return [
        {
            "indicator": {"id": indicator, "value": API_NAMES[indicator]},
            "country": {"id": country_id, "value": name},
            "countryiso3code": iso3,
            "date": str(year),
            "value": value(indicator, iso3, year, last_year),
            "unit": "",
            "obs_status": "",
            "decimal": series.decimal,
        }
        for iso3, (country_id, name) in COUNTRIES.items()
        for year in range(last_year, first_year - 1, -1)
    ]


def indicator_pages(indicator: str, first_year: int, last_year: int) -> list[bytes]:
    """The JSON body of each page the API would answer, as compact as the API writes it."""
    every_row = rows(indicator, first_year, last_year)
    size = PAGE_SIZES.get(indicator, worldbank.PER_PAGE)
    pages = max(1, math.ceil(len(every_row) / size))
    bodies = []
    for number in range(1, pages + 1):
        header = {"page": number, "pages": pages, "per_page": size, "total": len(every_row), "sourceid": "2",
                  "lastupdated": LAST_UPDATED}
        page_rows = every_row[(number - 1) * size: number * size]
        bodies.append(json.dumps([header, page_rows], separators=(",", ":")).encode("utf-8"))
    return bodies


def write_sample(landing_dir: Path, first_year: int, last_year: int) -> list[landing.LandedFile]:
    """Write and record, synthetic, every page `worldbank.fetch` would land for these years."""
    if first_year > last_year:
        raise ValueError(f"first year {first_year} is after last year {last_year}")
    landing_dir.mkdir(parents=True, exist_ok=True)
    landed = []
    for indicator in worldbank.INDICATORS:
        for number, body in enumerate(indicator_pages(indicator, first_year, last_year), 1):
            name = worldbank.page_file_name(indicator, first_year, last_year, number)
            write_atomic(landing_dir / name, body)
            landed.append(landing.land_local_file(landing_dir / name, SAMPLE_URL_PREFIX + name, synthetic=True))
    return landed

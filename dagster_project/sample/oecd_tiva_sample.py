"""A deterministic, SYNTHETIC OECD TiVA answer per request, for building the warehouse offline.

Each file has the file name fetch would land and the SDMX-CSV layout of the recorded real files
(same header, same quoting, rows one field short of the header, USD millions with UNIT_MULT 6).
The magnitudes are of the right order: the world's manufacturing output in the tens of trillions
of USD, China's about a quarter of it by 2020, China's gross output of electronics (C26) in the
hundreds of billions, its imports concentrated in electronics, chemicals and machinery, aircraft
(C30) and pharmaceuticals (C21) bought largely from the US and the EU. Every number is invented.
"""

from __future__ import annotations

import math
import zlib
from functools import cache
from pathlib import Path

import numpy as np

from dagster_project.files import write_atomic
from dagster_project.sources import landing
from dagster_project.sources.landing import LandedFile
from dagster_project.sources.oecd_tiva import DATAFLOW, DEFAULT_VERSION, MANUFACTURING_INDUSTRIES, WORLD, TivaRequest

SEED = 20250101
SAMPLE_URL_SCHEME = "sample://tradedep/oecd_tiva/"
HEADER = (
    "DATAFLOW,ACTION,MEASURE,REF_AREA,ACTIVITY,COUNTERPART_AREA,UNIT_MEASURE,FREQ,TIME_PERIOD,OBS_VALUE,"
    "UNIT_MULT,CONTACT,DATA_COMP,STAT_CONC_DEF"
)
UNIT_MULT = 6  # values are written in USD millions, as TiVA publishes them
BASE_YEAR = 2020

# Manufacturing total (C) in BASE_YEAR, USD millions, and its yearly growth rate before then.
TOTALS_2020 = {
    ("PROD", "CHN"): (12_500_000, 0.115),
    ("IMGR", "CHN"): (1_000_000, 0.10),
    ("EXGR", "CHN"): (2_300_000, 0.12),
    ("PROD", WORLD): (46_000_000, 0.04),
    ("IMGR", WORLD): (14_000_000, 0.05),
    ("EXGR", WORLD): (14_000_000, 0.05),
}
OTHER_AREA_SHARE_OF_WORLD = 0.03  # an economy the table does not name
OTHER_MEASURE_SHARE_OF_PROD = 0.3  # e.g. value added

# Each industry's share of the manufacturing total, by measure (normalised when used).
OUTPUT_MIX = {
    "C10T12": 0.12, "C13T15": 0.07, "C16": 0.02, "C17_18": 0.03, "C19": 0.05, "C20": 0.10, "C21": 0.03,
    "C22": 0.04, "C23": 0.06, "C24": 0.09, "C25": 0.05, "C26": 0.11, "C27": 0.06, "C28": 0.07, "C29": 0.07,
    "C30": 0.02, "C31T33": 0.03,
}
IMPORT_MIX = {
    "C10T12": 0.07, "C13T15": 0.02, "C16": 0.01, "C17_18": 0.02, "C19": 0.04, "C20": 0.13, "C21": 0.04,
    "C22": 0.03, "C23": 0.01, "C24": 0.06, "C25": 0.02, "C26": 0.30, "C27": 0.05, "C28": 0.11, "C29": 0.07,
    "C30": 0.03, "C31T33": 0.03,
}
EXPORT_MIX = {
    "C10T12": 0.04, "C13T15": 0.12, "C16": 0.01, "C17_18": 0.01, "C19": 0.02, "C20": 0.07, "C21": 0.01,
    "C22": 0.04, "C23": 0.02, "C24": 0.04, "C25": 0.05, "C26": 0.30, "C27": 0.10, "C28": 0.08, "C29": 0.03,
    "C30": 0.02, "C31T33": 0.04,
}
MIX_BY_MEASURE = {"PROD": OUTPUT_MIX, "IMGR": IMPORT_MIX, "EXGR": EXPORT_MIX}
# Share of an economy's imports of an industry bought from a partner (China's pattern; default otherwise).
PARTNER_SHARE = {
    "USA": {"C30": 0.40, "C21": 0.12, "C28": 0.10, "C29": 0.10, "C20": 0.09, "C26": 0.05},
    "EU27_2020": {"C30": 0.35, "C21": 0.35, "C28": 0.25, "C29": 0.35, "C20": 0.15, "C26": 0.05},
}
DEFAULT_PARTNER_SHARE = 0.08
# World-wide shocks: the 2009 trade collapse, the 2015-16 commodity slump, the 2020 pandemic.
YEAR_SHOCKS = {2009: 0.86, 2015: 0.95, 2016: 0.94, 2020: 0.96}


def write_sample(landing_dir: Path, requests: list[TivaRequest], version: str = DEFAULT_VERSION) -> list[LandedFile]:
    """Write and land one synthetic CSV per request, under the name fetch would use."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    landed = []
    for request in requests:
        name = request.file_name(version)
        path = landing_dir / name
        write_atomic(path, sample_csv(request, version).encode("utf-8"))
        landed.append(landing.land_local_file(path, url=SAMPLE_URL_SCHEME + name, synthetic=True))
    return landed


def sample_csv(request: TivaRequest, version: str = DEFAULT_VERSION) -> str:
    """The request's answer in the recorded SDMX-CSV layout; same request, same bytes."""
    dataflow = f"{DATAFLOW.replace(',', ':')}({version})"
    lines = [HEADER]
    for ref_area in request.ref_areas:
        for activity in request.activities:
            for counterpart in request.counterpart_areas:
                if counterpart == ref_area != WORLD:
                    continue  # an economy does not trade with itself (the world's total with the world is kept)
                for year in range(request.start_year, request.end_year + 1):
                    value = observation(request.measure, ref_area, activity, counterpart, year)
                    lines.append(
                        f'{dataflow},I,"{request.measure}","{ref_area}","{activity}","{counterpart}",'
                        f'"{request.unit_measure}","{request.freq}",{year},{_format(value)},"{UNIT_MULT}","",""'
                    )
    return "\n".join(lines) + "\n"


def observation(measure: str, ref_area: str, activity: str, counterpart: str, year: int) -> float:
    """One value in USD millions; a total (C) is the sum of its industries, so the sample adds up."""
    if activity == "C":
        return sum(observation(measure, ref_area, industry, counterpart, year) for industry in MANUFACTURING_INDUSTRIES)
    total, growth = _total_2020(measure, ref_area)
    mix = MIX_BY_MEASURE.get(measure, OUTPUT_MIX)
    share = mix.get(activity, 0.05) / sum(mix.values())
    trend = math.exp(-growth * (BASE_YEAR - year)) * YEAR_SHOCKS.get(year, 1.0)
    value = total * share * trend * _noise(measure, ref_area, activity, year)
    if counterpart != WORLD:
        value *= PARTNER_SHARE.get(counterpart, {}).get(activity, DEFAULT_PARTNER_SHARE)
    return round(value, 1)


def _total_2020(measure: str, ref_area: str) -> tuple[float, float]:
    if (measure, ref_area) in TOTALS_2020:
        return TOTALS_2020[(measure, ref_area)]
    base_measure = measure if (measure, WORLD) in TOTALS_2020 else "PROD"
    total, growth = TOTALS_2020.get((base_measure, ref_area), TOTALS_2020[(base_measure, WORLD)])
    if ref_area not in ("CHN", WORLD):
        total *= OTHER_AREA_SHARE_OF_WORLD
    if base_measure != measure:
        total *= OTHER_MEASURE_SHARE_OF_PROD
    return total, growth


@cache
def _noise(measure: str, ref_area: str, activity: str, year: int) -> float:
    # crc32, not hash(): Python salts string hashes per process, which would break determinism.
    series = zlib.crc32(f"{measure}|{ref_area}|{activity}".encode())
    return float(np.random.default_rng([SEED, series, year]).lognormal(0.0, 0.04))


def _format(value: float) -> str:
    """One decimal, without a trailing '.0' (the real files write 47066307, not 47066307.0)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text

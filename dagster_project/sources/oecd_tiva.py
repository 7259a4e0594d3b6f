"""OECD TiVA principal indicators (levels): SDMX REST requests, CSV landing and typed parsing.

Dataflow OECD.STI.PIE,DSD_TIVA_MAINLV@DF_MAINLV; version 1.0 is the 2023 edition (1995-2020),
1.1 the 2025 edition. One request per measure, every code of a dimension '+'-joined, so a full
refresh costs a handful of the API's roughly 60 data requests an hour. Plain Python: no Dagster.

What the recorded files (/work/shared/reference/oecd_tiva/, real SDMX-CSV exports of version 1.0)
establish [V]:
- The CSV header DATAFLOW,ACTION,MEASURE,REF_AREA,ACTIVITY,COUNTERPART_AREA,UNIT_MEASURE,FREQ,
  TIME_PERIOD,OBS_VALUE,UNIT_MULT,CONTACT,DATA_COMP,STAT_CONC_DEF, hence the key order
  MEASURE.REF_AREA.ACTIVITY.COUNTERPART_AREA.UNIT_MEASURE.FREQ. Data rows carry one field fewer
  than the header (no trailing STAT_CONC_DEF), so columns are read by name, never by count.
- PROD for REF_AREA=W (world) and IMGR for CHN, HKG and USA, ACTIVITY=C, COUNTERPART_AREA=W,
  UNIT_MEASURE=USD, UNIT_MULT 6 (USD millions), every year 1995-2020.

Partner-specific IMGR (China's imports from the USA and the EU) is NOT verified: both recorded
files hold COUNTERPART_AREA=W only. The dataflow has a COUNTERPART_AREA dimension, public scripts
query export shares by partner (EXGR_PSH, sister dataflow DF_MAINSH) and TiVA queries use the
area code EU27_2020 [C], so imports by partner probably exist [I]. The partner request is
therefore opt-in (plan_requests(include_partner_imports=True), marked optional); if the API
answers 404 (SDMX "no results"), fetch fails naming the URL: drop the request.

Also unverified: REF_AREA=W for IMGR and EXGR (a request returns whatever series exist); the
industry codes (only "C" is in the recorded files; public TiVA queries use C10T12, C13T15, C16,
C17_18 - not C17T18 - ... C24, C30, C31T33 [C]; the 2025 edition adds splits of C24 and C30);
the "/public/rest" path (public scripts report HTTP 500 there for the 2025 edition and use
"/sti-public/rest": change REST_PATH if the live API does so) and `format=csv` (public scripts
use it on sdmx.oecd.org, some use `format=csvfile`) [C]. A non-CSV answer is never landed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from dagster_project.sources import landing, quarantine
from dagster_project.sources.landing import LandedFile
from dagster_project.sources.quarantine import BadRow, Parsed, RowError

SOURCE = "OECD TiVA"
DEFAULT_VERSION = "1.0"
REST_PATH = "public/rest"
DATAFLOW = "OECD.STI.PIE,DSD_TIVA_MAINLV@DF_MAINLV"
CSV_FORMAT = "csv"
# Years each dataflow version covers: 1.0 = 2023 edition [V]; 1.1 = 2025 edition [C].
EDITION_YEARS = {"1.0": (1995, 2020), "1.1": (1995, 2022)}

MEASURES = ("PROD", "IMGR", "EXGR")  # gross output, gross imports, gross exports
REF_AREAS = ("CHN", "W")
WORLD = "W"
# ISIC Rev.4 manufacturing industries as TiVA (ICIO 2023) publishes them; "C" is their total.
MANUFACTURING_INDUSTRIES = (
    "C10T12", "C13T15", "C16", "C17_18", "C19", "C20", "C21", "C22", "C23",
    "C24", "C25", "C26", "C27", "C28", "C29", "C30", "C31T33",
)
MANUFACTURING_ACTIVITIES = ("C", *MANUFACTURING_INDUSTRIES)
PARTNER_AREAS = ("USA", "EU27_2020")  # EU27_2020 is the code seen in public TiVA queries [C]

KEY_COLUMNS = ("MEASURE", "REF_AREA", "ACTIVITY", "COUNTERPART_AREA", "UNIT_MEASURE", "FREQ")
REQUIRED_COLUMNS = (*KEY_COLUMNS, "TIME_PERIOD", "OBS_VALUE", "UNIT_MULT")
SCHEMA = {
    "measure": pl.String,
    "ref_area": pl.String,
    "activity": pl.String,
    "counterpart_area": pl.String,
    "unit_measure": pl.String,
    "year": pl.Int16,
    "value_usd": pl.Float64,
}
_CODE = re.compile(r"[A-Za-z0-9_]+")
_MISSING_VALUES = {"", "NaN", "nan"}  # SDMX writes NaN for a missing observation


class TivaFormatError(ValueError):
    """A TiVA file is not the expected SDMX-CSV; the message names the file and the line or field."""


@dataclass(frozen=True)
class TivaRequest:
    """One SDMX data request: a measure and the codes wanted in each other key position (empty = all)."""

    measure: str
    ref_areas: tuple[str, ...]
    activities: tuple[str, ...]
    counterpart_areas: tuple[str, ...] = (WORLD,)
    unit_measure: str = "USD"
    freq: str = "A"
    start_year: int = 1995
    end_year: int = 2020
    optional: bool = False  # True for requests whose data the API may not publish (partner imports)

    def __post_init__(self) -> None:
        # Codes go into the URL path: refuse anything but SDMX identifiers.
        codes = (self.measure, self.unit_measure, self.freq, *self.ref_areas, *self.activities, *self.counterpart_areas)
        for code in codes:
            if not _CODE.fullmatch(code):
                raise ValueError(f"TiVA request: {code!r} is not an SDMX code")
        if self.end_year < self.start_year:
            raise ValueError(f"TiVA request: years {self.start_year}-{self.end_year} end before they start")

    @property
    def key(self) -> str:
        positions = (
            (self.measure,), self.ref_areas, self.activities, self.counterpart_areas, (self.unit_measure,), (self.freq,)
        )
        return ".".join("+".join(codes) for codes in positions)

    def file_name(self, version: str) -> str:
        """A readable name, plus a digest of the full key so different requests never share a file."""
        digest = hashlib.sha256(f"{version}/{self.key}/{self.start_year}-{self.end_year}".encode()).hexdigest()[:8]
        parts = [
            f"tiva_mainlv_v{version}", self.measure, _name_part(self.ref_areas, "areas"),
            _name_part(self.activities, "activities"), _name_part(self.counterpart_areas, "partners"),
            f"{self.start_year}-{self.end_year}", digest,
        ]
        return "_".join(parts) + ".csv"


def _name_part(codes: tuple[str, ...], plural: str) -> str:
    if not codes:
        return f"all-{plural}"
    return "-".join(codes) if len(codes) <= 3 else f"{len(codes)}-{plural}"


def edition_years(version: str) -> tuple[int, int]:
    if version not in EDITION_YEARS:
        raise ValueError(f"TiVA dataflow version {version!r} has no known years; known: {', '.join(EDITION_YEARS)}")
    return EDITION_YEARS[version]


def plan_requests(
    version: str = DEFAULT_VERSION,
    measures: tuple[str, ...] = MEASURES,
    ref_areas: tuple[str, ...] = REF_AREAS,
    activities: tuple[str, ...] = MANUFACTURING_ACTIVITIES,
    include_partner_imports: bool = False,
    partner_areas: tuple[str, ...] = PARTNER_AREAS,
) -> list[TivaRequest]:
    """One request per measure (China and the world, manufacturing, counterpart world, every year of
    the edition); optionally China's gross imports by partner (unverified: see the module docstring)."""
    first, last = edition_years(version)
    requests = [
        TivaRequest(measure, ref_areas, activities, (WORLD,), start_year=first, end_year=last) for measure in measures
    ]
    if include_partner_imports:
        requests.append(
            TivaRequest("IMGR", ("CHN",), activities, partner_areas, start_year=first, end_year=last, optional=True)
        )
    return requests


def request_url(base_url: str, request: TivaRequest, version: str = DEFAULT_VERSION) -> str:
    query = (
        f"startPeriod={request.start_year}&endPeriod={request.end_year}"
        f"&dimensionAtObservation=AllDimensions&format={CSV_FORMAT}"
    )
    return f"{base_url.rstrip('/')}/{REST_PATH}/data/{DATAFLOW},{version}/{request.key}?{query}"


def fetch(
    requests: list[TivaRequest],
    landing_dir: Path,
    base_url: str,
    version: str = DEFAULT_VERSION,
    refresh: bool = False,
    throttle_seconds: float = 60.0,
) -> list[LandedFile]:
    """Land one verified CSV per request, reusing present verified downloads unless refresh.

    Network calls are spaced throttle_seconds apart (the API allows about 60 data requests an hour);
    429 and 5xx are retried by landing.download, honouring Retry-After.
    """
    with landing.Fetcher(SOURCE, refresh, throttle_seconds) as fetcher:
        return [
            fetcher.fetch(request_url(base_url, request, version), landing_dir / request.file_name(version), verify_csv)
            for request in requests
        ]


def verify_csv(path: Path) -> None:
    """Raise TivaFormatError unless the file is SDMX-CSV with at least one readable row when it has rows
    (so an answer in another format is never landed; a few bad rows are quarantined at load)."""
    parsed = read(path)
    quarantine.refuse_unreadable(path.name, parsed.frame.height, parsed.bad_rows, TivaFormatError, "line")


def read(path: Path) -> Parsed:
    """The file's observations, typed, with values in USD (OBS_VALUE x 10^UNIT_MULT); empty values are null.

    A row that cannot be read (too few fields, a unit other than USD, a bad year, value or multiplier) is
    returned apart with its line and reason; a file that is not SDMX-CSV, lacks a column or repeats an
    observation raises TivaFormatError.
    """
    lines = io.StringIO(_read_text(path)).readlines()
    reader = csv.reader(lines)
    header = [name.strip() for name in next(reader)]
    index = _column_index(path, header)
    columns: dict[str, list[object]] = {name: [] for name in SCHEMA}
    bad_rows: list[BadRow] = []
    seen: dict[tuple[object, ...], int] = {}
    end = reader.line_num
    for row in reader:
        start, end = end, reader.line_num  # a quoted field may span lines
        if not any(field.strip() for field in row):
            continue
        try:
            record = _record(row, index)
        except RowError as error:
            bad_rows.append(BadRow(path.name, end, str(error), "".join(lines[start:end]).rstrip("\r\n")))
            continue
        key = tuple(value for name, value in record.items() if name != "value_usd")
        if key in seen:
            raise TivaFormatError(f"{path}: line {end} repeats the observation of line {seen[key]}: {key}")
        seen[key] = end
        for name, value in record.items():
            columns[name].append(value)
    return Parsed(pl.DataFrame(columns, schema=SCHEMA), {path.name: len(seen)}, tuple(bad_rows))


def _read_text(path: Path) -> str:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TivaFormatError(f"{path}: not UTF-8 text ({error})") from error
    if not text.strip():
        raise TivaFormatError(f"{path}: the file is empty, expected an SDMX-CSV header")
    head = text.lstrip()[:512].lower()
    if head.startswith("<!doctype html") or "<html" in head:
        raise TivaFormatError(f"{path}: the answer is an HTML page, not SDMX-CSV: {_first_line(text)!r}")
    if head.startswith("<"):
        raise TivaFormatError(f"{path}: the answer is XML (an SDMX error?), not SDMX-CSV: {_first_line(text)!r}")
    return text


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:120]


def _column_index(path: Path, header: list[str]) -> dict[str, int]:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise TivaFormatError(
            f"{path}: line 1 lacks the column(s) {', '.join(missing)}; it has {','.join(header)[:300]}"
        )
    return {name: header.index(name) for name in REQUIRED_COLUMNS}


def _record(row: list[str], index: dict[str, int]) -> dict[str, object]:
    if len(row) <= max(index.values()):
        raise RowError(f"only {len(row)} fields, fewer than the header needs")
    fields = {name: row[position].strip() for name, position in index.items()}
    if fields["UNIT_MEASURE"] != "USD":
        raise RowError(f"field UNIT_MEASURE: {fields['UNIT_MEASURE']!r}, expected USD")
    if not re.fullmatch(r"\d{4}", fields["TIME_PERIOD"]):
        raise RowError(f"field TIME_PERIOD: {fields['TIME_PERIOD']!r} is not a year")
    return {
        "measure": fields["MEASURE"],
        "ref_area": fields["REF_AREA"],
        "activity": fields["ACTIVITY"],
        "counterpart_area": fields["COUNTERPART_AREA"],
        "unit_measure": fields["UNIT_MEASURE"],
        "year": int(fields["TIME_PERIOD"]),
        "value_usd": _value_usd(fields["OBS_VALUE"], fields["UNIT_MULT"]),
    }


def _value_usd(obs_value: str, unit_mult: str) -> float | None:
    if obs_value in _MISSING_VALUES:
        return None
    try:
        value = Decimal(obs_value)
    except InvalidOperation:
        raise RowError(f"field OBS_VALUE: {obs_value!r} is not a number") from None
    if not value.is_finite():
        raise RowError(f"field OBS_VALUE: {obs_value!r} is not a finite number")
    if not re.fullmatch(r"-?\d{1,2}", unit_mult):
        raise RowError(f"field UNIT_MULT: {unit_mult!r} is not a power of ten")
    # Decimal keeps the scaling exact: 75114.2 x 10^6 is 75114200000, not 75114200000.00001.
    result = float(value.scaleb(int(unit_mult)))
    if not math.isfinite(result):
        raise RowError(f"{obs_value} x 10^{unit_mult} overflows")
    return result

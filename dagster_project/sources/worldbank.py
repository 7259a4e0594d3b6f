"""World Bank WDI API v2: a few indicators for China, the US and the EU, landed as JSON pages and parsed.

One request per indicator and page:
    {base}/v2/country/CHN;USA;EUU/indicator/{id}?format=json&per_page=1000&date={first}:{last}&page={n}
The answer is `[{"page", "pages", "per_page", "total", "sourceid", "lastupdated"}, [rows]]`; a query with
no data answers `[{..., "total": 0}, null]`, and an invalid code answers HTTP 200 with
`[{"message": [{"id": "120", "key": "Invalid value", "value": ...}]}]`. Plain Python: no Dagster imports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.sources import landing, quarantine
from dagster_project.sources.quarantine import BadRow, Parsed, RowError

SOURCE = "World Bank WDI"
COUNTRIES = ("CHN", "USA", "EUU")
PER_PAGE = 1000
INDICATORS: dict[str, str] = {
    "NV.IND.MANF.CD": "manufacturing value added (current USD)",
    "NV.IND.TOTL.CD": "industry value added, including construction (current USD)",
    "NY.GDP.MKTP.CD": "GDP (current USD)",
    "TX.VAL.TECH.CD": "high-technology exports (current USD)",
    "NV.MNF.TECH.ZS.UN": "medium and high-tech share of manufacturing value added (%)",
}
SCHEMA: dict[str, pl.DataType] = {
    "indicator_id": pl.String,
    "indicator_name": pl.String,
    "country_iso3": pl.String,
    "country_name": pl.String,
    "year": pl.Int16,
    "value": pl.Float64,
    "unit": pl.String,
    "obs_status": pl.String,
    "decimal": pl.Int32,
}
KEY = ["indicator_id", "country_iso3", "year"]
YEAR_PATTERN = re.compile(r"\d{4}")


class WorldBankFormatError(ValueError):
    """A WDI answer is not in the expected format; the message names the file and the record or field."""


@dataclass(frozen=True)
class Page:
    """One page of an indicator answer: its header and its rows, typed in SCHEMA's column order."""

    number: int
    pages: int
    total: int
    last_updated: str | None
    records: list[tuple[object, ...]]
    bad_rows: tuple[BadRow, ...] = ()  # records that cannot be read, numbered from 1


def page_url(base_url: str, indicator: str, first_year: int, last_year: int, page: int) -> str:
    # Built by hand: httpx would percent-encode the ';' and ':' the API expects as they are.
    return (
        f"{base_url.rstrip('/')}/v2/country/{';'.join(COUNTRIES)}/indicator/{indicator}"
        f"?format=json&per_page={PER_PAGE}&date={first_year}:{last_year}&page={page}"
    )


def page_file_name(indicator: str, first_year: int, last_year: int, page: int) -> str:
    return f"wdi_{indicator}_{first_year}-{last_year}_p{page}.json"


def fetch(
    landing_dir: Path,
    base_url: str,
    first_year: int,
    last_year: int,
    indicators: Iterable[str] = INDICATORS,
    refresh: bool = False,
) -> list[landing.LandedFile]:
    """Land every page of every indicator (one file each), reusing verified files unless refresh is asked."""
    if first_year > last_year:
        raise ValueError(f"{SOURCE}: first year {first_year} is after last year {last_year}")
    with landing.Fetcher(SOURCE, refresh) as fetcher:
        return [
            landed
            for indicator in indicators
            for landed in fetch_indicator(fetcher, landing_dir, base_url, indicator, first_year, last_year)
        ]


def fetch_indicator(
    fetcher: landing.Fetcher, landing_dir: Path, base_url: str, indicator: str, first_year: int, last_year: int
) -> list[landing.LandedFile]:
    """Land page 1, then every further page its header announces."""
    landed: list[landing.LandedFile] = []
    number, pages = 1, 1
    while number <= pages:
        page = fetcher.fetch(page_url(base_url, indicator, first_year, last_year, number),
                             landing_dir / page_file_name(indicator, first_year, last_year, number),
                             _page_verifier(indicator, number))
        landed.append(page)
        pages = read_page(page.path, indicator).pages
        number += 1
    return landed


def _page_verifier(indicator: str, number: int) -> Callable[[Path], None]:
    def verify(path: Path) -> None:
        page = read_page(path, indicator)
        # The API answers page 0 of 0 when the query has no data at all.
        if page.number != number and not (number == 1 and page.pages == 0):
            raise WorldBankFormatError(
                f"indicator {indicator}: asked for page {number}, the answer is page {page.number}"
            )
        label = f"indicator {indicator}, page {number}"
        quarantine.refuse_unreadable(label, len(page.records), page.bad_rows, WorldBankFormatError, "record")

    return verify


def read(paths: list[Path]) -> Parsed:
    """All rows of the given pages, typed; rows repeated across pages are kept once.

    Records that cannot be read (a missing or mistyped field) are returned apart with their number in the
    page (from 1) and reason; a page that is not the API's answer raises WorldBankFormatError.
    """
    pages = [(path.name, read_page(path)) for path in paths]
    rows = [(*record, name) for name, page in pages for record in page.records]
    frame = pl.DataFrame(rows, schema={**SCHEMA, "source_file": pl.String}, orient="row")
    distinct = frame.unique(subset=list(SCHEMA), keep="first", maintain_order=True)
    conflicts = distinct.filter(pl.struct(KEY).is_duplicated())
    if conflicts.height:
        first = conflicts.row(0, named=True)
        same_key = pl.all_horizontal(pl.col(column) == first[column] for column in KEY)
        files = sorted(set(conflicts.filter(same_key)["source_file"]))
        raise WorldBankFormatError(
            f"{', '.join(files)}: indicator {first['indicator_id']}, {first['country_iso3']} {first['year']} has "
            f"different values in different pages (pages of different vintages?); fetch again with refresh"
        )
    return Parsed(
        frame=distinct.drop("source_file").sort(KEY),
        rows_by_file={name: len(page.records) for name, page in pages},
        bad_rows=tuple(bad for _, page in pages for bad in page.bad_rows),
        unit="record",
    )


def read_page(path: Path, indicator: str | None = None) -> Page:
    """One landed answer, checked; records that cannot be read are kept apart in its bad_rows.

    Raises WorldBankFormatError on HTML, bad JSON, the API's error answer, a bad header, or a record of
    another indicator than the one given.
    """
    payload = _load_json(path)
    _raise_if_api_error(payload, path, indicator)
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], dict)):
        raise WorldBankFormatError(f"{path.name}: expected the API's [header, rows] array, got {_preview(payload)}")
    header, rows = payload
    number, pages, total = (_header_int(path, header, key) for key in ("page", "pages", "total"))
    if rows is None and total == 0:
        rows = []  # a query without data
    if not isinstance(rows, list):
        raise WorldBankFormatError(f"{path.name}: the second element should be the list of rows, got {_preview(rows)}")
    good, bad_rows = quarantine.read_json_records(rows, path.name, _record)
    for index, record in good:
        if indicator is not None and record[0] != indicator:
            raise WorldBankFormatError(f"{path.name}: record {index} is indicator {record[0]}, expected {indicator}")
    records = [record for _, record in good]
    return Page(number, pages, total, _optional_text(header.get("lastupdated")), records, tuple(bad_rows))


def _load_json(path: Path) -> object:
    content = path.read_bytes()
    text = content.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise WorldBankFormatError(f"{path.name}: the body is empty, expected the API's JSON")
    if text.startswith("<"):
        raise WorldBankFormatError(f"{path.name}: the body is an HTML or XML page, not JSON: {text[:80]!r}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise WorldBankFormatError(f"{path.name}: the body is not valid JSON ({error})") from error


def _raise_if_api_error(payload: object, path: Path, indicator: str | None) -> None:
    """The API reports a bad code as HTTP 200 with [{"message": [{"id", "key", "value"}]}]."""
    if not (isinstance(payload, list) and payload and isinstance(payload[0], dict) and "message" in payload[0]):
        return
    messages = payload[0]["message"] if isinstance(payload[0]["message"], list) else [payload[0]["message"]]
    details = "; ".join(_describe_message(message) for message in messages)
    subject = f"indicator {indicator}" if indicator else "the request"
    raise WorldBankFormatError(f"{path.name}: the API refused {subject}: {details or _preview(payload)}")


def _describe_message(message: object) -> str:
    if not isinstance(message, dict):
        return str(message)
    text = f"{message.get('id', '')} {message.get('key', '')}".strip()
    return f"{text} ({message['value']})" if message.get("value") else text


def _header_int(path: Path, header: dict[str, object], key: str) -> int:
    value = header.get(key)
    # Some API versions quote numbers in the header (e.g. "per_page": "50").
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise WorldBankFormatError(f"{path.name}: header field {key!r} should be a count, got {value!r}")


def _record(row: object) -> tuple[object, ...]:
    """One row in SCHEMA's column order; RowError names the field that cannot be read."""
    if not isinstance(row, dict):
        raise RowError(f"should be an object, got {_preview(row)}")
    indicator_id, indicator_name = _id_and_value(row, "indicator")
    _, country_name = _id_and_value(row, "country")
    return (
        indicator_id,
        indicator_name,
        _required_text(row, "countryiso3code"),
        country_name,
        _year(row),
        _value(row),
        _optional_field_text(row, "unit"),
        _optional_field_text(row, "obs_status"),
        _decimal(row),
    )


def _id_and_value(row: dict[str, object], field: str) -> tuple[str, str | None]:
    nested = row.get(field)
    if not isinstance(nested, dict) or not isinstance(nested.get("id"), str) or not nested["id"]:
        raise RowError(f"field {field!r}: expected an object with a text id, got {nested!r}")
    return nested["id"], _optional_text(nested.get("value"))


def _required_text(row: dict[str, object], field: str) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value:
        raise RowError(f"field {field!r}: expected text, got {value!r}")
    return value


def _year(row: dict[str, object]) -> int:
    value = row.get("date")
    if not isinstance(value, str) or not YEAR_PATTERN.fullmatch(value):
        raise RowError(f"field 'date': expected a year as text like \"2021\", got {value!r}")
    return int(value)


def _value(row: dict[str, object]) -> float | None:
    if "value" not in row:
        raise RowError("field 'value' is missing")
    value = row["value"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"field 'value': expected a number or null, got {value!r}")
    return float(value)


def _optional_field_text(row: dict[str, object], field: str) -> str | None:
    value = row.get(field)
    if value is not None and not isinstance(value, str):
        raise RowError(f"field {field!r}: expected text, got {value!r}")
    return value


def _decimal(row: dict[str, object]) -> int | None:
    value = row.get("decimal")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise RowError(f"field 'decimal': expected a whole number, got {value!r}")
    return value


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _preview(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."

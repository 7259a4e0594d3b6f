"""UN Comtrade API v1: planned requests, landed JSON answers, typed records.

Annual (freqCode A): China-reported imports by HS6 from every partner, China-reported exports to the
world, the US and each EU27 member, and those partners' mirror exports to China. Monthly (freqCode M):
China-reported imports from the world and the members of the marts' partner groups, and exports to the
world. Without a key the keyless preview endpoint is used (500 records a call); with a key the data
endpoint. The key travels only in the Ocp-Apim-Subscription-Key header: never in a URL, file name,
manifest, log or message. Plain Python: no Dagster imports.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import polars as pl

from dagster_project.sources import landing, quarantine
from dagster_project.sources.quarantine import Parsed, RowError

SOURCE = "UN Comtrade"
FREQUENCIES = ("A", "M")  # annual, monthly: the {freqCode} of the URL path
PREVIEW_PATH = "/public/v1/preview/C/{freq}/HS"
DATA_PATH = "/data/v1/get/C/{freq}/HS"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
PREVIEW_MAX_RECORDS = 500
KEYED_MAX_RECORDS = 100_000
MAX_URL_CHARS = 4096
# Plans leave this many characters for the base URL (the settings' TRADEDEP_COMTRADE_URL) before the path.
BASE_URL_ALLOWANCE = 128

# A request without partnerCode returns every partner China reports plus the World aggregate (0). Plans
# assume at most this many records per reporter, product, period and flow: Comtrade's reference list has
# 222 current reporter areas (reference_Reporters.json), and partners add World and a dozen special codes
# (areas nes, bunkers, free zones). Were a request to return more, its answer would reach the cap and be
# refused (verify_response), never truncated silently.
ALL_PARTNERS_ESTIMATE = 250
# In an annual record refMonth is this marker, not a month (both recorded real answers).
ANNUAL_REF_MONTH = 52

CHINA = 156
USA = 842
WORLD = 0
JAPAN = 392
KOREA = 410
TAIWAN = 490  # "Other Asia, nes"
EU27 = (40, 56, 100, 191, 196, 203, 208, 233, 246, 251, 276, 300, 348, 372, 380, 428, 440, 442, 470, 528,
        616, 620, 642, 703, 705, 724, 752)
# The members of the marts' partner groups (dbt/seeds/partner_group.csv): the monthly view's partners.
MONTHLY_PARTNERS = (WORLD, USA, *EU27, JAPAN, KOREA, TAIWAN)

class ComtradeFormatError(ValueError):
    """A Comtrade file is not in the expected format; the message names the file and the record/field."""


class ComtradeAnswerError(RuntimeError):
    """Comtrade answered, but not with usable data (an error answer, or a result cut at the record cap)."""


@dataclass(frozen=True)
class ComtradeRequest:
    """One call to the API: the frequency and the query parameters, nothing secret."""

    reporter_codes: tuple[int, ...]
    partner_codes: tuple[int, ...]  # empty: every partner (partnerCode omitted), the World aggregate included
    cmd_codes: tuple[str, ...]
    flow_codes: tuple[str, ...]
    periods: tuple[int, ...]  # years (YYYY) when freq_code is A, months (YYYYMM) when M
    max_records: int
    freq_code: str = "A"
    partner2_code: int = 0  # 0 = all second partners together: other values double count the totals
    mot_code: int = 0  # 0 = all modes of transport
    customs_code: str = "C00"  # C00 = all customs procedures
    include_desc: bool = False  # descriptions come from the reference tables; without them answers are smaller

    def params(self) -> dict[str, str]:
        partners = {"partnerCode": _join(self.partner_codes)} if self.partner_codes else {}
        return {
            "reporterCode": _join(self.reporter_codes),
            **partners,
            "partner2Code": str(self.partner2_code),
            "cmdCode": _join(self.cmd_codes),
            "flowCode": _join(self.flow_codes),
            "period": _join(self.periods),
            "motCode": str(self.mot_code),
            "customsCode": self.customs_code,
            "maxRecords": str(self.max_records),
            "includeDesc": "true" if self.include_desc else "false",
        }

    def query(self) -> str:
        return urlencode(self.params(), safe=",")

    def path(self, keyed: bool) -> str:
        return (DATA_PATH if keyed else PREVIEW_PATH).format(freq=self.freq_code)

    def url(self, base_url: str, keyed: bool) -> str:
        return f"{base_url.rstrip('/')}{self.path(keyed)}?{self.query()}"

    @property
    def file_name(self) -> str:
        """Derived from the frequency and parameters only (never the key): the same request lands in the same
        file, and an annual and a monthly request never share one."""
        identity = {"freqCode": self.freq_code, **self.params()}
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()
        return f"comtrade_{self.freq_code}_{digest[:20]}.json"

    @property
    def record_estimate(self) -> int:
        """The most records the request can return: one per reporter, partner, product, period and flow."""
        partners = len(self.partner_codes) or ALL_PARTNERS_ESTIMATE
        return len(self.reporter_codes) * partners * len(self.cmd_codes) * len(self.periods) * len(self.flow_codes)


def _join(values: Sequence[object]) -> str:
    return ",".join(str(value) for value in values)


# ---------------------------------------------------------------- planning


def plan_requests(
    hs6_codes: list[str], years: list[int], keyed: bool, months: Sequence[int] = ()
) -> list[ComtradeRequest]:
    """The annual requests for `years`, then the monthly ones for `months` (YYYYMM), split so that no request
    can reach the record limit or exceed the URL limit.

    Annual: China's imports from every partner, its exports to the world, the US and each EU27 member, and
    those partners' mirror exports to China. Monthly: China's imports from the world and MONTHLY_PARTNERS,
    and its exports to the world.
    """
    products = sorted(set(hs6_codes))
    bad = [code for code in products if not (len(code) == 6 and code.isdigit())]
    if bad:
        raise ValueError(f"{SOURCE}: HS6 codes must be 6 digits as text, got {bad[:5]}")
    bad_months = [month for month in months if not (100001 <= month <= 999912 and 1 <= month % 100 <= 12)]
    if bad_months:
        raise ValueError(f"{SOURCE}: months must be YYYYMM numbers, got {bad_months[:5]}")
    if not products:
        return []
    limit = KEYED_MAX_RECORDS if keyed else PREVIEW_MAX_RECORDS
    annual = [
        _template(reporters=(CHINA,), partners=(), flow="M", freq="A", limit=limit),  # every partner
        _template(reporters=(CHINA,), partners=(WORLD, *EU27, USA), flow="X", freq="A", limit=limit),
        _template(reporters=(*EU27, USA), partners=(CHINA,), flow="X", freq="A", limit=limit),  # mirror
    ]
    monthly = [
        _template(reporters=(CHINA,), partners=MONTHLY_PARTNERS, flow="M", freq="M", limit=limit),
        _template(reporters=(CHINA,), partners=(WORLD,), flow="X", freq="M", limit=limit),
    ]
    return [
        *(request for template in annual for request in _split(template, products, sorted(set(years)))),
        *(request for template in monthly for request in _split(template, products, sorted(set(months)))),
    ]


def _template(
    reporters: tuple[int, ...], partners: tuple[int, ...], flow: str, freq: str, limit: int
) -> ComtradeRequest:
    return ComtradeRequest(reporter_codes=reporters, partner_codes=partners, cmd_codes=(), flow_codes=(flow,),
                           periods=(), max_records=limit, freq_code=freq)


def _split(template: ComtradeRequest, products: list[str], periods: list[int]) -> list[ComtradeRequest]:
    if not periods:
        return []
    period_size, product_size = _chunk_sizes(template, len(products), periods)
    return [
        replace(template, cmd_codes=tuple(product_group), periods=tuple(period_group))
        for period_group in _chunks(periods, period_size)
        for product_group in _chunks(products, product_size)
    ]


def _chunk_sizes(template: ComtradeRequest, product_count: int, periods: list[int]) -> tuple[int, int]:
    """(periods, products) per request giving the fewest requests within the record and URL limits."""
    per_product_period = replace(template, cmd_codes=("",), periods=(0,)).record_estimate
    # A response holding exactly max_records looks cut short, so plans stay strictly below it.
    capacity = (template.max_records - 1) // per_product_period
    best: tuple[int, int, int] | None = None
    for period_size in range(1, len(periods) + 1):
        fitting_url = _products_fitting_url(template, periods, period_size)
        product_size = min(capacity // period_size, fitting_url, product_count)
        if product_size < 1:
            break
        count = math.ceil(product_count / product_size) * math.ceil(len(periods) / period_size)
        if best is None or count <= best[0]:
            best = (count, period_size, product_size)
    if best is None:
        raise ValueError(
            f"{SOURCE}: one product and period already give {per_product_period} records, over the limit of "
            f"{template.max_records}"
        )
    return best[1], best[2]


def _products_fitting_url(template: ComtradeRequest, periods: list[int], period_size: int) -> int:
    """How many 6-digit codes fit in the URL beside period_size of the periods (each code adds 7 characters)."""
    empty = replace(template, cmd_codes=(), periods=(max(periods),) * period_size)
    length = len(empty.url("", keyed=False)) + BASE_URL_ALLOWANCE
    return (MAX_URL_CHARS - length + 1) // 7


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---------------------------------------------------------------- fetching


def fetch(
    requests: list[ComtradeRequest],
    landing_dir: Path,
    base_url: str,
    api_key: str | None,
    refresh: bool = False,
    throttle_seconds: float = 6.0,
) -> list[landing.LandedFile]:
    """Land one verified JSON answer per request; a verified real answer already present is reused."""
    api_key = (api_key or "").strip() or None
    keyed = api_key is not None
    urls = [request.url(base_url, keyed) for request in requests]
    for request, url in zip(requests, urls, strict=True):
        _check_fits(request, url, keyed)
    headers = {KEY_HEADER: api_key} if keyed else None
    with landing.Fetcher(SOURCE, refresh, throttle_seconds, headers) as fetcher:
        return [
            fetcher.fetch(url, landing_dir / request.file_name,
                          partial(verify_response, max_records=request.max_records, keyed=keyed))
            for request, url in zip(requests, urls, strict=True)
        ]


def _check_fits(request: ComtradeRequest, url: str, keyed: bool) -> None:
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"{SOURCE}: {url[:200]}... is {len(url)} characters, over the {MAX_URL_CHARS} the API accepts")
    if not keyed and request.max_records > PREVIEW_MAX_RECORDS:
        raise ValueError(
            f"{SOURCE}: {url} was planned for the keyed endpoint (maxRecords={request.max_records}); the keyless "
            f"preview returns at most {PREVIEW_MAX_RECORDS} records. Set COMTRADE_API_KEY or plan with keyed=False."
        )


def verify_response(path: Path, max_records: int, keyed: bool) -> None:
    """Raise unless path holds a complete data answer: not HTML, valid JSON, no error, not cut at the cap."""
    answer = _load_answer(path, "the answer")  # path is a temporary name: the caller's message gives the URL
    records = max(answer["count"], len(answer["data"]))
    if records >= max_records:
        if not keyed:
            raise ComtradeAnswerError(
                f"the answer holds {records} records, the keyless preview limit of {max_records}, so it is probably "
                f"cut short: this run exceeds the preview limit. Set COMTRADE_API_KEY to use the data endpoint, "
                f"or ask for fewer products, years or months."
            )
        raise ComtradeAnswerError(
            f"the answer holds {records} records, the maxRecords of the request, so it is probably cut short: "
            f"split the request further"
        )
    parsed = _records(answer["data"], "the answer")
    quarantine.refuse_unreadable("the answer", parsed.frame.height, parsed.bad_rows, ComtradeFormatError, "record")


def _load_answer(path: Path, label: str) -> dict:
    """The parsed answer of the API; raises on an HTML page, malformed JSON or an error answer."""
    body = path.read_bytes()
    if body.lstrip()[:1] == b"<":
        raise ComtradeFormatError(f"{label} is an HTML page, not the API's JSON answer")
    try:
        answer = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ComtradeFormatError(f"{label} is not valid JSON: {error}") from None
    if not isinstance(answer, dict):
        raise ComtradeFormatError(f"{label}: expected a JSON object, found {type(answer).__name__}")
    # The API gateway answers errors as {"statusCode": ..., "message": ...}; the API itself sets "error".
    if "data" not in answer and ("statusCode" in answer or "message" in answer):
        status, message = answer.get("statusCode"), answer.get("message")
        raise ComtradeAnswerError(f"{label}: the API answered an error: {status} {message}")
    if answer.get("error"):
        raise ComtradeAnswerError(f"{label}: the API answered an error: {answer['error']}")
    count = answer.get("count")
    if not isinstance(count, int) or isinstance(count, bool):
        raise ComtradeFormatError(f"{label}: field 'count' is {count!r}, expected a number of records")
    if answer.get("data") is None and count == 0:
        answer["data"] = []
    if not isinstance(answer.get("data"), list):
        raise ComtradeFormatError(f"{label}: field 'data' is {type(answer.get('data')).__name__}, expected a list")
    return answer


# ---------------------------------------------------------------- parsing

# (column, API field, type, may be null)
FIELDS: tuple[tuple[str, str, type, bool], ...] = (
    ("freq_code", "freqCode", str, False),
    ("ref_year", "refYear", int, False),
    ("ref_month", "refMonth", int, False),  # checked against freqCode and period, then null for annual records
    ("reporter_code", "reporterCode", int, False),
    ("flow_code", "flowCode", str, False),
    ("partner_code", "partnerCode", int, False),
    ("partner2_code", "partner2Code", int, False),
    ("classification_code", "classificationCode", str, False),
    ("cmd_code", "cmdCode", str, False),
    ("mot_code", "motCode", int, False),
    ("customs_code", "customsCode", str, False),
    ("cif_value", "cifvalue", float, True),
    ("fob_value", "fobvalue", float, True),
    ("primary_value", "primaryValue", float, True),
    ("qty", "qty", float, True),
    ("net_wgt", "netWgt", float, True),
    ("is_reported", "isReported", bool, True),
    ("is_aggregate", "isAggregate", bool, True),
)
SCHEMA: dict[str, pl.DataType] = {
    "freq_code": pl.String, "ref_year": pl.Int16, "ref_month": pl.Int16, "reporter_code": pl.Int32,
    "flow_code": pl.String, "partner_code": pl.Int32, "partner2_code": pl.Int32, "classification_code": pl.String,
    "cmd_code": pl.String, "mot_code": pl.Int32, "customs_code": pl.String, "cif_value": pl.Float64,
    "fob_value": pl.Float64, "primary_value": pl.Float64, "qty": pl.Float64, "net_wgt": pl.Float64,
    "is_reported": pl.Boolean, "is_aggregate": pl.Boolean,
}


_INT_LIMITS = {pl.Int16: 2**15, pl.Int32: 2**31}


def read(path: Path) -> Parsed:
    """The answer's records as a typed frame (SCHEMA); other fields and top-level keys are ignored.

    A record that cannot be read (a missing field, a null key, a value of the wrong type or beyond its
    column) is returned apart with its number (from 1) and reason; an answer that is not the API's JSON
    raises ComtradeFormatError.
    """
    try:
        answer = _load_answer(path, path.name)
    except ComtradeAnswerError as error:
        raise ComtradeFormatError(str(error)) from None
    return _records(answer["data"], path.name)


def _records(records: list, file: str) -> Parsed:
    good, bad_rows = quarantine.read_json_records(records, file, _record)
    frame = pl.DataFrame({column: [values[column] for _, values in good] for column in SCHEMA}, schema=SCHEMA)
    return Parsed(frame, {file: frame.height}, tuple(bad_rows), unit="record")


def _record(record: object) -> dict[str, object]:
    if not isinstance(record, dict):
        raise RowError(f"a {type(record).__name__}, expected an object")
    values = {column: _field(record, column, field, kind, nullable) for column, field, kind, nullable in FIELDS}
    values["ref_month"] = _ref_month(values["freq_code"], values["ref_year"], values["ref_month"],
                                     _field(record, "period", "period", str, False))
    return values


def _ref_month(freq: str, year: int, month: int, period: str) -> int | None:
    """The month of a monthly record, None for an annual one. refMonth and period must agree with freqCode
    and refYear: a record that contradicts itself cannot be placed in time."""
    if freq == "A":
        expected_period = str(year)
        if month != ANNUAL_REF_MONTH:
            raise RowError(f"field 'refMonth' is {month}, expected {ANNUAL_REF_MONTH} in an annual record")
    elif freq == "M":
        expected_period = f"{year}{month:02d}"
        if not 1 <= month <= 12:
            raise RowError(f"field 'refMonth' is {month}, expected a month from 1 to 12 in a monthly record")
    else:
        raise RowError(f"field 'freqCode' is {freq!r}, expected one of {', '.join(FREQUENCIES)}")
    if period != expected_period:
        raise RowError(
            f"field 'period' is {period!r}, expected {expected_period!r} for refYear {year}, refMonth {month}")
    return month if freq == "M" else None


def _field(record: dict, column: str, field: str, kind: type, nullable: bool) -> object:
    if field not in record:
        raise RowError(f"no field {field!r}")
    value = record[field]
    if value is None:
        if nullable:
            return None
        raise RowError(f"field {field!r} is null")
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        limit = _INT_LIMITS[SCHEMA[column]]
        if not -limit <= value < limit:
            raise RowError(f"field {field!r} is {value}, beyond the range of its column {column}")
        return value
    if kind in (str, bool) and isinstance(value, kind):
        return value
    # Codes must arrive as text: a number would have lost its leading zeros.
    raise RowError(f"field {field!r} is {value!r}, expected {kind.__name__}")

"""Expectation suites for the raw tables: what each source's rows must satisfy before dbt reads them.

Each suite names its table, the rows it validates (one SQL query, which GX validates in the warehouse, read-only:
gx_runner.run_suite_sql) and its expectations, which may use reference values read from the warehouse (country
and product codes, the configured years).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from dagster_project import fingerprints
from dagster_project.quality.gx_runner import (
    SuiteOutcome,
    column_types,
    gx_expectations,
    run_suite_sql,
    unique_key,
    values_in_reference,
    values_match_glob,
)
from dagster_project.settings import Settings
from dagster_project.warehouse import connect

QUALITY_CODE = Path(__file__).parent  # the suites and the code that runs them
# Rows a BACI year may hold: the sample has ~60 thousand, a real year ~10 million.
BACI_ROWS_PER_YEAR = (1_000, 20_000_000)


@dataclass(frozen=True)
class TableSuite:
    """A table's suite: which rows to validate (one query) against which expectations."""

    name: str
    table: str  # also the Dagster asset key, schema/name
    source: str  # the TRADEDEP_SOURCES key; a switched-off source's suite does not run
    query: Callable[[Settings, duckdb.DuckDBPyConnection], tuple[str, list[Any]]]  # the rows: (SQL, parameters)
    expectations: Callable[[Settings, duckdb.DuckDBPyConnection], list[Any]]
    reads: tuple[str, ...] = ()  # the tables (or subqueries) the query reads, when not just `table`
    aggregates: bool = False  # the query sums a large table into a few rows: computed once (gx_runner's materialise)

    @property
    def tables_read(self) -> tuple[str, ...]:
        return self.reads or (self.table,)


def _baci_trade_rows(settings: Settings, con: duckdb.DuckDBPyConnection) -> tuple[str, list[Any]]:
    return ("SELECT t, i, j, k, v, q FROM raw.baci_trade WHERE hs_revision = ? AND t BETWEEN ? AND ?",
            [settings.hs_revision, settings.years[0], settings.years[-1]])


def _baci_trade(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    countries = "SELECT country_code FROM raw.baci_countries"
    products = with_literals("SELECT code FROM raw.baci_products WHERE hs_revision = ?", [settings.hs_revision])
    return [
        e.ExpectTableColumnsToMatchOrderedList(column_list=["t", "i", "j", "k", "v", "q"]),
        # Numeric columns keep their types; k is text, which the six-digit pattern below checks.
        *column_types({"t": ("SMALLINT",), "i": ("INTEGER",), "j": ("INTEGER",), "k": ("VARCHAR",),
                       "v": ("DOUBLE",), "q": ("DOUBLE",)}),
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in ("t", "i", "j", "k", "v")),
        unique_key(["t", "i", "j", "k"]),
        e.ExpectColumnValuesToBeBetween(column="t", min_value=settings.years[0], max_value=settings.years[-1]),
        e.ExpectColumnValuesToBeBetween(column="v", min_value=0, strict_min=True),  # BACI holds positive flows only
        e.ExpectColumnValuesToBeBetween(column="q", min_value=0),
        values_match_glob("k", "[0-9]" * 6),  # ^\d{6}$, which takes 3.1 s more on 120 million rows as a regex
        values_in_reference("i", countries),
        values_in_reference("j", countries),
        values_in_reference("k", products),
    ]


def _baci_trade_years(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        e.ExpectColumnDistinctValuesToEqualSet(column="year", value_set=list(settings.years)),
        e.ExpectColumnValuesToBeBetween(column="row_count", min_value=BACI_ROWS_PER_YEAR[0], max_value=BACI_ROWS_PER_YEAR[1]),
    ]


def _baci_members(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    """Every member file the configured years need was loaded from the release zip."""
    from dagster_project.sources.baci import Release

    release = Release(settings.hs_revision, settings.baci_release)
    return [gx_expectations.ExpectColumnDistinctValuesToContainSet(column="member", value_set=release.expected_members(settings.years))]


def _china_import_shares(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    """Shares of China's imports over all partners of a product sum to 1 (within rounding)."""
    return [gx_expectations.ExpectColumnValuesToBeBetween(column="share_sum", min_value=1 - 1e-9, max_value=1 + 1e-9)]


def _baci_countries(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="country_code"),
        e.ExpectColumnValuesToBeUnique(column="country_code"),
        e.ExpectColumnValuesToNotBeNull(column="country_name"),
        e.ExpectColumnValuesToMatchRegex(column="country_iso3", regex=r"^[A-Z0-9]{3}$"),
        # Names are decoded: no leftover of BACI's double-encoded UTF-8 ('Ã´' for 'ô').
        e.ExpectColumnValuesToNotMatchRegex(column="country_name", regex="Ã"),
        e.ExpectTableRowCountToBeBetween(min_value=20, max_value=400),
    ]


def _baci_products(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="code"),
        e.ExpectColumnValuesToBeUnique(column="code"),
        e.ExpectColumnValuesToMatchRegex(column="code", regex=r"^\d{6}$"),
        e.ExpectTableRowCountToBeBetween(min_value=4_000, max_value=7_000),  # every HS revision has ~5,000-5,600
    ]


def _comtrade(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    last_year = max([*settings.comtrade_years, *(month // 100 for month in settings.comtrade_months)])
    return [
        *(e.ExpectColumnValuesToNotBeNull(column=column)
          for column in ("freq_code", "ref_year", "reporter_code", "partner_code", "flow_code", "cmd_code")),
        unique_key(["freq_code", "ref_year", "ref_month", "reporter_code", "partner_code", "partner2_code",
                         "flow_code", "cmd_code", "mot_code", "customs_code"]),
        e.ExpectColumnValuesToBeBetween(column="ref_year", min_value=2000, max_value=last_year),
        e.ExpectColumnValuesToBeInSet(column="freq_code", value_set=["A", "M"]),
        e.ExpectColumnValuesToBeBetween(column="ref_month", min_value=1, max_value=12),  # null in annual rows
        e.ExpectColumnValuesToBeInSet(column="flow_code", value_set=["M", "X", "RM", "RX"]),
        *(e.ExpectColumnValuesToBeBetween(column=column, min_value=0)
          for column in ("cif_value", "fob_value", "primary_value")),
    ]


def _oecd_tiva(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    return [
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in ("measure", "ref_area", "activity", "year")),
        unique_key(["measure", "ref_area", "activity", "counterpart_area", "year"]),
        e.ExpectColumnValuesToBeInSet(column="measure", value_set=["PROD", "IMGR", "EXGR"]),
        e.ExpectColumnValuesToBeBetween(column="year", min_value=1995, max_value=2030),
        e.ExpectColumnValuesToBeBetween(column="value_usd", min_value=0),
    ]


def _worldbank(settings: Settings, con: duckdb.DuckDBPyConnection) -> list[Any]:
    e = gx_expectations
    first, last = settings.worldbank_years
    return [
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in ("indicator_id", "country_iso3", "year")),
        unique_key(["indicator_id", "country_iso3", "year"]),
        e.ExpectColumnValuesToBeInSet(column="country_iso3", value_set=["CHN", "USA", "EUU"]),
        e.ExpectColumnValuesToBeBetween(column="year", min_value=first, max_value=last),
        e.ExpectColumnValuesToBeBetween(column="value", min_value=0),
    ]


def _whole(table: str) -> Callable[[Settings, duckdb.DuckDBPyConnection], tuple[str, list[Any]]]:
    return lambda settings, con: (f"SELECT * FROM {table}", [])


RAW_SUITES = [
    TableSuite("raw_baci_trade", "raw.baci_trade", "baci", _baci_trade_rows, _baci_trade,
               reads=("raw.baci_trade", "raw.baci_countries", "raw.baci_products")),  # the codes are references
    TableSuite(
        "raw_baci_trade_years", "raw.baci_trade", "baci",
        lambda settings, con: ("SELECT t AS year, count(*) AS row_count FROM raw.baci_trade WHERE hs_revision = ? "
                               "GROUP BY t", [settings.hs_revision]),
        _baci_trade_years,
        aggregates=True,
    ),
    TableSuite(
        "raw_baci_members", "raw.baci_trade", "baci",
        lambda settings, con: ("SELECT member FROM raw.baci_files WHERE hs_revision = ? AND release = ?",
                               [settings.hs_revision, settings.baci_release]),
        _baci_members,
        # Only the members: the load log's timestamps change with every load of the reference tables.
        reads=("(SELECT hs_revision, release, member FROM raw.baci_files)",),
    ),
    TableSuite(
        "raw_baci_china_import_shares", "raw.baci_trade", "baci",
        lambda settings, con: (
            """WITH by_partner AS (
                   SELECT t, k, i, sum(v) AS v FROM raw.baci_trade WHERE hs_revision = ? AND j = 156 GROUP BY t, k, i)
               SELECT t, k, sum(v / total) AS share_sum
               FROM by_partner JOIN (SELECT t, k, sum(v) AS total FROM by_partner GROUP BY t, k) USING (t, k)
               GROUP BY t, k""",
            [settings.hs_revision],
        ),
        _china_import_shares,
        aggregates=True,
    ),
    TableSuite("raw_baci_countries", "raw.baci_countries", "baci", _whole("raw.baci_countries"), _baci_countries),
    TableSuite(
        "raw_baci_products", "raw.baci_products", "baci",
        lambda settings, con: ("SELECT * FROM raw.baci_products WHERE hs_revision = ?", [settings.hs_revision]),
        _baci_products,
    ),
    TableSuite("raw_comtrade_flows", "raw.comtrade_flows", "comtrade", _whole("raw.comtrade_flows"), _comtrade),
    TableSuite("raw_oecd_tiva", "raw.oecd_tiva", "oecd_tiva", _whole("raw.oecd_tiva"), _oecd_tiva),
    TableSuite("raw_worldbank_indicators", "raw.worldbank_indicators", "worldbank",
             _whole("raw.worldbank_indicators"), _worldbank),
]


def fingerprint(settings: Settings, suite: TableSuite) -> str:
    """What the suite would validate and how: its expectations (with the reference values they hold), its
    query, the content of the tables they read, and the code that runs it. Equal fingerprints,
    equal outcome. (The tables, not the query's result: a result with floating-point sums, such as the
    China import shares, may differ in its last bits from one run to the next.)"""
    with connect(settings.warehouse_path, read_only=True) as con:
        specs = [[item.type, item.kwargs, item.name, item.column] for item in suite.expectations(settings, con)]
        query = suite.query(settings, con)
        tables = [fingerprints.query_fingerprint(con, _select_all(table), database=settings.warehouse_path)
                  for table in suite.tables_read]
    return fingerprints.combine(suite.name, specs, query, tables, quality_code_fingerprint())


def _select_all(table: str) -> str:
    """The query of a table's rows as the dbt step writes it too: it then reuses the fingerprint the suites
    computed while the warehouse is unchanged."""
    if table.startswith("("):  # a subquery
        return f"SELECT * FROM {table}"
    return fingerprints.select_all(*table.split("."))


@cache
def quality_code_fingerprint() -> dict[str, str]:
    """The suites' and their runner's source files (read once per process: code does not change under it)."""
    return fingerprints.files_fingerprint(QUALITY_CODE, QUALITY_CODE.glob("*.py"))


def validate(settings: Settings, suite: TableSuite) -> SuiteOutcome:
    """Run one suite in the warehouse (read-only): GX computes each expectation as a query there."""
    with connect(settings.warehouse_path, read_only=True) as con:
        expectations = suite.expectations(settings, con)
        sql, params = suite.query(settings, con)
    return run_suite_sql(suite.name, settings.warehouse_path, with_literals(sql, params), expectations,
                         materialise=suite.aggregates)


def with_literals(sql: str, params: list[Any]) -> str:
    """The query with each ? replaced by its parameter as a SQL literal (GX takes a query without parameters).
    The parameters are settings (years, a revision, a release): numbers and text, quoted."""
    parts = sql.split("?")
    if len(parts) != len(params) + 1:
        raise ValueError(f"{len(params)} parameters for {len(parts) - 1} placeholders in {sql!r}")
    literals = [str(value) if isinstance(value, int | float) and not isinstance(value, bool)
                else "'" + str(value).replace("'", "''") + "'" for value in params]
    return "".join(part + literal for part, literal in zip(parts, [*literals, ""], strict=True))


def enabled_suites(settings: Settings) -> list[TableSuite]:
    return [suite for suite in RAW_SUITES if suite.source in settings.sources]

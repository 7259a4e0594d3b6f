"""Run a Great Expectations (GX Core 1.x) suite where the data lives: each expectation is a query on DuckDB.

GX's SQL execution (its SQL data source through SQLAlchemy and duckdb-engine, with the fixes of gx_duckdb.py)
computes every expectation in the warehouse, so no row is moved into Python but the few offending ones it
reports. No Dagster imports: the asset checks in checks.py wrap this. A suite that cannot run (an error inside GX,
a missing column) counts as failed, never as passed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

SAMPLE_ROWS = 5
SQL_EXPECTATION = "ExpectQueryToReturnNoRows"  # an expectation written as SQL: see _query_expectation_class
# DuckDB's memory for one suite's queries: it spills beyond (measured at 10M rows: 1.3 GB peak at 1 GB).
MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class Expectation:
    """A GX expectation as its class name and arguments. Suites are built from these and become GX objects
    only when validated, so building a suite (e.g. to fingerprint it) does not import GX (seconds). `name` and
    `column` say what an expectation written as SQL (SQL_EXPECTATION) checks."""

    type: str  # a class of great_expectations.expectations, e.g. ExpectColumnValuesToBeInSet
    kwargs: dict[str, Any]
    name: str | None = None
    column: str | None = None
    checked: str | None = None  # what it checks, in words, when its arguments do not say it (see in_words)

    def to_gx(self, index: int) -> Any:
        import great_expectations as gx

        kind = _query_expectation_class() if self.type == SQL_EXPECTATION else getattr(gx.expectations, self.type)
        return kind(**self.kwargs, meta={"index": index})


@cache
def _query_expectation_class() -> type:
    """GX's UnexpectedRowsExpectation that only counts the query's rows. GX's own runs the query twice, for the
    count and for the rows, which it reports only in its COMPLETE format: 12 s more for the uniqueness of
    (t, i, j, k) over 120 million BACI rows. run_suite_sql reads the first offending rows of a failed one."""
    import great_expectations as gx

    class ExpectQueryToReturnNoRows(gx.expectations.UnexpectedRowsExpectation):
        metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

        def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                      execution_engine: Any = None) -> dict:
            count = metrics["unexpected_rows_query.row_count"]
            return {"success": count == 0, "result": {"observed_value": count}}

    return ExpectQueryToReturnNoRows


class _Expectations:
    """`gx_expectations.ExpectColumnValuesToNotBeNull(column="t")` makes an Expectation, named as in GX."""

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("Expect"):
            raise AttributeError(name)
        return lambda **kwargs: Expectation(name, kwargs)


gx_expectations = _Expectations()


def column_types(types: dict[str, tuple[str, ...]]) -> list[Expectation]:
    """Each column's DuckDB type is one of those given (GX's type expectations do not run on DuckDB's dialect)."""
    return [
        Expectation(SQL_EXPECTATION, {"unexpected_rows_query": (
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {{batch}}) WHERE column_name = '{column}' "
            f"AND column_type NOT IN ({', '.join(repr(kind) for kind in kinds)})")},
            name="expect_column_type", column=column)
        for column, kinds in types.items()
    ]


def values_in_reference(column: str, reference_sql: str) -> Expectation:
    """Every value of the column is one the reference query returns: a join in the warehouse (GX's in_set sends a
    long list as one parameter per value, which took 47 s for HS12's 5,000 product codes on the sample)."""
    return Expectation(SQL_EXPECTATION, {
        "unexpected_rows_query": f"SELECT * FROM {{batch}} WHERE {column} NOT IN ({reference_sql})"},
        name="expect_column_values_to_be_in_reference", column=column)


def values_match_glob(column: str, pattern: str) -> Expectation:
    """Every value of the column matches the GLOB pattern (NULLs are the not-null expectations' business): for a
    fixed shape such as six digits, six times cheaper than a regular expression (0.5 s against 3.1 s for the
    product codes of 120 million BACI rows)."""
    return Expectation(SQL_EXPECTATION, {
        "unexpected_rows_query": f"SELECT * FROM {{batch}} WHERE NOT ({column} GLOB '{pattern}')"},
        name="expect_column_values_to_match_glob", column=column, checked=f"matches GLOB {pattern}")


def unique_key(columns: list[str]) -> Expectation:
    """No two rows share these columns' values, missing values (NULL) counting as equal, as a key's do: the
    duplicated keys with their number of copies are unexpected. (GX's compound uniqueness in SQL lets two rows
    with a NULL in the key pass, e.g. two copies of an annual Comtrade row, whose month is NULL.)

    Grouping by the key is what costs: 11 s for BACI's 120 million (t, i, j, k). So the keys' 64-bit hashes are
    counted first (6 s): as many distinct hashes as rows proves the keys distinct, and the grouping is skipped.
    Fewer (a duplicate, or two keys' hashes colliding, about once in 2,500 builds of that size) and the keys are
    grouped to find the duplicates, if any."""
    listed = ", ".join(columns)
    return Expectation(SQL_EXPECTATION, {"unexpected_rows_query": (
        f"WITH quick AS (SELECT count(*) = count(DISTINCT hash({listed})) AS surely_unique FROM {{batch}}) "
        f"SELECT {listed}, count(*) AS copies FROM {{batch}} WHERE NOT (SELECT surely_unique FROM quick) "
        f"GROUP BY {listed} HAVING count(*) > 1")},
        name="expect_compound_columns_to_be_unique", column=",".join(columns))


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None = None
    sample: list[Any] = field(default_factory=list)
    error: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # up to SAMPLE_ROWS whole offending rows
    checked: str = ""  # what the expectation checked, in words: "value >= 0", "unique over (t, i, j, k)"

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        if self.error:
            return f"{self.expectation}{target} could not run: {self.error}"
        count = f": {self.unexpected_count} unexpected" if self.unexpected_count is not None else ""
        sample = f", e.g. {self.sample}" if self.sample else ""
        return f"{self.expectation}{target} failed{count}{sample}"


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    row_count: int
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return bool(self.outcomes) and all(outcome.success for outcome in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: all {len(self.outcomes)} expectations passed on {self.row_count} rows"
        return f"{self.suite}: " + "; ".join(failure.describe() for failure in self.failures)


def run_suite_sql(suite_name: str, database: Path, query: str, expectations: list[Expectation],
                  materialise: bool = False) -> SuiteOutcome:
    """Validate the rows of `query` (SQL with no parameters) in the DuckDB file, read-only, one query per
    expectation; the offending rows GX reports come whole (every column of the query).

    Twice when something fails: first whether each expectation holds (GX's BOOLEAN_ONLY format), then only the
    failed ones again for their counts, samples and rows. Reporting them costs GX two more queries per expectation
    on a column's values, each a scan of every row when nothing is wrong (6 s for the regex on 120 million BACI
    rows); a failed one is worth the second look. With `materialise`, GX keeps the query's rows in a temporary
    table (read-only connections may have them) instead of running the query again for each of its queries: for a
    query that aggregates a large table into a few rows (BACI's rows per year: 0.3 s each time on 120 million rows)."""
    import duckdb
    import great_expectations as gx  # imported here: GX takes seconds to import
    from great_expectations.validator.v1_validator import Validator  # what Batch.validate uses, once per call

    from dagster_project.quality import gx_duckdb

    gx_duckdb.apply()
    query = f"SELECT * FROM ({query}) AS validated"  # GX takes a query that starts with SELECT, not WITH
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.sql(query).columns
        row_count = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql(f"{suite_name}_source", connection_string=f"duckdb:///{database}",
                                          create_temp_table=materialise, kwargs={
        "connect_args": {"read_only": True, "config": {"memory_limit": MEMORY_LIMIT}}})
    try:
        # One validator for both passes: one batch (one temporary table when materialised).
        validator = Validator(source.add_query_asset(suite_name, query=query).add_batch_definition_whole_table("all"),
                              result_format={"result_format": "BOOLEAN_ONLY"})
        results = _validated(validator, suite_name, expectations, range(len(expectations)))
        failed = [index for index, item in results.items() if not item.success]
        if failed:
            validator.result_format = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS,
                                       "unexpected_index_column_names": columns}
            results |= _validated(validator, suite_name, expectations, failed)
    finally:  # no connection left open on the file: the process may write it next
        for engine in (source.get_engine(), source.get_execution_engine().engine):
            engine.dispose()
    outcomes = [_outcome(results[index], expectation) for index, expectation in enumerate(expectations)]
    return SuiteOutcome(suite=suite_name, row_count=row_count, outcomes=[
        _with_unexpected_rows(outcome, expectation, database, query)
        for outcome, expectation in zip(outcomes, expectations, strict=True)])


def _validated(validator: Any, suite_name: str, expectations: list[Expectation], indices: Iterable[int]) -> dict[int, Any]:
    """GX's result of each expectation of `indices`, by index, in the validator's result format."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=suite_name, expectations=[expectations[index].to_gx(index) for index in indices])
    return {item.expectation_config.meta["index"]: item for item in validator.validate_expectation_suite(suite).results}


def _with_unexpected_rows(outcome: ExpectationOutcome, expectation: Expectation, database: Path,
                          query: str) -> ExpectationOutcome:
    """A failed expectation written as SQL with its first offending rows (GX lists them only in its COMPLETE
    format, which would list every unexpected value of the others)."""
    sql = expectation.kwargs.get("unexpected_rows_query")
    if outcome.success or outcome.error or sql is None:
        return outcome
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        relation = con.sql(f"SELECT * FROM ({sql.format(batch=f'({query})')}) LIMIT {SAMPLE_ROWS}")
        rows = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
    return dataclasses.replace(outcome, rows=[{name: _plain(value) for name, value in row.items()} for row in rows])


def _outcome(item: Any, expectation: Expectation) -> ExpectationOutcome:
    config = item.expectation_config
    column = expectation.column or config.kwargs.get("column") or (
        ",".join(config.kwargs["column_list"]) if "column_list" in config.kwargs else None)
    details = item.result or {}
    if item.success and not details and _counts_rows(expectation):
        details = {"unexpected_count": 0}  # validated as BOOLEAN_ONLY, which reports no count: it passed, so none
    error = _error_message(item.exception_info)
    if error is None and not item.success and not details:
        error = "GX returned no result (the column or table may be missing)"
    sample = details.get("partial_unexpected_list", [])[:SAMPLE_ROWS]
    # Whole rows for a value GX found unexpected; the key's values for a duplicated compound key.
    rows = details.get("partial_unexpected_index_list") or [value for value in sample if isinstance(value, dict)]
    return ExpectationOutcome(
        expectation=expectation.name or config.type,
        column=column,
        success=bool(item.success) and error is None,
        unexpected_count=details.get("unexpected_count", details.get("observed_value") if expectation.name else None),
        sample=[_plain(value) for value in sample],
        error=error,
        rows=[{str(name): _plain(value) for name, value in row.items()} for row in rows[:SAMPLE_ROWS]],
        checked=expectation.checked or in_words(expectation.name or config.type,
                         {**config.kwargs, "column_list": column.split(",")} if expectation.name and column else config.kwargs),
    )


def _counts_rows(expectation: Expectation) -> bool:
    """Whether the expectation counts offending rows (one written as SQL, or one on each value of a column)."""
    if expectation.type == SQL_EXPECTATION:
        return True
    import great_expectations as gx
    from great_expectations.expectations.expectation import ColumnMapExpectation

    return issubclass(getattr(gx.expectations, expectation.type), ColumnMapExpectation)


SET_VALUES_SHOWN = 8


def in_words(expectation: str, kwargs: dict[str, Any]) -> str:
    """What an expectation checks, with its bounds, as a reader would write it."""
    columns = ", ".join(kwargs.get("column_list") or kwargs.get("column_set") or [])
    words = {
        "expect_column_values_to_be_between": lambda: _range(kwargs, "value"),
        "expect_table_row_count_to_be_between": lambda: _range(kwargs, "row count"),
        "expect_table_row_count_to_equal": lambda: f"row count = {kwargs.get('value')}",
        "expect_column_values_to_not_be_null": lambda: "not null",
        "expect_column_values_to_be_unique": lambda: "unique",
        "expect_compound_columns_to_be_unique": lambda: f"unique over ({columns})",
        "expect_column_values_to_be_in_set": lambda: f"in {_set(kwargs.get('value_set'))}",
        "expect_column_distinct_values_to_equal_set": lambda: f"distinct values exactly {_set(kwargs.get('value_set'))}",
        "expect_column_distinct_values_to_contain_set": lambda: f"distinct values include {_set(kwargs.get('value_set'))}",
        "expect_column_values_to_be_in_type_list": lambda: f"type in {_set(kwargs.get('type_list'))}",
        "expect_column_values_to_match_regex": lambda: f"matches {kwargs.get('regex')}",
        "expect_column_values_to_not_match_regex": lambda: f"never matches {kwargs.get('regex')}",
        "expect_table_columns_to_match_ordered_list": lambda: f"columns in this order: {columns}",
        "expect_table_columns_to_match_set": lambda: (
            f"columns exactly {{{columns}}}" if kwargs.get("exact_match", True) else f"columns include {{{columns}}}"),
    }
    if expectation in words:
        return words[expectation]()
    return ", ".join(f"{name} = {value}" for name, value in kwargs.items() if name not in ("batch_id", "column"))


def _range(kwargs: dict[str, Any], subject: str) -> str:
    low, high = (_number(kwargs.get(name)) for name in ("min_value", "max_value"))
    low_sign = "<" if kwargs.get("strict_min") else "<="
    high_sign = "<" if kwargs.get("strict_max") else "<="
    if low is not None and high is not None:
        return f"{low} {low_sign} {subject} {high_sign} {high}"
    if low is not None:
        return f"{subject} {low_sign.replace('<', '>')} {low}"
    if high is not None:
        return f"{subject} {high_sign} {high}"
    return f"{subject}: any"


def _number(value: Any) -> Any:
    """GX stores bounds as floats: 0.0 reads better as 0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _set(values: Any) -> str:
    values = sorted(values or [], key=str) if not isinstance(values, list) else values
    shown = ", ".join(str(value) for value in values[:SET_VALUES_SHOWN])
    more = f", ... ({len(values)} values)" if len(values) > SET_VALUES_SHOWN else ""
    return f"{{{shown}{more}}}"


def _error_message(info: Any) -> str | None:
    if not info:
        return None
    if isinstance(info, dict) and info.get("raised_exception"):
        return str(info.get("exception_message") or "GX raised an exception")
    if isinstance(info, dict):
        nested = [value for value in info.values() if isinstance(value, dict) and value.get("raised_exception")]
        if nested:
            return str(nested[0].get("exception_message") or "GX raised an exception")
    return None


def _plain(value: Any) -> Any:
    """JSON-friendly sample values (decimals and NaN become plain Python values)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):  # a list column
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, date):  # also datetimes and pandas timestamps
        return value.isoformat()
    return value

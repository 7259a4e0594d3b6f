"""Run a Great Expectations (GX Core 1.x) suite on a DataFrame and summarise the outcome.

No Dagster imports: the asset checks in checks.py wrap this. A suite that cannot run (an error
inside GX, a missing column) counts as failed, never as passed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Expectation:
    """A GX expectation as its class name and arguments. Suites are built from these and become GX objects
    only when validated, so building a suite (e.g. to fingerprint it) does not import GX (seconds)."""

    type: str  # a class of great_expectations.expectations, e.g. ExpectColumnValuesToBeInSet
    kwargs: dict[str, Any]

    def to_gx(self) -> Any:
        import great_expectations as gx

        return getattr(gx.expectations, self.type)(**self.kwargs)


class _Expectations:
    """`gx_expectations.ExpectColumnValuesToNotBeNull(column="t")` makes an Expectation, named as in GX."""

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("Expect"):
            raise AttributeError(name)
        return lambda **kwargs: Expectation(name, kwargs)


gx_expectations = _Expectations()


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


def run_suite_in_batches(suite_name: str, frames: Iterable[pd.DataFrame], expectations: list[Any]) -> SuiteOutcome:
    """Validate each frame (e.g. one year of a large table) and merge: an expectation passes only if it
    passes in every batch; unexpected counts add up; samples and rows come from the first failing batch."""
    import great_expectations as gx  # imported here: GX takes seconds to import

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    definition = (
        context.data_sources.add_pandas(f"{suite_name}_source")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("whole_table")
    )
    suite = gx.ExpectationSuite(name=suite_name, expectations=[
        item.to_gx() if isinstance(item, Expectation) else item for item in expectations])
    merged: list[ExpectationOutcome] | None = None
    rows = 0
    for frame in frames:
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
        )
        outcomes = [_outcome(item, frame) for item in result.results]
        merged = outcomes if merged is None else [_merge(a, b) for a, b in zip(merged, outcomes, strict=True)]
        rows += len(frame)
    return SuiteOutcome(suite=suite_name, row_count=rows, outcomes=merged or [])


def _merge(first: ExpectationOutcome, second: ExpectationOutcome) -> ExpectationOutcome:
    counts = [count for count in (first.unexpected_count, second.unexpected_count) if count is not None]
    return ExpectationOutcome(
        expectation=first.expectation,
        column=first.column,
        success=first.success and second.success,
        unexpected_count=sum(counts) if counts else None,
        sample=first.sample if not first.success else second.sample,
        error=first.error or second.error,
        rows=first.rows if not first.success else second.rows,
        checked=first.checked,
    )


def _outcome(item: Any, frame: pd.DataFrame) -> ExpectationOutcome:
    config = item.expectation_config
    column = config.kwargs.get("column") or (",".join(config.kwargs["column_list"]) if "column_list" in config.kwargs else None)
    details = item.result or {}
    error = _error_message(item.exception_info)
    if error is None and not item.success and not details:
        error = "GX returned no result (the column or table may be missing)"
    return ExpectationOutcome(
        expectation=config.type,
        column=column,
        success=bool(item.success) and error is None,
        unexpected_count=details.get("unexpected_count"),
        sample=[_plain(value) for value in details.get("partial_unexpected_list", [])[:SAMPLE_ROWS]],
        error=error,
        rows=_offending_rows(frame, details.get("partial_unexpected_index_list") or []),
        checked=in_words(config.type, config.kwargs),
    )


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


def _offending_rows(frame: pd.DataFrame, index: list[Any]) -> list[dict[str, Any]]:
    """The whole rows GX found unexpected (it lists their index for row-level expectations: values out of
    range or set, nulls, duplicated keys); none for table-level ones such as a row count."""
    labels = [label for label in index[:SAMPLE_ROWS] if label in frame.index]
    rows = frame.loc[labels].to_dict("records")
    return [{str(column): _plain(value) for column, value in row.items()} for row in rows]


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
    """JSON-friendly sample values (numpy scalars and NaN become plain Python values)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):  # a list column
        return [_plain(item) for item in value.tolist()]
    if hasattr(value, "item"):
        value = value.item()
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, date):  # also datetimes and pandas timestamps
        return value.isoformat()
    return value

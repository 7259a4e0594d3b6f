"""Great Expectations' SQL execution on DuckDB: the two fixes it needs, in one place, for the GX version pinned.

Out of the box every expectation fails on DuckDB (../shared/STACK.md): GX's SqlAlchemyExecutionEngine.execute_query
returns a query's result after closing the connection, whose rollback makes DuckDB discard the unread rows. The fix
reads the rows before the connection closes. And GX has no regular-expression rule for DuckDB's dialect (the regex
expectations then report nothing and fail): the fix gives it `regexp_matches`. tests/test_gx_duckdb.py shows both
fixes are needed and that the suites fail on bad data with them. Applied only to the version they were written for:
another version stops here, so an upgrade is checked before it is trusted.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

PATCHED_VERSION = "1.24.1"
_applied = False


class GxVersionError(RuntimeError):
    """The installed GX is not the version the DuckDB fixes were written and tested for."""


def apply() -> None:
    """Apply both fixes once per process (idempotent)."""
    global _applied
    if _applied:
        return
    installed = version("great-expectations")
    if installed != PATCHED_VERSION:
        raise GxVersionError(f"great-expectations {installed} installed; the DuckDB fixes in {__name__} were written "
                             f"for {PATCHED_VERSION}: check them (tests/test_gx_duckdb.py) and update PATCHED_VERSION")
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.metrics.column_map_metrics import (
        column_values_match_regex,
        column_values_not_match_regex,
    )

    SqlAlchemyExecutionEngine.execute_query = _execute_query_reading_rows
    for module in (column_values_match_regex, column_values_not_match_regex):
        module.get_dialect_regex_expression = _with_duckdb_regex(module.get_dialect_regex_expression)
    _applied = True


def _execute_query_reading_rows(self: Any, query: Any) -> Any:
    """GX's execute_query, with the rows read (a frozen copy) before the connection closes."""
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        return result.freeze()() if result.returns_rows else result


def _with_duckdb_regex(original: Any) -> Any:
    def regex_expression(column: Any, regex: str, dialect: Any, positive: bool = True) -> Any:
        if _is_duckdb(dialect):
            import sqlalchemy as sa

            matches = sa.func.regexp_matches(column, sa.literal(regex))
            return matches if positive else sa.not_(matches)
        return original(column, regex, dialect, positive)

    return regex_expression


def _is_duckdb(dialect: Any) -> bool:
    names = (getattr(dialect, "name", None), getattr(getattr(dialect, "dialect", None), "name", None),
             getattr(dialect, "__name__", None))
    return any(isinstance(name, str) and "duckdb" in name for name in names)

"""How `tradedep sql` prints a result: a table to read, or every row and column as CSV or JSON.

The table rounds numbers for reading (shares and ratios to four significant digits, large numbers with
thousands separators) and cuts long text; CSV and JSON are written by DuckDB itself, every value exact,
so they read back to the same values.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl

from dagster_project.exports import csv_options, text_columns
from dagster_project.warehouse import sql_literal_path

FORMATS = ("table", "csv", "json")
TABLE_ROWS = 200  # rows the table format shows unless told --all or --limit
CELL_CHARS = 80  # longer text is cut in the table format only
RESULT = "tradedep_result"  # the result, registered as a view so that DuckDB can COPY it
COPY_FORMATS = {"json": "FORMAT json, ARRAY true"}


def marts_first(con: duckdb.DuckDBPyConnection) -> None:
    """Unqualified names find the marts first (SELECT * FROM fct_sector_dependency), and SHOW TABLES lists them."""
    schemas = {row[0] for row in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    if "marts" in schemas:
        con.execute("SET search_path = 'marts,main'")


def write_result(con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, fmt: str, limit: int | None,
                 out: BinaryIO) -> None:
    """Write the result to `out`: at most `limit` rows (None: every row)."""
    if fmt == "table":
        # One row past the limit tells whether rows were left out.
        values = (relation if limit is None else relation.limit(limit + 1)).fetchall()
        more = limit is not None and len(values) > limit
        out.write(render_table(relation.columns, values[:limit] if more else values, more).encode("utf-8"))
        return
    # The result streams to DuckDB's own writer through a second connection (a cursor): registered on the
    # query's connection it would show up in the result of SHOW TABLES.
    rows = (relation if limit is None else relation.limit(limit)).arrow()
    with con.cursor() as cursor, tempfile.TemporaryDirectory(prefix="tradedep-sql-") as folder:
        cursor.register(RESULT, rows)
        options = csv_options(text_columns(cursor, RESULT)) if fmt == "csv" else COPY_FORMATS[fmt]
        path = Path(folder) / "result"
        cursor.execute(f"COPY (SELECT * FROM {RESULT}) TO '{sql_literal_path(path)}' ({options})")
        with path.open("rb") as result:
            shutil.copyfileobj(result, out)


def tables(con: duckdb.DuckDBPyConnection, descriptions: dict[tuple[str, str], str]) -> duckdb.DuckDBPyRelation:
    """Every table and view of the warehouse with its schema and its dbt description, the marts first."""
    frame = pl.DataFrame([(schema, name, text) for (schema, name), text in descriptions.items()],
                         schema=["schema", "name", "description"], orient="row")
    con.register("dbt_descriptions", frame)
    return con.sql("""
        SELECT t.table_schema AS schema, t.table_name AS name,
               CASE t.table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS kind, d.description
        FROM information_schema.tables AS t
        LEFT JOIN dbt_descriptions AS d ON d.schema = t.table_schema AND d.name = t.table_name
        WHERE t.table_catalog = current_database()
        ORDER BY t.table_schema <> 'marts', t.table_schema, t.table_name""")


def render_table(columns: Sequence[str], rows: list[tuple], more: bool) -> str:
    """A plain-text table: numbers right-aligned and rounded for reading, text left-aligned and cut."""
    cells = _cells(rows)
    numeric = [all(_is_number(row[i]) for row in rows if row[i] is not None) and any(row[i] is not None for row in rows)
               for i in range(len(columns))]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.rjust(width) if right else value.ljust(width)
                         for value, width, right in zip(values, widths, numeric, strict=True)).rstrip()

    lines = [line(columns), line(["-" * width for width in widths]), *(line(row) for row in cells)]
    count = f"{len(rows):,} rows" if not more else f"first {len(rows):,} rows shown: --all or --limit N shows more"
    cut = any(len(str(value)) > CELL_CHARS for row in rows for value in row if isinstance(value, str))
    notes = [count] + ([f"text longer than {CELL_CHARS} characters is cut"] if cut else [])
    return "\n".join([*lines, f"({'; '.join(notes)}; --format csv or json prints every value exactly)", ""])


def _cells(rows: list[tuple]) -> list[list[str]]:
    """Each value as text; an integer column gets thousands separators when it holds values of 10,000 or more
    (so years and codes do not)."""
    if not rows:
        return []
    large = [any(_is_integer(value) and abs(value) >= 10_000 for value in column) for column in zip(*rows, strict=True)]
    return [[_cell(value, separators) for value, separators in zip(row, large, strict=True)] for row in rows]


def _cell(value: object, separators: bool) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value).lower()
    if _is_integer(value):
        return f"{value:,}" if separators else str(value)
    if isinstance(value, float | Decimal):
        number = float(value)
        return f"{number:,.0f}" if abs(number) >= 1_000 else f"{number:.4g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return _is_integer(value) or isinstance(value, float | Decimal)

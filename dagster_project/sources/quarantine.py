"""Malformed rows of landed files: set aside in raw.quarantine, never dropped silently.

A parser that meets a row it cannot read (a value that is not a number, a wrong column count, a missing
field) records it as a BadRow and goes on with the next one; a file that is not in the source's format
at all (HTML, no header, empty) still fails as a whole. The loader writes the bad rows to raw.quarantine
in the transaction that replaces the table's rows, and refuses the load when a file holds more than
TRADEDEP_MAX_BAD_ROW_SHARE of them. The table's DDL is in raw_tables.py. Plain Python: no Dagster
imports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import duckdb
import polars as pl

Row = TypeVar("Row")


class RowError(ValueError):
    """One row cannot be read; the message is the reason. Parsers catch it and quarantine the row."""


class TooManyBadRowsError(ValueError):
    """A file holds more malformed rows than TRADEDEP_MAX_BAD_ROW_SHARE allows; the message names the lines."""


@dataclass(frozen=True)
class BadRow:
    """One row as raw.quarantine keeps it."""

    file: str  # the landed file's name
    line: int  # the CSV line, or the record's number (from 1) in a JSON answer
    reason: str
    content: str  # the row as written: the CSV line, or the JSON record


@dataclass(frozen=True)
class Parsed:
    """What a parser read from some landed files: the good rows, typed, and the rows it could not read."""

    frame: pl.DataFrame
    rows_by_file: dict[str, int]  # good rows read from each file
    bad_rows: tuple[BadRow, ...] = ()
    unit: str = "line"  # how the source counts rows in messages: "line" (CSV) or "record" (JSON)

    def check_share(self, max_share: float) -> None:
        """Raise TooManyBadRowsError for the first file whose bad rows exceed max_share of its rows."""
        for file, rows in self.rows_by_file.items():
            bad = [(row.line, row.reason) for row in self.bad_rows if row.file == file]
            message = too_many_message(file, rows, bad, max_share, self.unit)
            if message:
                raise TooManyBadRowsError(message)


def concat(parts: Sequence[Parsed]) -> Parsed:
    """One Parsed of several files of a source (at least one; their frames have the same schema)."""
    return Parsed(
        frame=pl.concat([part.frame for part in parts], how="vertical"),
        rows_by_file={file: rows for part in parts for file, rows in part.rows_by_file.items()},
        bad_rows=tuple(row for part in parts for row in part.bad_rows),
        unit=parts[0].unit,
    )


def describe(row: BadRow, unit: str = "line") -> str:
    return f"{row.file}: {unit} {row.line}: {row.reason}"


def too_many_message(
    file: str, rows: int, bad: Sequence[tuple[int, str]], max_share: float, unit: str = "line"
) -> str | None:
    """The error for a file with `rows` good rows and the (line, reason) `bad` ones, or None within the share."""
    if not bad or len(bad) <= max_share * (rows + len(bad)):
        return None
    examples = "; ".join(f"{unit} {line}: {reason}" for line, reason in bad[:3])
    return (
        f"{file}: {len(bad)} of {rows + len(bad)} rows are malformed, more than "
        f"TRADEDEP_MAX_BAD_ROW_SHARE={max_share}: {examples}"
    )


def refuse_unreadable(label: str, good: int, bad_rows: Sequence[BadRow], error: type[Exception], unit: str) -> None:
    """For landing: an answer none of whose rows can be read is not data (a changed format?), so refuse it."""
    if bad_rows and not good:
        first = bad_rows[0]
        raise error(f"{label}: none of its {len(bad_rows)} {unit}s can be read; {unit} {first.line}: {first.reason}")


def json_text(value: object) -> str:
    """A JSON record as quarantine content."""
    return json.dumps(value, ensure_ascii=False)


def read_json_records(
    records: Sequence[object], file: str, read: Callable[[object], Row]
) -> tuple[list[tuple[int, Row]], list[BadRow]]:
    """Each record of a JSON answer read by `read`, with its number (from 1); those it raises RowError on are set
    apart as BadRows."""
    good: list[tuple[int, Row]] = []
    bad: list[BadRow] = []
    for number, record in enumerate(records, 1):
        try:
            good.append((number, read(record)))
        except RowError as error:
            bad.append(BadRow(file, number, str(error), json_text(record)))
    return good, bad


def replace(con: duckdb.DuckDBPyConnection, source: str, files: Sequence[str], bad_rows: Sequence[BadRow]) -> None:
    """Replace the quarantined rows of `files` with `bad_rows`, inside the caller's transaction."""
    con.execute("DELETE FROM raw.quarantine WHERE source = ? AND list_contains(?, file)", [source, list(files)])
    if bad_rows:
        con.executemany(
            "INSERT INTO raw.quarantine (source, file, line, reason, content, quarantined_at) "
            "VALUES (?, ?, ?, ?, ?, current_timestamp::TIMESTAMP)",
            [[source, row.file, row.line, row.reason, row.content] for row in bad_rows],
        )

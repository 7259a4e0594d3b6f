"""Connections to the DuckDB warehouse file.

DuckDB allows one writer process per file, so every operation opens its own connection in a
context manager and closes it at once; nothing keeps a connection across assets.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

# The DuckDB clients analysts have (the CLI, BI drivers, Evidence's bundled 1.4.2) lag the newest release.
# v1.0.0 is the oldest storage version duckdb 2.0.1 writes (older names give the same format, number 64);
# the warehouse written at it opens in every client from DuckDB 1.1 on (measured: docs/bi.md).
STORAGE_VERSION = "v1.0.0"
STORAGE_NUMBER = 64  # the version number in the file's header, which a client checks before opening it


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse file's lock."""


# The build locks this process holds: a run inside `tradedep build` is already covered by the CLI's lock.
_HELD_BUILD_LOCKS: set[Path] = set()


@contextmanager
def build_lock(path: Path) -> Iterator[None]:
    """Hold the warehouse's build lock for a whole build; a second build gets a WarehouseBusyError at once.

    DuckDB's own lock lasts one operation, so without this a second build could write between two
    assets of the first. The lock is the operating system's (flock): it ends with the process, even
    one killed with SIGKILL, so it is never left stale. Taken again by the process that holds it, it
    does nothing (a run of `tradedep build` runs in the process that took it).
    """
    if path in _HELD_BUILD_LOCKS:
        yield
        return
    lock_path = path.with_name(f".{path.name}.build-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise WarehouseBusyError(
                f"A build is already running on {path} ({holder}); wait for it to finish and try again"
            ) from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}, started {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        handle.flush()
        _HELD_BUILD_LOCKS.add(path)
        try:
            yield
        finally:
            _HELD_BUILD_LOCKS.discard(path)
            fcntl.flock(handle, fcntl.LOCK_UN)


def create_if_missing(path: Path) -> None:
    """Create an empty warehouse file at STORAGE_VERSION, so that older DuckDB clients read it."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{sql_literal_path(path)}' AS warehouse (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("DETACH warehouse")
    finally:
        con.close()


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for one operation; a held lock becomes a clear WarehouseBusyError."""
    if read_only and not path.exists():
        raise FileNotFoundError(f"No warehouse at {path}: build it first (tradedep build --sample for the offline sample)")
    if not read_only:
        create_if_missing(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusyError(
                f"The warehouse {path} is locked by another process (a build is probably writing it); "
                "try again when it has finished"
            ) from error
        raise
    try:
        con.execute("SET enable_progress_bar = false")  # logs and captured output stay readable
        yield con
    finally:
        con.close()


def holds_sample(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds the synthetic sample: BACI, which every build loads, records for each
    member file it loaded whether the file was the sample (and a build lands every source the same way)."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'baci_files'"
                        ).fetchall()[0][0]
    return bool(found) and bool(con.execute("SELECT coalesce(bool_or(synthetic), false) FROM raw.baci_files").fetchall()[0][0])


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit the block's statements together, or roll every one of them back."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def swap_rows(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, where: str = "TRUE", params: list | None = None
) -> None:
    """Delete the rows matching `where` and insert the frame, inside the caller's transaction.

    `table` and `where` come from the code, never from input; values go in `params`.
    """
    con.execute(f"DELETE FROM {table} WHERE {where}", params or [])
    con.register("incoming_rows", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")


def sql_literal_path(path: Path) -> str:
    """A file path inside a single-quoted SQL literal (DuckDB takes no parameters for file names here)."""
    return str(path).replace("'", "''")

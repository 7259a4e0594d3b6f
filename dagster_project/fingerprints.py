"""Content fingerprints of what a step reads, so a rebuild where nothing changed skips the work.

A step (dbt, a Great Expectations suite) records the fingerprint of its inputs in the warehouse when it
succeeds. The next build computes it again and, when it is identical, does not repeat the step. A
fingerprint is computed from the data itself (row count and the sum of a hash of every row, with the
column names and types), never from timestamps, so a table rewritten with the same rows still matches
and a table changed by any means (a reload, a hand edit) does not. No Dagster imports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb

STATE_TABLE = "meta.step_state"
# Libraries whose upgrade may change a result (or the hash itself): part of every fingerprint.
VERSIONED_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb", "great-expectations")


def combine(*parts: Any) -> str:
    """One fingerprint of JSON-serialisable parts (order matters)."""
    text = json.dumps([*parts, package_versions()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def digest(text: str) -> str:
    """A short stable name for a long fingerprint (e.g. a Dagster data version)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    return {package: version(package) for package in VERSIONED_PACKAGES}


def query_fingerprint(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None, database: Path | None = None
) -> str:
    """Row count, columns and an order-free sum of row hashes of a query's result.

    Given the database's path, the result is remembered for as long as the file and its write-ahead log
    keep their size and modification time (any committed write changes one of them), so the steps of one
    build that read the same large table (three BACI suites and dbt) scan it once.
    """
    key = (str(database), sql, json.dumps(params, default=str), database_state(database)) if database else None
    if key in _REMEMBERED:
        return _REMEMBERED[key]
    fingerprint = _query_fingerprint(con, sql, params)
    if key:
        _REMEMBERED[key] = fingerprint
    return fingerprint


_REMEMBERED: dict[tuple, str] = {}


def database_state(path: Path) -> tuple:
    return tuple((file.stat().st_size, file.stat().st_mtime_ns) if file.exists() else None
                 for file in (path, path.with_name(path.name + ".wal")))


def _query_fingerprint(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None) -> str:
    relation = con.sql(sql, params=params or None)
    columns = [f"{name} {kind}" for name, kind in zip(relation.columns, relation.types, strict=True)]
    count, total = con.execute(
        f"SELECT count(*), coalesce(sum(hash(r)::HUGEINT), 0)::VARCHAR FROM ({sql}) AS r", params or []
    ).fetchone()
    return f"{count}:{total}:{','.join(columns)}"


def relation_fingerprint(con: duckdb.DuckDBPyConnection, schema: str, name: str, database: Path | None = None) -> str:
    """A table's content, a view's definition, or 'missing'. Names come from the dbt manifest, not input."""
    kind = con.execute(
        "SELECT 'table' FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
        "UNION ALL SELECT sql FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
        [schema, name, schema, name],
    ).fetchone()
    if kind is None:
        return "missing"
    if kind[0] == "table":
        return query_fingerprint(con, f'SELECT * FROM "{schema}"."{name}"', database=database)
    return "view:" + kind[0]


def files_fingerprint(root: Path, paths: Iterable[Path]) -> dict[str, str]:
    """The sha256 of each file, by path relative to root."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(paths)}


def recorded(con: duckdb.DuckDBPyConnection, step: str) -> tuple[str, dict[str, Any]] | None:
    """The fingerprint and details a step recorded when it last succeeded, if it did."""
    if not _state_table_exists(con):
        return None
    row = con.execute(f"SELECT fingerprint, detail FROM {STATE_TABLE} WHERE step = ?", [step]).fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def record(con: duckdb.DuckDBPyConnection, step: str, fingerprint: str, detail: dict[str, Any]) -> None:
    """Remember that the step succeeded on inputs with this fingerprint (replacing what it recorded before)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
        "(step VARCHAR PRIMARY KEY, fingerprint VARCHAR NOT NULL, detail JSON NOT NULL, recorded_at TIMESTAMP NOT NULL)"
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?, ?)",
        [step, fingerprint, json.dumps({**detail, "recorded_at": now.isoformat(timespec="seconds") + "Z"}), now],
    )


def forget(con: duckdb.DuckDBPyConnection, step: str) -> None:
    """Drop a step's record, so its next run does the work whatever the fingerprint."""
    if _state_table_exists(con):
        con.execute(f"DELETE FROM {STATE_TABLE} WHERE step = ?", [step])


def _state_table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' AND table_name = 'step_state'").fetchone()[0] > 0

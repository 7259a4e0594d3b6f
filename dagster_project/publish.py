"""Readers never wait for a build: a build writes its own file and publishes it over the warehouse when it succeeds.

Analysts, BI tools and `tradedep sql` read the warehouse (TRADEDEP_WAREHOUSE). A build writes the build file
beside it (<warehouse>.build.duckdb) and, when its run ends without a failed or skipped step, copies the build
file over the warehouse in one rename. A reader that had the old file open keeps reading it; the next one opens
the new file. DuckDB lets readers and a writer share no file, so two files are the price: the build file also
keeps what a failed build got to, for the next build to continue from.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dagster_project.warehouse import connect


def seed_build_file(build: Path, warehouse: Path) -> None:
    """Start the build file from the published warehouse when there is none (a warehouse built before builds
    had their own file, or a deleted build file), so the build continues from what is loaded."""
    if not build.exists() and warehouse.exists():
        _copy_into_place(warehouse, build)


def publish(build: Path, warehouse: Path) -> bool:
    """Replace the warehouse by the build file, atomically; False when the warehouse is already that file's copy."""
    with connect(build) as con:
        con.execute("CHECKPOINT")  # everything in the file itself, none of it in a write-ahead log beside it
    if warehouse.exists() and _same_file_state(build, warehouse):
        return False
    _copy_into_place(build, warehouse)
    return True


def _same_file_state(first: Path, second: Path) -> bool:
    a, b = first.stat(), second.stat()
    return (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)


def _copy_into_place(source: Path, target: Path) -> None:
    """Copy to a hidden file beside the target, then rename it over the target: no reader sees half a file."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        shutil.copy2(source, partial)  # with the source's modification time: _same_file_state compares it
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)

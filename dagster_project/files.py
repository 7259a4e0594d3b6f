"""Atomic file writes: a reader of a file sees the previous complete file or the new complete file, never half.

The content goes to a temporary name in the target's folder (the same file system, so the rename is atomic), is
synced to disk, then renamed onto the target. If the writer fails, the temporary file is deleted and the target
is left as it was. No Dagster imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside target, for writers that take a file name (DuckDB's COPY, zipfile): renamed onto
    target when the block ends, deleted if it raises."""
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        yield temporary
        _sync(temporary)  # without it a crash soon after the rename can leave an empty target
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_file(target: Path) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces target when the block ends; nothing is left if it raises."""
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        yield handle


def write_atomic(target: Path, content: bytes) -> None:
    with atomic_file(target) as handle:
        handle.write(content)


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

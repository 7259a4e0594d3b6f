"""What `tradedep build` prints: one progress line per step, while everything else goes to a log file.

Everything the build process and its children write (Dagster's logs, dbt's lines, warnings, tracebacks) is
sent to the log file at the file-descriptor level, so nothing escapes it; the progress goes to the terminal.
On a terminal the progress is one line rewritten in place with a bar; piped, it is plain lines without
colour codes.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

BAR_WIDTH = 24


class Progress:
    """Counts finished steps and shows each: on a terminal in place, otherwise as a line of its own."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.total: int | None = None
        self.done = 0

    def planned(self, steps: int) -> None:
        self.total = steps

    def started(self, step: str) -> None:
        """On a terminal, say which step runs now (a long one, such as dbt, is not mistaken for a hang)."""
        if self.tty:
            self._rewrite(f"[{self._count(self.done + 1)}] running {step}")

    def finished(self, step: str, status: str, seconds: float | None) -> None:
        """status: "ok", "FAILED" or "skipped"."""
        self.done += 1
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        text = f"[{self._count(self.done)}] {status:<7} {step}{took}"
        if self.tty:
            self._rewrite(text, keep=status == "FAILED")  # a failure stays on screen
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _count(self, step: int) -> str:
        return f"{step:>{len(str(self.total))}}/{self.total}" if self.total else str(step)

    def _rewrite(self, text: str, keep: bool = False) -> None:
        """Rewrite the terminal's current line (carriage return, erase line) with a bar and the text."""
        filled = BAR_WIDTH * self.done // self.total if self.total else 0
        line = f"{'#' * filled}{'.' * (BAR_WIDTH - filled)} {text}"[: shutil.get_terminal_size().columns - 1]
        self.stream.write("\r\x1b[2K" + line + ("\n" if keep else ""))
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()


@contextmanager
def output_to_log(log_path: Path) -> Iterator[TextIO]:
    """Send this process's stdout and stderr (and its children's) to log_path; yields a stream to the terminal."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", encoding="utf-8", buffering=1)
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            terminal.close()

"""Progress for long runs: one redrawn line on a terminal, nothing at all otherwise.

Under cron stderr is a pipe or a file, and anything written there is mailed;
so a :class:`Progress` checks ``isatty()`` once and, without a terminal, every
call is a no-op. On a terminal it redraws one line on stderr (never stdout,
which carries the run's summary) at most every ``min_interval`` seconds, and
wipes it on close so the line that follows starts clean::

    with progress("extract", total=len(pending)) as p:
        for item in pending:
            ...
            p.advance(item=str(item))
"""
from __future__ import annotations

import shutil
import sys
import time
from types import TracebackType
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """A counter shown as ``label 3/10 item`` on a terminal; silent on anything else."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 min_interval: float = 0.1) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream)
        self.min_interval = min_interval
        self.done = 0
        self._shown = 0  # width of the line on screen, 0 when none is
        self._last = 0.0

    def advance(self, n: int = 1, item: str = "") -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.min_interval or self.done == self.total:
            self._last = now
            self._draw(item)

    def _draw(self, item: str) -> None:
        count = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        line = f"{self.label} {count} {item}".rstrip()[:width]
        self.stream.write("\r" + line.ljust(self._shown))
        self.stream.flush()
        self._shown = len(line)

    def close(self) -> None:
        """Wipe the line, so what is printed next starts at the left margin."""
        if self.enabled and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def progress(label: str, total: int | None = None, stream: TextIO | None = None) -> Progress:
    """The hook long stages call: ``with progress("fetch") as p: ... p.advance(item=url)``."""
    return Progress(label, total, stream)

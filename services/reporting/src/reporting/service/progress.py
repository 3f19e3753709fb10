"""Progress reporting of long rebuilds: a bar redrawn in place on a terminal, a line every few seconds otherwise."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from ..domain.progress import progress_line


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO | None = None, every_s: float = 0.2) -> None:
        self.label, self.total = label, total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s if self.tty else 5.0
        self.started = time.perf_counter()
        self._last = 0.0
        self._printed: int | None = None
        self.done = 0

    def update(self, done: int, force: bool = False) -> None:
        self.done = done
        now = time.perf_counter()
        if not force and now - self._last < self.every_s:
            return
        self._last, self._printed = now, done
        line = progress_line(self.label, done, self.total, now - self.started)
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def finish(self) -> float:
        if self._printed != self.done:
            self.update(self.done, force=True)
        if self.tty:
            self.stream.write("\n")
        return time.perf_counter() - self.started


class Silent(ProgressBar):
    """A progress bar that says nothing (tests, benchmarks)."""

    def update(self, done: int, force: bool = False) -> None:
        self.done = done

    def finish(self) -> float:
        return time.perf_counter() - self.started

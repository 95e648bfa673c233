"""A plain progress bar on stderr: one line redrawn on a terminal, a line per stage otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.label = ""
        self.total = 0
        self.done = 0
        self.started = time.monotonic()

    def stage(self, label: str, total: int) -> None:
        self._finish()
        self.label, self.total, self.done = label, total, 0
        self.started = time.monotonic()
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.tty:
            self._draw()

    def close(self) -> None:
        self._finish()

    def _draw(self) -> None:
        if not self.tty:
            return
        filled = WIDTH * self.done // max(1, self.total)
        bar = "#" * filled + "." * (WIDTH - filled)
        self.stream.write(f"\r{self.label:<10} [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def _finish(self) -> None:
        if not self.enabled or not self.label:
            return
        took = f" in {time.monotonic() - self.started:.0f} s"
        if self.tty:
            self._draw()
            self.stream.write(f"{took}\n")
        else:
            self.stream.write(f"{self.label:<10} {self.done}/{self.total}{took}\n")
        self.stream.flush()
        self.label = ""

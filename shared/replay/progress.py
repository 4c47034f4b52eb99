"""A small progress bar on stderr: redrawn at most ten times a second, silent when stderr is not
a terminal (logs, CI), one summary line at the end."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, total: int | None, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self.live = self.stream.isatty()

    def __call__(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.live and now - self._drawn_at >= 0.1:
            self._drawn_at = now
            self._draw(now)

    def rate(self, now: float | None = None) -> float:
        elapsed = (now or time.monotonic()) - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def _draw(self, now: float) -> None:
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = int(share * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"\r{self.label} [{bar}] {self.done}/{self.total} events {self.rate(now):,.0f}/s"
        else:
            text = f"\r{self.label} {self.done} events {self.rate(now):,.0f}/s"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()

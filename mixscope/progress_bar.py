"""A one-line terminal progress bar with rate and ETA, redrawn in place; silent when the stream is no TTY."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24
MIN_REDRAW = 0.1  # seconds between two redraws


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def _rate(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.1f}" if value < 10 else f"{value:.0f}"


class ProgressBar:
    """`update(label, done, total)` as work goes; a new label starts a new rate and ETA. `close()` ends the line."""

    def __init__(self, stream: TextIO | None = None, unit: str = "", enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.unit = unit
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._label: str | None = None
        self._started = self._drawn = 0.0
        self._first_done = 0
        self._width = 0

    def begin(self, label: str) -> None:
        """Start `label` now at 0 done, so its rate counts from here (not from its first update)."""
        self._switch(label, time.monotonic(), 0)

    def _switch(self, label: str, now: float, done: int) -> None:
        if self.enabled and self._label is not None:
            self.stream.write("\n")
        self._label, self._started, self._first_done, self._drawn = label, now, done, 0.0

    def update(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if label != self._label:
            self._switch(label, now, done)
        if now - self._drawn < MIN_REDRAW and done < total:
            return
        self._drawn = now
        self._draw(self.render(label, done, total, now - self._started, done - self._first_done))

    @staticmethod
    def render(label: str, done: int, total: int, elapsed: float, progressed: int, unit: str = "") -> str:
        """The bar's text: label, bar, percent, done/total, rate and ETA (plain function: testable)."""
        fraction = min(1.0, done / total) if total > 0 else 0.0
        filled = int(round(fraction * WIDTH))
        rate = progressed / elapsed if elapsed > 0 else 0.0
        eta = f"ETA {_clock((total - done) / rate)}" if rate > 0 and done < total else \
            ("done" if total and done >= total else "ETA --:--")
        speed = f"{_rate(rate)}{unit}/s" if rate > 0 else f"--{unit}/s"  # nothing measured yet
        return f"{label} [{'#' * filled}{'.' * (WIDTH - filled)}] {100 * fraction:3.0f}% {done}/{total} {speed} {eta}"

    def _draw(self, text: str) -> None:
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        if self.enabled and self._label is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._label = None

"""Live graphs over time: websocket messages/s, ballots/s, and ciphertexts/s per mixer (pyqtgraph).

Counters are bumped per event batch (cheap) and turned into one point per curve once a second, keeping the
last WINDOW seconds. Ciphertexts/s of a mixer is its stage size times the progress fraction gained in the
current phase (shuffle, then each proof pass), per second: how fast it is chewing through the list.

The axes stay still so that pyqtgraph keeps their cached pictures: x is "seconds ago" over a fixed window and
y moves only in 1-2-5 steps; and there is no grid, whose lines belong to the axes and so made every curve
update repaint them. Regenerating and repainting three plots' axes once a second was the GUI thread's longest
stall while an election ran.
"""

from __future__ import annotations

import collections
import math
import time
from typing import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from mixscope.wire.events import Event

WINDOW = 120  # seconds of history shown
_COLORS = ("#3b82f6", "#f97316", "#16a34a", "#a855f7", "#dc2626", "#0891b2")


class RateCounter:
    """Events → per-second rates. Pure Python, so the arithmetic is testable without a clock."""

    def __init__(self, window: int = WINDOW):
        self.window = window
        self.times: collections.deque[float] = collections.deque(maxlen=window)
        self.messages: collections.deque[float] = collections.deque(maxlen=window)
        self.ballots: collections.deque[float] = collections.deque(maxlen=window)
        self.mixers: dict[str, collections.deque[float]] = {}
        self._messages = 0
        self._ballots_now = self._ballots_before = 0
        self._processed: dict[str, float] = collections.defaultdict(float)  # ciphertexts this interval
        self._progress: dict[tuple, int] = {}  # (node, stage or None, phase) -> last done
        self._stage_size: dict[str, int] = {}  # mixer -> ciphertexts in its current stage
        self._last: float | None = None

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            kind, data = event.kind, event.data
            if kind == "message":
                self._messages += 1
            elif kind == "election.ballot":
                count = data.get("count")
                if isinstance(count, int):
                    self._ballots_now = max(self._ballots_now, count)
            elif kind == "election.stage":
                if isinstance(data.get("count"), int) and data["count"]:
                    self._stage_size[str(data.get("mixer") or "?")] = data["count"]
            elif kind == "election.progress" and data.get("task") == "mix":
                self._mix_progress(data)
            elif kind == "election.state" and data.get("state") == "created":
                self._ballots_now = self._ballots_before = 0

    def _mix_progress(self, data: dict) -> None:
        node, stage, phase = str(data.get("node") or "?"), data.get("stage"), str(data.get("phase") or "")
        done, total = data.get("done"), data.get("total")
        if not isinstance(done, int) or not isinstance(total, int) or total <= 0:
            return
        key = (node, stage, phase)
        gained = done - self._progress.get(key, 0)
        if gained < 0:  # the same phase started again (a new stage of the same mixer): count from zero
            gained = done
        self._progress[key] = done
        size = self._stage_size.get(node) or self._ballots_now or total
        if gained > 0:
            self._processed[node] += size * gained / total
        self.mixers.setdefault(node, collections.deque(maxlen=self.window))

    def sample(self, now: float) -> None:
        """Close the interval ending `now`: append one point to every curve."""
        elapsed = (now - self._last) if self._last is not None else 1.0
        elapsed = elapsed if elapsed > 0 else 1.0
        self._last = now
        self.times.append(now)
        self.messages.append(self._messages / elapsed)
        self.ballots.append(max(0, self._ballots_now - self._ballots_before) / elapsed)
        for node, points in self.mixers.items():
            while len(points) < len(self.times) - 1:
                points.append(0.0)  # a mixer that appeared later: flat before it joined
            points.append(self._processed.get(node, 0.0) / elapsed)
        self._messages, self._ballots_before = 0, self._ballots_now
        self._processed.clear()


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k at or above `value` (at least 1): a y range that changes rarely."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _plot(title: str, name: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setObjectName(name)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setLabel("bottom", "s ago")
    plot.setMinimumSize(80, 60)
    plot.disableAutoRange()
    plot.setXRange(-WINDOW, 0, padding=0)
    plot.setYRange(0, 1, padding=0)
    return plot


class RateGraphs(QWidget):
    def __init__(self, parent=None, interval_ms: int = 1000):
        super().__init__(parent)
        self.setObjectName("rate_graphs")
        self.counter = RateCounter()
        self.messages_plot = _plot("messages/s", "graph_messages")
        self.ballots_plot = _plot("ballots/s", "graph_ballots")
        self.mixers_plot = _plot("ciphertexts/s per mixer", "graph_ciphertexts")
        self.mixers_plot.addLegend(offset=(5, 5))
        self._messages = self.messages_plot.plot(pen=pg.mkPen(_COLORS[0], width=2))
        self._ballots = self.ballots_plot.plot(pen=pg.mkPen(_COLORS[2], width=2))
        self._mixer_curves: dict[str, pg.PlotDataItem] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for plot in (self.messages_plot, self.ballots_plot, self.mixers_plot):
            layout.addWidget(plot)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._timer.start(interval_ms)

    def feed(self, events: list) -> None:
        self.counter.feed(events)

    def tick(self) -> None:
        now = time.monotonic()
        counter = self.counter
        counter.sample(now)
        xs = [t - now for t in counter.times]
        self._show(self.messages_plot, self._messages, xs, list(counter.messages))
        self._show(self.ballots_plot, self._ballots, xs, list(counter.ballots))
        peak = 0.0
        for node, points in counter.mixers.items():
            curve = self._mixer_curves.get(node)
            if curve is None:
                color = _COLORS[len(self._mixer_curves) % len(_COLORS)]
                curve = self.mixers_plot.plot(pen=pg.mkPen(color, width=2), name=node)
                self._mixer_curves[node] = curve
            curve.setData(xs[-len(points):], list(points))
            peak = max(peak, max(points, default=0.0))
        self._scale(self.mixers_plot, peak)

    def _show(self, plot: pg.PlotWidget, curve: pg.PlotDataItem, xs: list[float], ys: list[float]) -> None:
        curve.setData(xs, ys)
        self._scale(plot, max(ys, default=0.0))

    @staticmethod
    def _scale(plot: pg.PlotWidget, peak: float) -> None:
        top = nice_ceiling(peak * 1.1)
        if plot.viewRange()[1][1] != top:  # only a new step redraws the axis
            plot.setYRange(0, top, padding=0)

    def stop(self) -> None:
        self._timer.stop()

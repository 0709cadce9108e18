"""How late the GUI event loop runs: a precise timer that expects to fire every `interval_ms`.

Each tick records how much later than due it ran. A stall of G ms delays every tick that was due inside
it, so each of those is recorded too (late by G-interval, G-2·interval, ...): otherwise long stalls would
hide in the p99. Samples go into buckets named by `bucket()` (e.g. the demo phase); `on_new_bucket` is
called when the name changes, so a caller can take other readings (CPU, wall time) at the same moment.
"""

from __future__ import annotations

import statistics
from typing import Callable

from PySide6.QtCore import QElapsedTimer, Qt, QTimer


class LatenessProbe:
    def __init__(self, interval_ms: int = 10, bucket: Callable[[], str] = lambda: "all",
                 on_new_bucket: Callable[[str], None] | None = None):
        self.interval_ms = interval_ms
        self.bucket = bucket
        self.on_new_bucket = on_new_bucket
        self.samples: dict[str, list[float]] = {}
        self.order: list[str] = []  # bucket names in the order they first appeared
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = self._now()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.reset()
        self._timer.start(self.interval_ms)

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        """Forget every sample; the next tick is measured from now."""
        self.samples.clear()
        self.order.clear()
        self._last = self._now()

    def _now(self) -> float:
        return self._clock.nsecsElapsed() / 1e6

    def _tick(self) -> None:
        now = self._now()
        late = now - self._last - self.interval_ms
        self._last = now
        name = self.bucket()
        if not self.order or self.order[-1] != name:
            self.order.append(name)
            if self.on_new_bucket is not None:
                self.on_new_bucket(name)
        bucket = self.samples.setdefault(name, [])
        bucket.append(max(0.0, late))
        while late > self.interval_ms:
            late -= self.interval_ms
            bucket.append(late)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def summary(values: list[float]) -> dict[str, float | None]:
    """p50, p99 and max lateness in ms, rounded for a report."""
    return {
        "lateness_ms_p50": round(statistics.median(values), 2) if values else None,
        "lateness_ms_p99": round(percentile(values, 99), 2),
        "lateness_ms_max": round(max(values, default=0.0), 2),
    }

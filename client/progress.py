"""Progress for long crypto work: a `map_fn` for mixnet that runs jobs (in-process or on a process pool)
and reports (phase, done, total) as they complete, at most a few times a second.

mixnet's functions call map_fn once per phase with a list of chunk jobs; the phase is named after the
kernel (e.g. "reencrypt", "prove"), and done/total count that phase's chunks.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable

Report = Callable[[str, int, int], None]  # (phase, done, total)
MIN_INTERVAL = 0.25  # seconds between reports: at most ~4 per second


class Cancelled(Exception):
    """The node is stopping: the work was abandoned between two jobs."""


class ProgressMap:
    """`stop`: an Event checked between jobs, so a stopping node leaves a long computation within one job."""

    def __init__(self, report: Report, pool: ProcessPoolExecutor | None = None, min_interval: float = MIN_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, stop: threading.Event | None = None, engine=None):
        self.report, self.pool, self.min_interval, self._clock = report, pool, min_interval, clock
        self.stop = stop
        # A cluster (engine/cluster.py): one stage map per request, so its calls share the scattered data.
        self._stage = engine.map_fn() if engine is not None else None
        self._last = float("-inf")
        self.reports = 0

    def __call__(self, fn: Callable[[Any], Any], iterable: Iterable[Any]):
        jobs = list(iterable)
        phase = getattr(fn, "__name__", "work").removesuffix("_chunk").lstrip("_")
        if self._stage is not None:  # counted as the cluster's tasks complete, whatever their order
            results = self._stage(fn, jobs, lambda done, total: self._maybe_report(phase, done, total))
            return self._reporting(phase, results, len(jobs), counting=False)
        results = self.pool.map(fn, jobs) if self.pool is not None else map(fn, jobs)
        return self._reporting(phase, results, len(jobs))

    def _reporting(self, phase: str, results, total: int, counting: bool = True):
        if counting:
            self._maybe_report(phase, 0, total)
        for done, result in enumerate(results, 1):
            if self.stop is not None and self.stop.is_set():
                raise Cancelled(f"stopped during {phase} after {done - 1} of {total} jobs")
            yield result
            if counting:
                self._maybe_report(phase, done, total)

    def _maybe_report(self, phase: str, done: int, total: int) -> None:
        now = self._clock()
        if now - self._last >= self.min_interval:
            self._last = now
            self.reports += 1
            self.report(phase, done, total)


def make_pool(workers: int) -> ProcessPoolExecutor | None:
    """A process pool for `workers` > 1 (None means work in-process). Capped at the machine's cores."""
    if workers <= 1:
        return None
    return ProcessPoolExecutor(max_workers=min(workers, os.cpu_count() or 1))

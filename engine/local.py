"""`LocalEngine`: mixnet's map_fn in this process or over a local process pool (what runs without a cluster)."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable, Iterable, Iterator

OnDone = Callable[[int, int], None]  # (done, total): a task finished


def chunk_size(jobs: int, workers: int, batches: int) -> int:
    """Jobs per pool task: about `batches` tasks per worker, so the last task never runs alone for long (32
    proof spans in 16 tasks of 2 left one worker idle for two spans at the end of every phase on 2 cores),
    while a list of thousands of small jobs still travels in a few dozen tasks."""
    return max(1, jobs // (batches * max(1, workers)))


class LocalEngine:
    """`batches`: when set, pool.map sends about that many tasks per worker and call (IPC per job costs more
    than a small job: chunk_size); otherwise one job per pool task."""

    kind = "local"

    def __init__(self, pool: concurrent.futures.Executor | None = None, batches: int | None = None):
        self.pool, self.batches = pool, batches

    @property
    def workers(self) -> int:
        return getattr(self.pool, "_max_workers", 1) if self.pool is not None else 1

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any], on_done: OnDone | None = None) -> Iterator[Any]:
        jobs = list(jobs)
        results: Iterable[Any]
        if self.pool is None:
            results = map(fn, jobs)
        elif self.batches:
            results = self.pool.map(fn, jobs, chunksize=chunk_size(len(jobs), self.workers, self.batches))
        else:
            results = self.pool.map(fn, jobs)
        if on_done is None:
            return iter(results)
        return _counting(results, len(jobs), on_done)

    __call__ = map  # an engine is itself a map_fn

    def map_fn(self, on_done: OnDone | None = None):
        """A map_fn for one stage (a local pool keeps nothing between calls)."""
        def stage(fn, jobs, on_done_: OnDone | None = None):
            return self.map(fn, jobs, on_done_ or on_done)

        return stage

    def info(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers}

    def close(self) -> None:
        """The pool belongs to whoever made it: nothing to close here."""


def _counting(results: Iterable[Any], total: int, on_done: OnDone) -> Iterator[Any]:
    on_done(0, total)
    for done, result in enumerate(results, 1):
        yield result
        on_done(done, total)

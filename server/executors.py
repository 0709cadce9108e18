"""`Executors`: every thread and process pool of one server start, built by the runner and handed to the hub,
the coordinator, publishing and the Flask views, so none of them owns or borrows another's pools.

- `web`: the threads Flask runs on (WSGIContainer);
- `board_io`: one thread for board writes (they fsync; one at a time keeps their order);
- `work`: two helper threads for parsing and for driving proof checks, never on the loop thread;
- `pool`: the process pool the checks fan their kernels out over (None: everything in this process);
- `engine`: engine/cluster.py when the server was given a cluster; its map replaces the pool's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import multiprocessing
import os
from typing import Any, Callable

from mixscope.engine import LocalEngine

MAP_BATCHES = 16  # pool tasks per worker and map call: a proof phase's 32 spans go one per task on 2 cores
WEB_WORKERS = 4
POOL_NICE = 10  # the pool's proof checks yield the CPU to this process's loop, Flask and (in the panel) GUI threads


def background_priority() -> None:
    """Pool worker initializer: run at lower CPU priority. On 2 busy cores a worker at the same priority keeps
    the thread that holds this process's GIL (or the panel's GUI thread) waiting for a time slice."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), POOL_NICE))
    except (AttributeError, OSError):  # not on this platform, or not allowed: run at normal priority
        pass


def process_pool() -> concurrent.futures.ProcessPoolExecutor:
    """One worker per core. forkserver, not fork: this process has threads (the loop, Flask workers, Qt) that a
    forked child would inherit half-stopped. The fork server loads the crypto core first, so every worker is
    forked with it loaded and shares the native backend's decoded-point cache with the others (a stage's outputs
    decoded while judging it are hits when the next stage is judged, whichever worker takes that job)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["mixscope.mixnet.group"])
    return concurrent.futures.ProcessPoolExecutor(max(1, os.cpu_count() or 1), mp_context=context,
                                                  initializer=background_priority)


def batched_map(pool: concurrent.futures.Executor, batches: int = MAP_BATCHES) -> Callable:
    """A map over `pool` in about `batches` tasks per worker (engine/local.py chunk_size): the verifier sends one
    job per ballot, and one IPC round trip per ballot would cost more than the work; a proof's 32 spans go one
    per task, so the last one does not run alone for long."""
    return LocalEngine(pool, batches=batches).map_fn()


class Executors:
    def __init__(self, pool: concurrent.futures.Executor | None = None, engine: Any = None,
                 web_workers: int = WEB_WORKERS):
        self.pool, self.engine = pool, engine
        self.web = concurrent.futures.ThreadPoolExecutor(web_workers, thread_name_prefix="mixscope-flask")
        self.board_io = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="election-board")
        self.work = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="election-work")

    async def on_io(self, fn: Callable, *args, **kwargs):
        """`fn` on the board's I/O thread (from the loop)."""
        return await asyncio.get_running_loop().run_in_executor(self.board_io, functools.partial(fn, *args, **kwargs))

    async def on_worker(self, fn: Callable, *args, **kwargs):
        """`fn` on a helper thread (from the loop)."""
        return await asyncio.get_running_loop().run_in_executor(self.work, functools.partial(fn, *args, **kwargs))

    async def in_pool(self, fn: Callable, *args):
        """`fn` in a pool process; on a helper thread when there is no pool."""
        if self.pool is None:
            return await self.on_worker(fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def pool_size(self) -> int:
        return max(1, os.cpu_count() or 1) if self.pool is not None else 1  # the runner's pool has one per core

    def map_fn(self) -> Callable:
        if self.engine is not None:  # a cluster: one stage's map (its tasks share the stage's scattered data)
            return self.engine.map_fn()
        if self.pool is None:
            return map
        return batched_map(self.pool)

    def cluster_address(self) -> str | None:
        """The connected scheduler's address, for jobs that open their own engine there (publishing)."""
        return self.engine.address if getattr(self.engine, "state", None) == "connected" else None

    def stop_election_work(self) -> None:
        """Called on the loop while stopping: never wait here for a long proof check to end. A step cut short
        records nothing more and resumes later."""
        self.board_io.shutdown(wait=False)
        self.work.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """After the loop ended: the web threads, the cluster engine and the pool, waiting for each."""
        self.web.shutdown(wait=True)
        if self.engine is not None:
            self.engine.close()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

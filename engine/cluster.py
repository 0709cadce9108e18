"""`ClusterEngine`: mixnet's map_fn on a Dask `distributed` cluster, falling back to a local engine.

Each `map_fn()` is one stage's map (a shuffle check, a trustee's decryption, a record's verification): the
jobs of every call on it become cluster tasks, one job each or a few when a call has many more jobs than
the cluster has workers (TASKS_PER_WORKER), and big job arguments (lists of ciphertexts, of generators, a
long text) that several jobs need are scattered to the workers once per stage: a later call of the same stage
that ships the same content refers to the scattered copy instead of sending it again. Everything else travels
pickled, as bytes the scheduler does not open. Results are taken as tasks complete (`as_completed`), counted
for progress, and handed to mixnet in job order, as `map` would.

Faults. A worker that dies mid-task: the scheduler runs its task elsewhere; a task whose scattered input died
with the worker is sent again with its data inline. A scheduler that cannot be reached at start, or is lost
during a stage: the engine says so once (log + a `cluster.fallback` event), does the unfinished jobs of that
stage, and every later one, on its local engine, and never goes back to the cluster.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
import time
import uuid
from typing import Any, Callable, Iterable, Iterator

from mixscope.engine.address import parse_address
from mixscope.engine.local import LocalEngine, OnDone, chunk_size

CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler at start
SCATTER_TIMEOUT = 60.0
SCATTER_MIN_ITEMS = 64  # a list this long (or a str/bytes this big) is scattered, not sent inside its task
SCATTER_MIN_BYTES = 16 * 1024
INLINE_RETRIES = 1  # a task that lost its scattered input (its worker died) is re-sent with its data once
EVENT_INTERVAL = 0.25  # seconds between task-count events
PICKLE_PROTOCOL = 5
GRAPH_BYTES = 8 << 20  # job bytes per graph sent to the scheduler (Dask warns from 10 MiB)
TASKS_PER_WORKER = 8  # about this many tasks per worker and call: Dask costs a few ms per task in the client,
# the scheduler and the worker (measured: bench scale), so a call's jobs go a few per task when they are many;
# enough tasks per worker that one slow task leaves only a short tail
# Dask's own timers, set for a LocalCluster this engine starts (docs/scaling.md gives the same settings for a
# scheduler and workers started by hand). The defaults cost CPU all the time: a 20 ms event-loop tick in every
# server, a stack sample of the running task every 10 ms (it takes the GIL from the kernel), system and memory
# monitors several times a second. Measured idle (bench scale's dask_costs): 2.0 % of a core in the
# scheduler and 2.8 % in each worker with the defaults, 0.4 % and 0.2 to 0.4 % with these.
QUIET_SERVERS = {
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}

Publish = Callable[[str, dict], None]
Log = Callable[[str, str], None]


class ClusterFault(Exception):
    """The cluster itself failed (scheduler lost, tasks cancelled or killing workers), not the task's code."""


class ClusterEngine:
    kind = "cluster"

    def __init__(self, address: str, fallback: LocalEngine, publish: Publish | None = None, log: Log | None = None):
        self.requested = parse_address(address)  # raises ClusterAddressError on a bad address
        self.fallback = fallback
        self.publish = publish or (lambda kind, data: None)
        self.log = log or (lambda level, text: None)
        self.client: Any = None  # distributed.Client once connected
        self._local_cluster: Any = None
        self.state = "connecting"  # then "connected" or "fallback"
        self.reason: str | None = None
        self.address = str(self.requested)  # the scheduler's tcp:// address once connected
        self.dashboard: str | None = None
        self.tasks_done = 0
        self.tasks_in_flight = 0
        self.tasks_sent = 0  # cluster tasks this engine ran (retries included)
        self.slots = 1  # worker threads on the cluster, as last seen: sizes the tasks
        self._lock = threading.Lock()
        self._last_event = 0.0
        self.only_workers: list[str] | None = None  # tasks and data on these workers alone (benches: 1 vs 2)

    # --- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            import distributed
        except ImportError:
            self._fall_back("the cluster extra is not installed (pip install 'mixscope[cluster]')")
            return
        _quiet_logs()  # a lost scheduler makes distributed log tracebacks: our own message says what happened
        if self.state != "connecting":  # closed before it got here
            return
        try:
            if self.requested.scheduler is None:
                self._local_cluster = start_local_cluster(self.requested.local_workers)
                self.client = distributed.Client(self._local_cluster, timeout=CONNECT_TIMEOUT)
            else:
                self.client = distributed.Client(self.requested.scheduler, timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # OSError, TimeoutError, CommClosedError...: all mean "no cluster here"
            self._fall_back(f"scheduler {self.requested} unreachable ({_brief(exc)})")
            return
        self.address = self.client.scheduler.address
        self.dashboard = self._dashboard_link()
        with self._lock:
            if self.state != "connecting":  # closed while connecting
                threading.Thread(target=self.close, daemon=True).start()
                return
            self.state = "connected"
        self.log("info", f"cluster: connected to {self.address} ({len(self.workers())} workers)")
        self._status()

    def close(self) -> None:
        with self._lock:
            if self.state == "connecting":
                self.state, self.reason = "closed", "closed"
        client, cluster, self.client, self._local_cluster = self.client, self._local_cluster, None, None
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close(timeout=5) if thing is client else thing.close(5)
                except Exception:  # closing after the scheduler is gone: nothing left to close
                    pass

    # --- what it tells -------------------------------------------------------------------------------------

    def workers(self) -> list[dict[str, Any]]:
        if self.state != "connected" or self.client is None:
            return []
        try:
            info = self.client.scheduler_info(n_workers=-1)
        except Exception:
            return []
        workers = [{"address": address, "name": str(w.get("name", address)), "threads": w.get("nthreads", 1),
                    "memory": w.get("metrics", {}).get("memory")}
                   for address, w in sorted(info.get("workers", {}).items())]
        self.slots = max(1, sum(int(w["threads"] or 1) for w in workers))
        return workers

    def info(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": self.address, "requested": str(self.requested), "state": self.state,
                "reason": self.reason, "dashboard": self.dashboard, "workers": self.workers(),
                "tasks": self.tasks_sent, "tasks_done": self.tasks_done, "tasks_in_flight": self.tasks_in_flight}

    def _dashboard_link(self) -> str | None:
        try:
            services = self.client.scheduler_info(n_workers=0).get("services", {})
            return self.client.dashboard_link if "dashboard" in services else None
        except Exception:
            return None

    def _status(self) -> None:
        self.publish("cluster.status", {"address": self.address, "state": self.state, "reason": self.reason,
                                        "dashboard": self.dashboard, "workers": self.workers()})

    def _tasks_event(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_event >= EVENT_INTERVAL:
            self._last_event = now
            self.publish("cluster.tasks", {"address": self.address, "in_flight": self.tasks_in_flight,
                                           "done": self.tasks_done, "sent": self.tasks_sent})

    def _fall_back(self, reason: str) -> None:
        with self._lock:
            if self.state in ("fallback", "closed"):
                return
            self.state, self.reason = "fallback", reason
        text = f"cluster: {reason}; working on the local pool ({self.fallback.workers} processes)"
        self.log("warning", text)
        self.publish("cluster.fallback", {"address": self.address, "reason": reason, "text": text})
        self._status()
        threading.Thread(target=self.close, name="cluster-close", daemon=True).start()

    # --- the map -------------------------------------------------------------------------------------------

    def map_fn(self, on_done: OnDone | None = None) -> "StageMap":
        """A map_fn for one stage: its calls share the stage's scattered data."""
        return StageMap(self, on_done)

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any], on_done: OnDone | None = None) -> Iterator[Any]:
        return self.map_fn(on_done)(fn, jobs)

    __call__ = map


def start_local_cluster(workers: int):
    """A LocalCluster of `workers` single-threaded processes on 127.0.0.1 (close() it when done)."""
    import dask
    import distributed

    _quiet_logs()
    with dask.config.set(QUIET_SERVERS):  # the scheduler reads it here; each nanny hands it to its worker
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                        dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)


class SchedulerProbe:
    """What a scheduler has done, seen by a client of its own: its workers and the tasks it ran (every client's,
    retries included), so a demo counts its server's and nodes' tasks alike."""

    def __init__(self, address: str):
        import distributed

        _quiet_logs()
        self.client = distributed.Client(address, timeout=CONNECT_TIMEOUT)

    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def tasks(self) -> int:
        return int(self.client.run_on_scheduler(_scheduler_task_count))

    def close(self) -> None:
        self.client.close(timeout=5)


def _scheduler_task_count(dask_scheduler=None) -> int:
    return dask_scheduler.n_tasks  # tasks sent to a worker since the scheduler started


class StageMap:
    def __init__(self, engine: ClusterEngine, on_done: OnDone | None = None):
        self.engine, self.on_done = engine, on_done
        self._scattered: dict[bytes, Any] = {}  # content digest -> the cluster's future of that content
        self._seen: dict[bytes, int] = {}  # digests of big arguments sent inline so far in this stage

    def __call__(self, fn: Callable[[Any], Any], jobs: Iterable[Any], on_done: OnDone | None = None) -> Iterator[Any]:
        jobs = list(jobs)
        on_done = on_done or self.on_done
        if self.engine.state != "connected" or not jobs:
            return self.engine.fallback.map(fn, jobs, on_done)
        return self._run(fn, jobs, on_done or (lambda done, total: None))

    def _run(self, fn, jobs: list, on_done: OnDone) -> Iterator[Any]:
        engine, total = self.engine, len(jobs)
        results: dict[int, Any] = {}
        next_out = 0
        on_done(0, total)
        try:
            pending = list(range(total))
            for attempt in range(INLINE_RETRIES + 1):
                inline = attempt > 0
                lost: list[int] = []
                for i, result in self._tasks(fn, jobs, pending, inline, lost):
                    results[i] = result
                    on_done(len(results), total)
                    while next_out in results:
                        yield results.pop(next_out)
                        next_out += 1
                if not lost:
                    break
                pending = lost
            else:
                raise ClusterFault(f"{len(lost)} {_name(fn)} tasks failed on the cluster again")
        except ClusterFault as fault:
            engine._fall_back(str(fault))
        if next_out < total:  # the cluster failed: what it did not finish runs here
            missing = [i for i in range(next_out, total) if i not in results]
            for i, result in zip(missing, engine.fallback.map(fn, [jobs[i] for i in missing])):
                results[i] = result
                on_done(len(results), total)
            while next_out < total:
                yield results.pop(next_out)
                next_out += 1

    def _tasks(self, fn, jobs: list, indices: list[int], inline: bool, lost: list[int]):
        """(index, result) as each task completes; indices whose task lost its input go to `lost`."""
        from distributed import as_completed

        engine, client = self.engine, self.engine.client
        if client is None or client.status != "running":
            raise ClusterFault(f"scheduler {engine.address} lost")
        sent = None
        if not inline:
            try:
                sent = self._scatter([jobs[i] for i in indices])
            except Exception as exc:  # a worker that died mid-scatter fails it: send this call's data inline
                if client.status != "running":
                    raise ClusterFault(f"scheduler {engine.address} lost ({_brief(exc)})") from None
                engine.log("info", f"cluster: scatter failed ({_brief(exc)}); sending {_name(fn)} data inline")
        if sent is None:
            sent = [(_Packed(*_pickled(jobs[i]), ()), []) for i in indices]
        workers = len(engine.only_workers) if engine.only_workers else engine.slots
        size = chunk_size(len(sent), workers, TASKS_PER_WORKER)
        groups = [range(lo, min(lo + size, len(sent))) for lo in range(0, len(sent), size)]
        futures = []
        try:
            for graph in _graphs(groups, sent):
                futures += client.map(_apply, [fn] * len(graph), [[sent[j][0] for j in group] for group in graph],
                                      [[sent[j][1] for j in group] for group in graph],
                                      key=[f"{fn.__name__}-{uuid.uuid4().hex}" for _ in graph], pure=False,
                                      workers=engine.only_workers)
        except Exception as exc:
            raise ClusterFault(f"scheduler {engine.address} lost ({_brief(exc)})") from None
        where = {future.key: [indices[j] for j in group] for future, group in zip(futures, groups)}
        with engine._lock:
            engine.tasks_sent += len(futures)
            engine.tasks_in_flight += len(futures)
        engine._tasks_event(force=True)
        remaining = len(futures)
        try:
            for batch in as_completed(futures).batches():  # what completed meanwhile: one gather for all of it
                done = [f for f in batch if f.status == "finished"]
                try:
                    values = dict(zip((f.key for f in done), map(_unpack, client.gather(done)))) if done else {}
                except Exception as fetch:  # the results were there but the connection went: not the tasks'
                    raise ClusterFault(f"scheduler {engine.address} lost ({_brief(fetch)})") from None
                for future in batch:
                    yield from self._settled(future, values, where, fn, inline, lost)
                remaining -= len(batch)
                with engine._lock:
                    engine.tasks_in_flight -= len(batch)
                    engine.tasks_done += len(batch)
                engine._tasks_event()
        finally:
            with engine._lock:
                engine.tasks_in_flight -= remaining
            engine._tasks_event(force=True)
            for future in futures:
                future.release()
        if engine.state == "connected":
            engine._status()  # the workers as they are now (some may have died or joined)

    def _settled(self, future, values: dict, where: dict, fn, inline: bool, lost: list[int]):
        """(index, result) for each job of a finished task; a lost input sends its jobs to `lost`; anything else
        raises."""
        from distributed.scheduler import KilledWorker

        engine, client = self.engine, self.engine.client
        status = future.status
        if status == "error":
            try:
                exc = future.exception()
            except Exception as fetch:
                raise ClusterFault(f"scheduler {engine.address} lost ({_brief(fetch)})") from None
        if status == "finished" and future.key in values:
            yield from zip(where[future.key], values[future.key])
        elif status == "error":
            if isinstance(exc, KilledWorker):
                raise ClusterFault(f"a {_name(fn)} task ended every worker it ran on") from None
            if _lost_input(exc):
                lost.extend(where[future.key])
                return
            raise exc  # the task's own exception (a ProofError...), as a local pool raises it
        elif status == "cancelled" and client is not None and client.status == "running" and not inline:
            lost.extend(where[future.key])  # its scattered input went with a dead worker
        else:
            raise ClusterFault(f"scheduler {engine.address} lost during {_name(fn)} ({status} task)")

    def _scatter(self, jobs: list) -> list:
        """`jobs` packed for the cluster, their shared big arguments replaced by data scattered once per stage.

        Shared: needed by more than one task of the stage (several jobs of this call, or a job of an earlier
        call that carried the same content). A big argument only one task needs travels inside that task:
        it is sent once either way, and inline costs a round trip less (measured: bench scale)."""
        counts: dict[bytes, int] = {}
        shaped = []
        for job in jobs:
            blobs, is_tuple = _pickled(job)
            parts = job if is_tuple else (job,)
            keys = [_digest(part, blob) for part, blob in zip(parts, blobs)]
            for key in keys:
                if key is not None:
                    counts[key] = counts.get(key, 0) + 1
            shaped.append((blobs, is_tuple, keys))
        wanted: dict[bytes, bytes] = {}
        for blobs, _, keys in shaped:
            for blob, key in zip(blobs, keys):
                if key is not None and key not in self._scattered and (counts[key] > 1 or key in self._seen):
                    wanted.setdefault(key, blob)
        self._seen.update(counts)
        if wanted:
            digests = list(wanted)
            futures = self.engine.client.scatter([wanted[d] for d in digests], hash=False, timeout=SCATTER_TIMEOUT,
                                                 workers=self.engine.only_workers)
            self._scattered.update(zip(digests, futures))
        packed = []
        for blobs, is_tuple, keys in shaped:
            shared = {i: self._scattered[key] for i, key in enumerate(keys)
                      if key is not None and key in self._scattered}
            kept = tuple(None if i in shared else blob for i, blob in enumerate(blobs))
            packed.append((_Packed(kept, is_tuple, tuple(shared)), list(shared.values())))
        return packed


class _Packed:
    """A job as one opaque object whose parts are each pickled here (`blobs`), so the scheduler and the worker
    pass `bytes` on as they are. Dask walks lists and tuples in task arguments element by element (measured:
    tens of ms of scheduler and client CPU per task of 10 lists of 600 elements), and the scheduler unpickles
    every task it is given and pickles it again for its worker: a list of 600 ints costs that twice, a bytes
    object a copy. `holes`: the positions whose pickled part was scattered once for the stage and arrives in
    the task's list of shared parts."""

    __slots__ = ("blobs", "is_tuple", "holes")

    def __init__(self, blobs: tuple[bytes | None, ...], is_tuple: bool, holes: tuple[int, ...]):
        self.blobs, self.is_tuple, self.holes = blobs, is_tuple, holes


def _pickled(job: Any) -> tuple[tuple[bytes, ...], bool]:
    """(each part of the job pickled, whether the job is a tuple of parts or one value)."""
    is_tuple = type(job) is tuple
    return tuple(pickle.dumps(part, protocol=PICKLE_PROTOCOL) for part in (job if is_tuple else (job,))), is_tuple


def _apply(fn: Callable[[Any], Any], jobs: list[_Packed], shared: list[list[bytes]]) -> bytes:
    """The cluster task: a few jobs of one call, each unpickled with its scattered parts and run; their results
    go back pickled (one `bytes`, passed on by the scheduler as it is) and are unpickled by `_unpack`."""
    return pickle.dumps([fn(_unpacked(job, parts)) for job, parts in zip(jobs, shared)], protocol=PICKLE_PROTOCOL)


def _unpacked(packed: _Packed, shared: list[bytes]) -> Any:
    blobs: list[Any] = list(packed.blobs)
    for position, blob in zip(packed.holes, shared):
        blobs[position] = blob
    parts = [pickle.loads(blob) for blob in blobs]
    return tuple(parts) if packed.is_tuple else parts[0]


def _graphs(groups: list[range], sent: list[tuple[_Packed, list]]) -> Iterator[list[range]]:
    """The tasks of a call in as few graphs as GRAPH_BYTES allows: a graph costs the client and the scheduler
    one message for all its tasks (a submit per task costs one each), and the first graph's tasks start while
    the next is sent; Dask warns about graphs of 10 MiB and more."""
    graph: list[range] = []
    size = 0
    for group in groups:
        weight = sum(len(blob) for j in group for blob in sent[j][0].blobs if blob is not None)
        if graph and size + weight > GRAPH_BYTES:
            yield graph
            graph, size = [], 0
        graph.append(group)
        size += weight
    if graph:
        yield graph


def _unpack(result: bytes) -> Any:
    return pickle.loads(result)


def _quiet_logs() -> None:
    for name in [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _digest(part: Any, blob: bytes) -> bytes | None:
    """A content key for a big job argument, from its pickle `blob` (None: small, sent inside its task)."""
    if isinstance(part, (bytes, str)):
        if len(part) < SCATTER_MIN_BYTES:
            return None
    elif not isinstance(part, (list, tuple)) or len(part) < SCATTER_MIN_ITEMS:
        return None
    return hashlib.blake2b(blob, digest_size=20).digest()


def _lost_input(exc: BaseException | None) -> bool:
    text = str(exc or "")
    return "lost" in text.lower() and ("depend" in text.lower() or "scatter" in text.lower())


def _name(fn) -> str:
    return getattr(fn, "__name__", "work").removesuffix("_chunk").lstrip("_")


def _brief(exc: BaseException) -> str:
    """One plain line for an exception from the cluster's connections."""
    text = str(exc).strip()
    for needle, said in (("refused", "connection refused"), ("Stream is closed", "connection closed"),
                         ("reset by peer", "connection reset"), ("timed out", "no answer in time"),
                         ("Timed out", "no answer in time")):
        if needle in text:
            return said
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]

"""Long admin steps as jobs: an HTTP request starts a bridge call and returns; the caller polls the job.

A key ceremony, a mix or a publish can take minutes. The admin route waits a short, bounded time for the
bridge call (a wrong state fails within milliseconds and is answered at once); past that it answers 202 with
a job id and the Flask worker thread is free again. `GET /api/admin/jobs/<id>` reports it (optionally
waiting up to a few seconds). The latest `election.progress` of each election is folded here too, so the
status a CLI polls says how far a step is.
"""

from __future__ import annotations

import collections
import concurrent.futures
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from mixscope.server.errors import BridgeError
from mixscope.wire.events import EventChannel

MAX_FINISHED = 200  # finished jobs kept for pollers; older ones are forgotten
PROGRESS_KINDS = ("election.progress", "election.stage")


@dataclass
class Job:
    id: str
    action: str
    election_id: str | None
    future: concurrent.futures.Future = field(repr=False)
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"job": self.id, "action": self.action, "election_id": self.election_id,
                               "started": self.started, "finished": self.finished}
        if not self.future.done():
            return {**out, "state": "running"}
        error = self.future.exception()
        if error is None:
            return {**out, "state": "done", "result": self.future.result()}
        reason = error.reason if isinstance(error, BridgeError) else f"internal error: {type(error).__name__}"
        return {**out, "state": "failed", "error": reason}


class Jobs:
    """The admin API's running and recently finished bridge calls, and each election's latest progress."""

    def __init__(self, channel: EventChannel):
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._finished: collections.deque[str] = collections.deque()
        # Bounded: if nobody polls for a while the oldest events go, and only the latest ones matter here.
        self._events = channel.subscribe(maxlen=2_000, kinds=PROGRESS_KINDS)
        self._progress: dict[str, dict[str, Any]] = {}

    def start(self, action: str, election_id: str | None, future: concurrent.futures.Future) -> Job:
        job = Job(secrets.token_hex(8), action, election_id, future)
        with self._lock:
            self._jobs[job.id] = job
        future.add_done_callback(lambda _f: self._finish(job))
        return job

    def _finish(self, job: Job) -> None:
        job.finished = time.time()
        with self._lock:
            self._finished.append(job.id)
            while len(self._finished) > MAX_FINISHED:
                self._jobs.pop(self._finished.popleft(), None)

    def close(self) -> None:
        """The server stopped: stop collecting progress (the channel outlives a restart; the next start makes
        a new Jobs)."""
        self._events.close()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self, election_id: str) -> list[dict[str, Any]]:
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.election_id == election_id and not j.future.done()]
        return [j.to_json() for j in jobs]

    def progress(self, election_id: str) -> dict[str, Any] | None:
        """The latest progress report (task, stage, node, phase, done, total) of a running step, if any."""
        with self._lock:
            for event in self._events.drain():
                eid = event.data.get("election_id")
                if not isinstance(eid, str):
                    continue
                if event.kind == "election.progress":
                    self._progress[eid] = {k: event.data.get(k) for k in
                                           ("task", "stage", "node", "phase", "done", "total")}
                elif event.data.get("status") in ("running", "accepted", "rejected"):
                    # a new or finished stage: the previous mixer's figures no longer describe it
                    self._progress[eid] = {"task": "mix", "stage": event.data.get("stage"),
                                           "node": event.data.get("mixer"), "phase": event.data.get("status"),
                                           "done": 0, "total": event.data.get("count")}
            return self._progress.get(election_id)


_made = threading.Lock()


def jobs_for(extensions: dict, channel: EventChannel) -> Jobs:
    """The one Jobs of a Flask app (made on first use; one per server start)."""
    with _made:
        if "mixscope.jobs" not in extensions:
            extensions["mixscope.jobs"] = Jobs(channel)
        return extensions["mixscope.jobs"]


def close_jobs(extensions: dict) -> None:
    """At the server's stop. The closed Jobs stays in place, so a request still running cannot make another."""
    with _made:
        jobs = extensions.get("mixscope.jobs")
    if jobs is not None:
        jobs.close()

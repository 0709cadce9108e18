"""The one thread-safe channel that carries what the server sees to its observers (the GUI, tests, CLI).

Producers (the server loop thread, executor threads) call `EventChannel.publish`; each observer holds a
`Subscription`, a bounded queue it drains on its own thread and schedule. Publishing never blocks and never
runs observer code on the producer's thread, so a slow panel cannot stall the server.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. `kind` names it (see KINDS); `data` is plain JSON-able Python."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    client_id: str | None = None
    at: float = field(default_factory=time.time)
    seq: int = 0


# Every event kind the server layer publishes, with the keys its `data` carries.
KINDS = {
    "server.started": "url, ws_url, host, port",
    "server.stopped": "",
    "client.connected": "client: ClientInfo.snapshot()",
    "client.updated": "client: ClientInfo.snapshot()  (hello, stats, rtt)",
    "client.disconnected": "client: ClientInfo.snapshot(), code, reason",
    "message": "direction ('in'|'out'), type, size, text (the frame, secrets masked)",
    "bridge.called": "action, args",
    "bridge.result": "action, ok, result | error",
    "log": "level, text",
    "election.state": "election_id, state, reason",
    "election.ballot": "election_id, count  (throttled: at most ~5/s)",
    "election.progress": "election_id, task ('keygen'|'mix'|'decrypt'), stage, node, phase, done, total",
    "election.stage": "election_id, stage, mixer, status ('running'|'verifying'|'accepted'|'rejected'), reason, "
                      "seconds, count",
    "election.result": "election_id, counts, candidates",
    "election.verified": "election_id, ok, checks",
    # engine/cluster.py, when the server works on a Dask cluster (`--cluster`)
    "cluster.status": "address, state ('connected'|'fallback'), reason, dashboard (URL or None), workers",
    "cluster.tasks": "address, in_flight, done, sent  (throttled: at most ~4/s)",
    "cluster.fallback": "address, reason, text  (the scheduler was unreachable or lost: the local pool works)",
}


class Subscription:
    """A bounded FIFO of events for one observer. When full, the oldest are dropped and counted."""

    def __init__(self, channel: "EventChannel", maxlen: int, kinds: Iterable[str] | None):
        self._channel = channel
        self._queue: collections.deque[Event] = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self.kinds = frozenset(kinds) if kinds else None
        self.dropped = 0

    def _offer(self, event: Event) -> None:
        if self.kinds is not None and event.kind not in self.kinds:
            return
        with self._lock:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(event)
            self._ready.notify_all()

    def drain(self, limit: int | None = None) -> list[Event]:
        """Take every queued event (or at most `limit`), oldest first. Never blocks."""
        with self._lock:
            if limit is None or limit >= len(self._queue):
                events = list(self._queue)
                self._queue.clear()
            else:
                events = [self._queue.popleft() for _ in range(limit)]
        return events

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 5.0) -> Event | None:
        """Block until an event matching `predicate` arrives (consuming events up to it); None on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                while self._queue:
                    event = self._queue.popleft()
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._ready.wait(remaining)

    def close(self) -> None:
        self._channel.unsubscribe(self)


class EventChannel:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def subscribe(self, maxlen: int = 100_000, kinds: Iterable[str] | None = None) -> Subscription:
        sub = Subscription(self, maxlen, kinds)
        with self._lock:
            self._subscriptions = [*self._subscriptions, sub]
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s is not sub]

    def wanted(self, kind: str) -> bool:
        """Whether any subscription takes events of `kind`: a publisher can skip making one nobody would see."""
        return any(sub.kinds is None or kind in sub.kinds for sub in self._subscriptions)

    def deliver(self, event: Event) -> None:
        """Hand an event made elsewhere (a remote server's, read from its admin event stream) to every
        subscriber as it is: its time and sequence number stay the remote server's."""
        for sub in self._subscriptions:
            sub._offer(event)

    def publish(self, kind: str, data: dict[str, Any] | None = None, client_id: str | None = None) -> Event:
        event = Event(kind, data or {}, client_id, time.time(), next(self._seq))
        for sub in self._subscriptions:  # copy-on-write list: safe to iterate without the lock
            sub._offer(event)
        return event

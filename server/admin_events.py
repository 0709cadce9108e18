"""`/api/admin/events`: the admin event stream, a websocket carrying what the in-process EventChannel carries.

Authenticated like every admin route (`Authorization: Bearer <admin token>` on the upgrade request; there is
no token in the URL, which would land in logs). The first frame is a snapshot `{"type": "snapshot",
"clients": [...], "seq": N}`; then `{"type": "events", "events": [{kind, data, client_id, at, seq}, ...],
"dropped": D}` frames. `?kinds=election.,client.` keeps only kinds starting with one of those prefixes.

Backpressure: each observer has its own bounded Subscription (MAX_QUEUE events; at most MAX_OBSERVERS
streams at once). The pump sends one batch
(at most MAX_BATCH events or about MAX_FRAME_BYTES) and awaits its flush to the socket before it takes the next,
so a slow observer never grows the server's write buffer: its queue fills instead, and when full the oldest
events are dropped and counted. `dropped` is that running count (the observer knows what it missed: a gap
in `seq` and the count); the server and every other observer are unaffected.
"""

from __future__ import annotations

import asyncio
import json

from tornado.websocket import WebSocketClosedError, WebSocketHandler

from mixscope.server.admin_auth import UNAUTHORIZED, bearer_ok
from mixscope.server.hub import Hub
from mixscope.wire.events import Subscription

MAX_QUEUE = 10_000       # events waiting for one observer (an event is at most ~2.5 KB: frames are cut at 2,000
                         # characters in events), so at most ~25 MB per observer
MAX_OBSERVERS = 8        # admin streams open at once; one more is refused with 503
MAX_BATCH = 500          # events per frame
MAX_FRAME_BYTES = 1 << 20  # a frame closes once it passes this many bytes
TICK = 0.05              # seconds between two looks at an empty queue
PING_INTERVAL = 10.0     # an observer that has not answered a ping within this many seconds is closed


class AdminEvents(WebSocketHandler):
    observers = 0  # open streams, all servers of this process (the loop thread alone touches it)

    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.subscription: Subscription | None = None
        self.closed = False

    def prepare(self):
        if not bearer_ok(self.request.headers.get("Authorization"), getattr(self.hub, "admin_token", None)):
            self.set_status(401)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(UNAUTHORIZED))
        elif AdminEvents.observers >= MAX_OBSERVERS:
            self.set_status(503)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": f"{MAX_OBSERVERS} admin event streams are open already"}))

    # The server's node pinger is the hub's and Tornado's own is off for /ws; an observer is pinged here, so
    # one that vanished without closing (a laptop asleep, a cut cable) frees its place among MAX_OBSERVERS.
    @property
    def ping_interval(self) -> float:
        return PING_INTERVAL

    @property
    def ping_timeout(self) -> float:
        return PING_INTERVAL

    def check_origin(self, origin: str) -> bool:
        return True  # not a browser endpoint: the bearer token, not a cookie, authenticates it

    def open(self) -> None:
        prefixes = tuple(p for p in self.get_query_argument("kinds", "").split(",") if p)
        self.prefixes = prefixes
        self.subscription = self.hub.channel.subscribe(maxlen=MAX_QUEUE)
        AdminEvents.observers += 1
        self.hub.log("info", f"admin event stream opened from {self.request.remote_ip}")
        asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        subscription = self.subscription
        if subscription is None:  # closed before the pump started
            return
        try:
            snapshot = {"type": "snapshot", "clients": self.hub.registry.snapshots()}
            await self.write_message(json.dumps(snapshot, separators=(",", ":")))
            while not self.closed:
                events = subscription.drain(limit=MAX_BATCH)
                if self.prefixes:
                    events = [e for e in events if e.kind.startswith(self.prefixes)]
                if not events:
                    await asyncio.sleep(TICK)
                    continue
                parts, size = [], 0
                for event in events:
                    text = json.dumps({"kind": event.kind, "data": event.data, "client_id": event.client_id,
                                       "at": event.at, "seq": event.seq}, separators=(",", ":"), default=str)
                    parts.append(text)
                    size += len(text)
                    if size >= MAX_FRAME_BYTES:
                        await self._send(subscription, parts)
                        parts, size = [], 0
                if parts:
                    await self._send(subscription, parts)
        except WebSocketClosedError:
            pass
        except Exception as exc:  # a bug here must not leave the observer hanging: log it and close
            self.hub.log("error", f"admin event stream failed: {exc!r}")
            self.close(1011, "event stream failed")
        finally:
            self._release()

    async def _send(self, subscription: Subscription, parts: list[str]) -> None:
        frame = f'{{"type":"events","dropped":{subscription.dropped},"events":[{",".join(parts)}]}}'
        await self.write_message(frame)  # resolves once flushed: a slow reader holds the pump, not memory

    def on_message(self, message) -> None:
        pass  # observers only listen

    def on_close(self) -> None:
        self.closed = True  # the pump sees it within a tick (or its write fails) and lets the subscription go

    def _release(self) -> None:
        if self.subscription is not None:
            self.subscription.close()
            self.subscription = None
            AdminEvents.observers -= 1

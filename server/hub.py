"""The websocket side of the server: live connections, the registry, traffic events and requests to nodes.

Everything here runs on the server's own loop thread. Other threads reach it only through the bridge
(`server.bridge`), which schedules work here with that loop's `add_callback`.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
import time
from typing import TYPE_CHECKING, Any

from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.websocket import WebSocketClosedError

from server import protocol
from server.events import EventChannel
from server.registry import ClientInfo, ClientRegistry

if TYPE_CHECKING:
    from server.ws import NodeSocket

STATS_EVENT_INTERVAL = 1.0  # at most one "client.updated" per client per second for counters and rtt
DISCONNECT_GRACE = 2.0  # seconds a disconnected client gets to answer the close frame before it is cut
_RTT_PING = b"rtt:"  # our pings carry "rtt:" + send time; Tornado's keep-alive pings are empty


class PendingRequest:
    """A request sent to several nodes, waiting for one reply from each (or for its timeout)."""

    def __init__(self, request_id: str, client_ids: list[str]):
        self.request_id = request_id
        self.waiting = set(client_ids)
        self.replies: dict[str, dict[str, Any]] = {}
        self.gone: list[str] = []
        self.done = asyncio.get_running_loop().create_future()

    def settle(self, client_id: str, reply: dict[str, Any] | None) -> None:
        if client_id not in self.waiting:
            return
        self.waiting.discard(client_id)
        if reply is None:
            self.gone.append(client_id)
        else:
            self.replies[client_id] = reply
        if not self.waiting and not self.done.done():
            self.done.set_result(None)


class Hub:
    def __init__(self, channel: EventChannel, registry: ClientRegistry, ping_interval: float):
        self.channel = channel
        self.registry = registry
        self.sockets: dict[str, "NodeSocket"] = {}
        self._loop = IOLoop.current()
        self._pending: dict[str, PendingRequest] = {}
        self._stats_published: dict[str, float] = {}
        self._stats_scheduled: set[str] = set()
        self._pinger = PeriodicCallback(self._ping_all, ping_interval * 1000) if ping_interval > 0 else None

    def start(self) -> None:
        if self._pinger:
            self._pinger.start()

    def log(self, level: str, text: str, client_id: str | None = None) -> None:
        self.channel.publish("log", {"level": level, "text": text}, client_id)

    # --- connection lifecycle (called by NodeSocket) -------------------------------------------------------

    def connected(self, sock: "NodeSocket") -> ClientInfo:
        info = self.registry.add(peer=sock.request.remote_ip or "?")
        self.sockets[info.id] = sock
        self.channel.publish("client.connected", {"client": info.snapshot()}, info.id)
        self._ping(sock)
        return info

    def disconnected(self, sock: "NodeSocket", code: int | None, reason: str | None) -> None:
        info = sock.client
        if info is None or self.sockets.get(info.id) is not sock:
            return
        del self.sockets[info.id]
        self.registry.remove(info.id)
        self._stats_published.pop(info.id, None)
        for pending in list(self._pending.values()):
            pending.settle(info.id, None)
        self.channel.publish("client.disconnected", {"client": info.snapshot(), "code": code, "reason": reason}, info.id)

    def received(self, sock: "NodeSocket", frame: str | bytes) -> None:
        info = sock.client
        size = len(frame) if isinstance(frame, bytes) else len(frame.encode("utf-8"))
        info.count_in(size)
        try:
            message = protocol.parse_message(frame)
        except protocol.ProtocolError as exc:
            self._publish_message(info, "in", None, size, frame)
            self.log("warning", f"bad frame from {info.id}: {exc.reason}: {exc.detail}", info.id)
            self.send(info.id, protocol.error_reply(exc.reason, exc.detail))
            return
        self._publish_message(info, "in", message["type"], size, frame)
        getattr(self, f"_on_{message['type']}")(info, message)

    def ponged(self, sock: "NodeSocket", data: bytes) -> None:
        info = sock.client
        info.last_seen = time.time()
        if data.startswith(_RTT_PING) and len(data) == len(_RTT_PING) + 8:
            (sent,) = struct.unpack("!d", data[len(_RTT_PING):])
            info.rtt_ms = round((self._loop.time() - sent) * 1000, 3)
            self._stats_changed(info)

    # --- what nodes say -----------------------------------------------------------------------------------

    def _on_hello(self, info: ClientInfo, message: dict[str, Any]) -> None:
        info.name, info.role = message["name"], message["role"]
        self.send(info.id, {"type": "welcome", "client_id": info.id})
        self._publish_update(info)

    def _on_mixed(self, info: ClientInfo, message: dict[str, Any]) -> None:
        pending = self._pending.get(message["request_id"])
        if pending is None or info.id not in pending.waiting:
            self.log("warning", f"{info.id} answered unknown or settled request {message['request_id'][:40]!r}", info.id)
            return
        pending.settle(info.id, message)

    def _on_error(self, info: ClientInfo, message: dict[str, Any]) -> None:
        self.log("warning", f"{info.id} reported an error: {message['reason'][:200]}", info.id)

    # --- what the server says -----------------------------------------------------------------------------

    def send(self, client_id: str, message: dict[str, Any]) -> bool:
        """Send one message; False if that client is gone. Never raises for a closed socket."""
        sock = self.sockets.get(client_id)
        if sock is None:
            return False
        text = protocol.encode(message)
        try:
            sock.write_message(text)
        except WebSocketClosedError:
            return False
        size = len(text.encode("utf-8"))
        sock.client.count_out(size)
        self._publish_message(sock.client, "out", message.get("type"), size, text)
        return True

    def broadcast(self, message: dict[str, Any], client_ids: list[str] | None = None) -> list[str]:
        targets = list(self.sockets) if client_ids is None else client_ids
        return [cid for cid in targets if self.send(cid, message)]

    def disconnect(self, client_id: str, reason: str = "disconnected by server") -> bool:
        sock = self.sockets.get(client_id)
        if sock is None:
            return False
        stream = sock.ws_connection.stream if sock.ws_connection else None
        sock.close(1000, reason)
        if stream is not None:  # a client that never answers the close frame is cut after a short grace
            self._loop.call_later(DISCONNECT_GRACE, stream.close)
        return True

    def mixers(self) -> list[str]:
        return [info.id for info in self.registry if info.role == "mixer"]

    async def mix(self, timeout: float) -> dict[str, Any]:
        """Ask every mixer to mix; wait for all replies or the timeout, and say who did not answer."""
        request_id = secrets.token_hex(8)
        pending = PendingRequest(request_id, [])
        self._pending[request_id] = pending
        try:
            sent_to = self.broadcast({"type": "mix", "request_id": request_id}, self.mixers())
            pending.waiting = set(sent_to)
            if sent_to:
                try:
                    await asyncio.wait_for(asyncio.shield(pending.done), timeout)
                except asyncio.TimeoutError:
                    pass
        finally:
            del self._pending[request_id]
        return {
            "request_id": request_id,
            "sent_to": sent_to,
            "replies": pending.replies,
            "missing": sorted(pending.waiting) + pending.gone,
        }

    async def close_all(self, grace: float = 1.0) -> None:
        """Close every websocket (1001 going away); cut the ones that do not finish the handshake in time."""
        if self._pinger:
            self._pinger.stop()
        for pending in self._pending.values():
            for client_id in list(pending.waiting):
                pending.settle(client_id, None)
        # handler.close() forgets its protocol object, so keep the streams to cut the laggards ourselves
        streams = [sock.ws_connection.stream for sock in self.sockets.values() if sock.ws_connection]
        for sock in list(self.sockets.values()):
            sock.close(1001, "server stopping")
        deadline = self._loop.time() + grace
        while self.sockets and self._loop.time() < deadline:
            await asyncio.sleep(0.02)
        for stream in streams:
            stream.close()
        while self.sockets and self._loop.time() < deadline + grace:
            await asyncio.sleep(0.02)

    # --- pings, round-trip time, throttled stats events ----------------------------------------------------

    def _ping(self, sock: "NodeSocket") -> None:
        try:
            sock.ping(_RTT_PING + struct.pack("!d", self._loop.time()))
        except WebSocketClosedError:
            pass

    def _ping_all(self) -> None:
        for sock in list(self.sockets.values()):
            self._ping(sock)

    def _publish_message(self, info: ClientInfo, direction: str, kind: str | None, size: int, frame) -> None:
        data = {"direction": direction, "type": kind, "size": size, "text": protocol.loggable(frame)}
        self.channel.publish("message", data, info.id)
        self._stats_changed(info)

    def _stats_changed(self, info: ClientInfo) -> None:
        if info.id in self._stats_scheduled or info.id not in self.sockets:
            return
        wait = self._stats_published.get(info.id, 0.0) + STATS_EVENT_INTERVAL - time.monotonic()
        if wait <= 0:
            self._publish_update(info)
        else:
            self._stats_scheduled.add(info.id)
            self._loop.call_later(wait, self._scheduled_update, info)

    def _scheduled_update(self, info: ClientInfo) -> None:
        self._stats_scheduled.discard(info.id)
        if info.id in self.sockets:
            self._publish_update(info)

    def _publish_update(self, info: ClientInfo) -> None:
        self._stats_published[info.id] = time.monotonic()
        self.channel.publish("client.updated", {"client": info.snapshot()}, info.id)

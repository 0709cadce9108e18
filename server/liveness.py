"""Liveness: the server pings every websocket with its send time, measures the round trip from the pong, and
cuts a client that answered no ping for the interval plus the timeout (Tornado's own pinger is off:
server/webapp.py), so a dead client leaves within about two intervals plus the timeout.

Runs on the server's loop thread, like the hub that owns it.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Mapping, Protocol

from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.websocket import WebSocketClosedError

RTT_PING = b"rtt:"  # our pings carry "rtt:" + send time; Tornado's keep-alive pings are empty


class Socket(Protocol):
    """A connected websocket as the hub and this module use it (server/ws.py's NodeSocket)."""

    client: Any
    request: Any
    ws_connection: Any

    def write_message(self, message: str) -> Any: ...

    def ping(self, data: bytes = b"") -> None: ...

    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class Liveness:
    def __init__(self, sockets: Mapping[str, Socket], ping_interval: float, ping_timeout: float | None,
                 log: Callable[[str, str, str], None]):
        self._sockets, self._log = sockets, log
        self._loop = IOLoop.current()
        self._pinger = PeriodicCallback(self._ping_all, ping_interval * 1000) if ping_interval > 0 else None
        self.silent_after = ping_interval + (ping_interval if ping_timeout is None else ping_timeout)
        self._last_pong: dict[str, float] = {}

    def start(self) -> None:
        if self._pinger:
            self._pinger.start()

    def stop(self) -> None:
        if self._pinger:
            self._pinger.stop()

    def watch(self, client_id: str, sock: Socket) -> None:
        """A new connection: its silence counts from now, and the first ping (for its round trip) goes out."""
        self._last_pong[client_id] = self._loop.time()
        self._ping(sock)

    def forget(self, client_id: str) -> None:
        self._last_pong.pop(client_id, None)

    def ponged(self, client_id: str, data: bytes) -> float | None:
        """Note a pong; the round trip in ms when it answers one of our timed pings, else None."""
        now = self._loop.time()
        self._last_pong[client_id] = now
        if data.startswith(RTT_PING) and len(data) == len(RTT_PING) + 8:
            (sent,) = struct.unpack("!d", data[len(RTT_PING):])
            return round((now - sent) * 1000, 3)
        return None

    def _ping(self, sock: Socket) -> None:
        try:
            sock.ping(RTT_PING + struct.pack("!d", self._loop.time()))
        except WebSocketClosedError:
            pass

    def _ping_all(self) -> None:
        now = self._loop.time()
        for client_id, sock in list(self._sockets.items()):
            silent = now - self._last_pong.get(client_id, now)
            if silent > self.silent_after and sock.ws_connection is not None:
                self._log("warning", f"{client_id} answered no ping for {silent:.1f} s: dropped", client_id)
                sock.ws_connection.stream.close()  # on_close follows, with no close code
            else:
                self._ping(sock)

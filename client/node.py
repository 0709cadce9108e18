"""`mixscope node`: a websocket node. It connects, says hello, answers the server's requests, reconnects
with back-off when the server goes away, and reports every step as a JSON status line on stdout.

The websocket runs on its own thread (websocket-client's WebSocketApp), which also answers the server's
pings; request work runs on a separate worker thread, so pings are answered while a node computes.
"""

from __future__ import annotations

import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import websocket

from client.backoff import Backoff
from client.status import StatusWriter
from server import protocol

RECEIVE_WAKEUP = 1.0  # the receive thread wakes at least this often to notice a stop


class Node:
    def __init__(self, url: str, name: str, role: str, status: StatusWriter, backoff: Backoff | None = None):
        self.url, self.name, self.role = url, name, role
        self.status = status
        self.backoff = backoff or Backoff()
        self.stopping = threading.Event()
        self._app: websocket.WebSocketApp | None = None
        self._connected = False
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="node-work")

    # --- connection loop (runs on its own thread) ----------------------------------------------------------

    def run(self) -> None:
        self.status("starting", url=self.url, name=self.name, role=self.role)
        while not self.stopping.is_set():
            self._app = websocket.WebSocketApp(
                self.url, on_open=self._on_open, on_message=self._on_message,
                on_error=self._on_error, on_close=self._on_close,
            )
            if self.stopping.is_set():  # stop() came between the check and the new app
                break
            self._app.run_forever(reconnect=0, ping_timeout=RECEIVE_WAKEUP)
            if self.stopping.is_set():
                break
            delay = self.backoff.next_delay()
            self.status("reconnecting", delay=round(delay, 3), attempt=self.backoff.attempt)
            self.stopping.wait(delay)
        self._worker.shutdown(wait=True)
        self.status("stopped")

    def stop(self) -> None:
        # Not app.close(): it reads the close reply on this thread, racing the receive thread, which can then
        # sleep in select() on a closed socket. Instead send the close frame and let the receive thread see
        # the reply (or its 1 s select timeout) and wind down by itself.
        self.stopping.set()
        app = self._app
        if app is None:
            return
        app.keep_running = False
        sock = app.sock
        if sock is not None and sock.connected:
            try:
                sock.send_close(websocket.STATUS_NORMAL, b"node stopping")
            except (websocket.WebSocketException, OSError):
                pass

    # --- websocket callbacks (on the websocket thread) -----------------------------------------------------

    def _on_open(self, app: websocket.WebSocketApp) -> None:
        self.backoff.reset()
        self._connected = True
        self.status("connected", url=self.url)
        self._send(app, {"type": "hello", "name": self.name, "role": self.role})
        self.status("hello_sent")

    def _on_message(self, app: websocket.WebSocketApp, frame: str | bytes) -> None:
        try:
            message = protocol.parse_message(frame, allowed=protocol.SERVER_TYPES)
        except protocol.ProtocolError as exc:
            self.status("error", reason=exc.reason, detail=exc.detail)
            self._send(app, protocol.error_reply(exc.reason, exc.detail))
            return
        kind = message["type"]
        if kind == "welcome":
            self.status("welcomed", client_id=message["client_id"])
        elif kind == "error":
            self.status("error", reason=message["reason"], detail=str(message.get("detail", ""))[:500])
        else:
            self.status("request", type=kind, request_id=message.get("request_id"))
            self._worker.submit(self._answer, app, message)

    def _on_error(self, app: websocket.WebSocketApp, error: Exception) -> None:
        # A closed connection is reported once, as "disconnected" by _on_close, not also as an error.
        if not self.stopping.is_set() and not isinstance(error, websocket.WebSocketConnectionClosedException):
            self.status("error", reason=type(error).__name__, detail=str(error)[:500])

    def _on_close(self, app: websocket.WebSocketApp, code: int | None, reason: str | None) -> None:
        if self._connected:  # a connect attempt that failed was already reported by _on_error
            self._connected = False
            self.status("disconnected", code=code, reason=reason or "")

    # --- requests (on the worker thread) -------------------------------------------------------------------

    def _answer(self, app: websocket.WebSocketApp, message: dict[str, Any]) -> None:
        reply = handle_request(self, message)
        if self._send(app, reply):
            self.status("replied", type=reply["type"], request_id=reply.get("request_id"))

    def _send(self, app: websocket.WebSocketApp, message: dict[str, Any]) -> bool:
        try:
            app.send(protocol.encode(message))
            return True
        except (websocket.WebSocketException, OSError) as exc:
            self.status("error", reason="send_failed", detail=str(exc)[:500])
            return False


def handle_request(node: Node, message: dict[str, Any]) -> dict[str, Any]:
    """The reply to one server request. For now a `mix` is acknowledged without mixing anything."""
    if message["type"] == "mix":
        return {"type": "mixed", "request_id": message["request_id"], "name": node.name, "role": node.role}
    return protocol.error_reply(protocol.UNKNOWN_TYPE, f"node cannot handle {message['type']!r}")


def run(args) -> int:
    if not args.url.startswith(("ws://", "wss://")):
        print(f"mixscope node: --url must be a ws:// or wss:// URL, not {args.url!r}", file=sys.stderr)
        return 2
    node = Node(args.url, args.name, args.role, StatusWriter())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=node.run, name="node-connection", daemon=True)
    worker.start()
    while not stop.wait(0.2) and worker.is_alive():
        pass
    node.stop()
    worker.join(10)
    return 0

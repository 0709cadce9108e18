"""`mixscope node`: a websocket node. It connects, says hello, answers the server's requests, reconnects
with back-off when the server goes away, and reports every step as a JSON status line on stdout.

The websocket runs on its own thread (websocket-client's WebSocketApp), which also answers the server's
pings; request work runs on a separate worker thread, so pings are answered while a node computes.
Mixers and trustees sign their messages with the node's Ed25519 key (client/identity.py) and present the
join token in hello; long messages travel as chunks both ways (wire/chunks.py). The role logic is in
client/roles.py, client/mixer.py and client/trustee.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import websocket

from mixscope.client import identity
from mixscope.client.backoff import Backoff
from mixscope.client.roles import Roles
from mixscope.client.status import StatusWriter
from mixscope.wire import chunks, protocol, tls

JOIN_TOKEN_ENV = "MIXSCOPE_JOIN_TOKEN"

FATAL_REFUSALS = ("name_taken",)  # server/hub.py: a hello refused for a reason that retrying cannot change
EXIT_REFUSED = 3
RECEIVE_WAKEUP = 1.0  # the receive thread wakes at least this often to notice a stop


class Node:
    def __init__(self, url: str, name: str, role: str, status: StatusWriter, backoff: Backoff | None = None,
                 signer: identity.Signer | None = None, join_token: str | None = None, roles: Roles | None = None,
                 sslopt: dict | None = None):
        self.url, self.name, self.role = url, name, role
        self.sslopt = sslopt  # wss: wire/tls.client_sslopt(--cafile)
        self.status = status
        self.backoff = backoff or Backoff()
        self.signer, self.join_token, self.roles = signer, join_token, roles
        self._reassembler = chunks.Reassembler()
        self.stopping = threading.Event()
        self._app: websocket.WebSocketApp | None = None
        self._connected = False
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="node-work")
        self.refused: str | None = None  # why the server refused this node for good (then it exits non-zero)

    # --- connection loop (runs on its own thread) ----------------------------------------------------------

    def run(self) -> None:
        self.status("starting", url=self.url, name=self.name, role=self.role,
                    public_key=self.signer.public_key if self.signer else None)
        while not self.stopping.is_set():
            self._app = websocket.WebSocketApp(
                self.url, on_open=self._on_open, on_data=self._on_data,
                on_error=self._on_error, on_close=self._on_close,
            )
            if self.stopping.is_set():  # stop() came between the check and the new app
                break
            # websocket-client checks UTF-8 in pure Python (40-85 ms per 256 KB frame); _on_data decodes
            # strictly with bytes.decode instead.
            self._app.run_forever(reconnect=0, ping_timeout=RECEIVE_WAKEUP, sslopt=self.sslopt,
                                  skip_utf8_validation=True)
            if self.stopping.is_set():
                break
            delay = self.backoff.next_delay()
            self.status("reconnecting", delay=round(delay, 3), attempt=self.backoff.attempt)
            self.stopping.wait(delay)
        self._worker.shutdown(wait=True)
        if self.roles is not None:
            self.roles.close()
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
        self._reassembler = chunks.Reassembler()  # transfers never span connections
        self.status("connected", url=self.url)
        hello = {"type": "hello", "name": self.name, "role": self.role}
        if self.signer is not None and self.join_token:  # without a token: a plain hello, the server's observer
            hello["public_key"] = self.signer.public_key
            hello["join_token"] = self.join_token  # sent beside the signature, not signed (wire/signing.py)
        self._send(app, hello)
        self.status("hello_sent", public_key=hello.get("public_key"))

    def _on_data(self, app: websocket.WebSocketApp, data: bytes | str, opcode: int, fin: bool) -> None:
        """Every data frame, text frames still as bytes (skip_utf8_validation): decoded strictly here."""
        if opcode == websocket.ABNF.OPCODE_TEXT and isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                detail = f"text frame is not valid UTF-8 (byte {exc.start})"
                self.status("error", reason=protocol.NOT_JSON, detail=detail)
                self._send(app, protocol.error_reply(protocol.NOT_JSON, detail))
                return
        self._on_message(app, data)

    def _on_message(self, app: websocket.WebSocketApp, frame: str | bytes) -> None:
        try:
            message = protocol.parse_message(frame, allowed=protocol.SERVER_TYPES)
            if message["type"] == "chunk":
                text = self._reassembler.feed(message)
                if text is None:
                    return
                message = protocol.parse_message(text, allowed=protocol.SERVER_TYPES,
                                                 max_bytes=chunks.MAX_TRANSFER_BYTES)
                if message["type"] == "chunk":
                    raise protocol.ProtocolError(chunks.BAD_CHUNK, "a chunked message may not be a chunk itself")
        except protocol.ProtocolError as exc:
            self.status("error", reason=exc.reason, detail=exc.detail)
            self._send(app, protocol.error_reply(exc.reason, exc.detail))
            return
        kind = message["type"]
        if kind == "welcome":
            self.status("welcomed", client_id=message["client_id"])
        elif kind == "error":
            self.status("error", reason=message["reason"], detail=str(message.get("detail", ""))[:500])
            if message["reason"] in FATAL_REFUSALS:  # retrying cannot help: stop, and exit non-zero saying why
                self.refused = f"{message['reason']}: {str(message.get('detail', ''))[:300]}"
                self.stop()
        else:
            self.status("request", type=kind, request_id=message.get("request_id"),
                        election_id=message.get("election_id"))
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
        started = time.monotonic()
        try:
            reply = handle_request(self, message, lambda *p: self._progress(app, *p))
        except Exception as exc:  # never lose the worker thread to a bug; the next request still gets served
            reply = protocol.error_reply("internal_error", f"{type(exc).__name__}: {str(exc)[:300]}",
                                         ref=message["type"])
        if reply is None:
            self.status("silent", type=message["type"], election_id=message.get("election_id"))
            return
        if reply["type"] == "error":
            self.status("request_failed", ref=message["type"], reason=reply["reason"], detail=reply["detail"][:500])
        if self._send(app, reply):
            self.status("replied", type=reply["type"], request_id=reply.get("request_id"),
                        election_id=reply.get("election_id"), seconds=round(time.monotonic() - started, 3))

    def _progress(self, app: websocket.WebSocketApp, election_id: str, task: str, phase: str, done: int,
                  total: int) -> None:
        self.status("progress", election_id=election_id, task=task, phase=phase, done=done, total=total)
        self._send(app, {"type": "progress", "election_id": election_id, "task": task, "phase": phase,
                         "done": done, "total": total})

    def _send(self, app: websocket.WebSocketApp, message: dict[str, Any]) -> bool:
        """Sign (if this node has an identity and the type is signed), chunk if long, send. False if it failed."""
        if self.signer is not None and (message["type"] in protocol.SIGNED_NODE_TYPES or "join_token" in message):
            message, text = self.signer.sign_encoded(message)  # the signed text is the frame: encoded once
        else:
            text = protocol.encode(message)
        try:
            sent = False
            for frame in chunks.encoded_frames(text):  # none: it fits in one frame
                app.send(frame)
                sent = True
            if not sent:
                app.send(text)
            return True
        except (websocket.WebSocketException, OSError) as exc:
            self.status("error", reason="send_failed", detail=str(exc)[:500])
            return False


def handle_request(node: Node, message: dict[str, Any], on_progress=lambda *_: None) -> dict[str, Any] | None:
    """The reply to one server request (an `error` reply for one this node cannot act on)."""
    if node.roles is not None:
        return node.roles.handle(message, on_progress)
    if message["type"] == "roll_call":
        return {"type": "roll_call.reply", "request_id": message["request_id"], "name": node.name, "role": node.role}
    return protocol.error_reply(protocol.UNKNOWN_TYPE, f"node cannot handle {message['type']!r}", ref=message["type"])


@dataclass(frozen=True)
class NodeSettings:
    """`mixscope node`'s options (mixscope/cli.py builds them once from the command line)."""

    url: str
    name: str
    role: str = "mixer"
    join_token: str | None = None  # None: $MIXSCOPE_JOIN_TOKEN
    data_dir: str | None = None
    cheat: str | None = None
    lab_cheats: bool = False
    workers: int = 1
    skip_stage_proofs: bool = False
    nice: int = 0
    cafile: str | None = None
    cluster: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "NodeSettings":
        return cls(url=args.url, name=args.name, role=args.role, join_token=args.join_token, data_dir=args.data_dir,
                   cheat=args.cheat, lab_cheats=args.lab_cheats, workers=args.workers,
                   skip_stage_proofs=args.skip_stage_proofs, nice=args.nice, cafile=args.cafile, cluster=args.cluster)


def run(settings: NodeSettings) -> int:
    if not settings.url.startswith(("ws://", "wss://")):
        print(f"mixscope node: --url must be a ws:// or wss:// URL, not {settings.url!r}", file=sys.stderr)
        return 2
    workers, cheat = settings.workers, settings.cheat
    if workers < 1:
        print("mixscope node: --workers must be at least 1", file=sys.stderr)
        return 2
    if cheat is not None and settings.role != "mixer":
        print("mixscope node: --cheat is for mixers only", file=sys.stderr)
        return 2
    nice = settings.nice
    if not 0 <= nice <= 19:
        print(f"mixscope node: --nice must be 0..19, not {nice}", file=sys.stderr)
        return 2
    if nice:
        # A lab node sharing the panel's machine yields the CPU to the GUI thread; its worker pool inherits it.
        os.nice(nice)
    try:
        sslopt = tls.client_sslopt(settings.cafile)
    except tls.TlsError as exc:
        print(f"mixscope node: {exc}", file=sys.stderr)
        return 2
    status = StatusWriter()
    try:
        key, _created = identity.load_or_create(settings.data_dir, settings.name)
    except (identity.IdentityError, OSError) as exc:
        print(f"mixscope node: {exc}", file=sys.stderr)
        return 2
    signer = identity.Signer(key)
    join_token = settings.join_token or os.environ.get(JOIN_TOKEN_ENV) or None
    roles = Roles(settings.name, settings.role, key, settings.data_dir, cheat=cheat, workers=workers,
                  lab_cheats=settings.lab_cheats,
                  cluster=settings.cluster,
                  on_cluster=lambda kind, data: status(kind.replace(".", "_"), **data),
                  check_stage_proofs=not settings.skip_stage_proofs)
    node = Node(settings.url, settings.name, settings.role, status, signer=signer, join_token=join_token, roles=roles,
                sslopt=sslopt)
    roles.stop = node.stopping  # a stopping node abandons long work between two jobs
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=node.run, name="node-connection", daemon=True)
    worker.start()
    while not stop.wait(0.2) and worker.is_alive():
        pass
    node.stop()
    worker.join(10)
    if node.refused is not None:
        print(f"mixscope node: the server refused {settings.name!r}: {node.refused}", file=sys.stderr)
        return EXIT_REFUSED
    return 0

"""The websocket side of the server: live connections, the registry, dispatch, traffic events, requests to nodes.

Everything here runs on the server's own loop thread. Other threads reach it only through the bridge
(`server.bridge`), which schedules work here with that loop's `add_callback`. Who may join as a node and which
signed messages count is server/node_auth.py; pings and dropping silent clients, server/liveness.py. The runner
attaches the election coordinator (`election`); the hub hands it what joined nodes say.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import time
from typing import Any, Callable, Protocol

from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.websocket import WebSocketClosedError

from mixscope.server import board as board_mod
from mixscope.server import node_auth, signed_text
from mixscope.server.election.common import NodeRef
from mixscope.server.election.link import Election
from mixscope.server.executors import Executors
from mixscope.server.liveness import Liveness, Socket
from mixscope.server.registry import ClientInfo, ClientRegistry
from mixscope.wire import chunks, protocol
from mixscope.wire.events import EventChannel

STATS_EVENT_INTERVAL = 1.0  # at most one "client.updated" per client per second for counters and rtt
DISCONNECT_GRACE = 2.0  # seconds a disconnected client gets to answer the close frame before it is cut


class MessageLimit(Protocol):
    """A per-client frame budget (server/ratelimit.py's TokenBucketLimiter)."""

    rate: float

    def take(self, key: str) -> float: ...


Handler = Callable[[ClientInfo, dict[str, Any]], None]


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


# Reassembly memory (docs/protocol.md, Transport). A client that has not said hello may send no chunks; one that
# said a plain hello (voter, observer) gets one small transfer; a node that joined with the token and a signed
# hello gets the full per-connection budget. All connections together hold at most SERVER_CHUNK_BYTES.
GUEST_CHUNK_BYTES, GUEST_OPEN_TRANSFERS = 1 << 20, 1
NODE_CHUNK_BYTES, NODE_OPEN_TRANSFERS = chunks.MAX_TRANSFER_BYTES, chunks.MAX_OPEN_TRANSFERS
SERVER_CHUNK_BYTES = 1 << 30
STALL_CHECK_SECONDS = 5.0  # how often stalled transfers are looked for (each expires after its stall time)


class Hub:
    def __init__(self, channel: EventChannel, registry: ClientRegistry, ping_interval: float, *,
                 ping_timeout: float | None = None, board: board_mod.Board | None = None, join_token: str | None = None,
                 executors: Executors | None = None, message_limit: MessageLimit | None = None,
                 hello_timeout: float | None = None,
                 stall_seconds: float = chunks.STALL_SECONDS):
        self.channel = channel
        self.hello_timeout = hello_timeout  # a websocket silent this long without a hello is closed
        self.stall_seconds = stall_seconds
        self.chunk_budget = chunks.Budget(SERVER_CHUNK_BYTES)
        # Inbound frames per client (None: no limit). Over it, frames are counted but neither parsed nor shown
        # in the traffic view, and the client hears `rate_limited` at most once a second.
        self.message_limit = message_limit
        self._limited_notice: dict[str, float] = {}
        self.registry = registry
        self.sockets: dict[str, Socket] = {}
        self.board, self.join_token = board, join_token
        self.secrets: tuple[str, ...] = (join_token,) if join_token else ()  # masked in every event and log line
        self.auth = node_auth.NodeAuth(board, join_token)
        self.admin_token: str | None = None  # set by the runner; the admin event stream checks it
        self._reassemblers: dict[str, chunks.Reassembler] = {}
        self.executors = executors  # the runner's threads and pools (None: everything on the loop thread)
        self.election: Election | None = None  # the runner attaches the coordinator when there is a board
        self._loop = IOLoop.current()
        self._pending: dict[str, PendingRequest] = {}
        self._streams: dict[str, asyncio.Future] = {}  # client id -> its last queued stream or frame behind one
        self._stats_published: dict[str, float] = {}
        self._stats_scheduled: set[str] = set()
        self.liveness = Liveness(self.sockets, ping_interval, ping_timeout, self.log)
        # What each unsigned message type does; signed election messages and joining hellos go through node_auth.
        self.handlers: dict[str, Handler] = {
            "hello": self._on_hello,
            "roll_call.reply": self._on_roll_call_reply,
            "error": self._on_error,
            "chunk": self._on_chunk,
        }
        self._stall_check = PeriodicCallback(self._expire_transfers, min(STALL_CHECK_SECONDS, stall_seconds) * 1000)

    def start(self) -> None:
        self.liveness.start()
        self._stall_check.start()
        if self.election is not None:
            asyncio.ensure_future(self.election.load())

    def log(self, level: str, text: str, client_id: str | None = None) -> None:
        self.channel.publish("log", {"level": level, "text": protocol.redact(text, self.secrets)}, client_id)

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        self.channel.publish(kind, data)

    # --- connection lifecycle (called by NodeSocket) -------------------------------------------------------

    def connected(self, sock: Socket) -> ClientInfo:
        info = self.registry.add(peer=sock.request.remote_ip or "?")
        self.sockets[info.id] = sock
        self.channel.publish("client.connected", {"client": info.snapshot()}, info.id)
        self.liveness.watch(info.id, sock)
        if self.hello_timeout:
            self._loop.call_later(self.hello_timeout, self._hello_deadline, info, sock)
        return info

    def _hello_deadline(self, info: ClientInfo, sock: Socket) -> None:
        if self.sockets.get(info.id) is sock and info.role is None:
            self.log("warning", f"{info.id} said no hello in {self.hello_timeout:g} s: closed", info.id)
            self.disconnect(info.id, "no hello")

    def disconnected(self, sock: Socket, code: int | None, reason: str | None) -> None:
        info = sock.client
        if info is None or self.sockets.get(info.id) is not sock:
            return
        del self.sockets[info.id]
        self.registry.remove(info.id)
        self.auth.forget(info.id)
        reassembler = self._reassemblers.pop(info.id, None)
        if reassembler is not None:
            reassembler.clear()
        if self.election is not None:
            self.election.node_gone(info.id)
        self._stats_published.pop(info.id, None)
        self.liveness.forget(info.id)
        self._limited_notice.pop(info.id, None)
        for pending in list(self._pending.values()):
            pending.settle(info.id, None)
        self.channel.publish("client.disconnected", {"client": info.snapshot(), "code": code, "reason": reason},
                             info.id)

    def received(self, sock: Socket, frame: str | bytes) -> None:
        info = sock.client
        size = len(frame) if isinstance(frame, bytes) else len(frame.encode("utf-8"))
        info.count_in(size)
        if self.message_limit is not None and self.message_limit.take(info.id) > 0:
            self._rate_limited(info)
            return
        try:
            message = protocol.parse_message(frame)
        except protocol.ProtocolError as exc:
            self._publish_message(info, "in", None, size, frame)
            self.log("warning", f"bad frame from {info.id}: {exc.reason}: {exc.detail}", info.id)
            self.send(info.id, protocol.error_reply(exc.reason, exc.detail))
            return
        self._publish_message(info, "in", message["type"], size, frame)
        self._handle(info, message)

    def _handle(self, info: ClientInfo, message: dict[str, Any], checked: signed_text.Checked | None = None) -> None:
        kind = message["type"]
        if kind in protocol.SIGNED_NODE_TYPES:
            asyncio.ensure_future(self._on_signed(info, message, checked))
        elif kind == "hello" and node_auth.wants_join(message):
            asyncio.ensure_future(self._on_join(info, message))
        else:  # parse_message admits only NODE_TYPES: each unsigned one has its handler
            self.handlers[kind](info, message)

    def _rate_limited(self, info: ClientInfo) -> None:
        now = self._loop.time()
        if now - self._limited_notice.get(info.id, float("-inf")) < 1.0:
            return
        self._limited_notice[info.id] = now
        rate = 0.0 if self.message_limit is None else self.message_limit.rate
        detail = f"more than {rate:g} messages/s: frames are being dropped"
        self.log("warning", f"{info.id} rate limited: {detail}", info.id)
        self.send(info.id, protocol.error_reply(protocol.RATE_LIMITED, detail))

    def _refuse(self, info: ClientInfo, reason: str, detail: str, ref: str | None = None) -> None:
        self.log("warning", f"{info.id} refused: {reason}: {detail[:200]}", info.id)
        self.send(info.id, {**protocol.error_reply(reason, detail), "ref": ref})

    def _on_chunk(self, info: ClientInfo, message: dict[str, Any]) -> None:
        if info.role is None:
            self._refuse(info, chunks.BAD_CHUNK, "say hello before sending chunks", "chunk")
            return
        reassembler = self._reassemblers.get(info.id)
        if reassembler is None:
            reassembler = self._reassemblers[info.id] = chunks.Reassembler(self.stall_seconds, budget=self.chunk_budget)
        joined = self.auth.node(info.id) is not None
        reassembler.max_bytes = NODE_CHUNK_BYTES if joined else GUEST_CHUNK_BYTES
        reassembler.max_open = NODE_OPEN_TRANSFERS if joined else GUEST_OPEN_TRANSFERS
        try:
            text = reassembler.feed(message)
        except protocol.ProtocolError as exc:
            self._refuse(info, exc.reason, exc.detail, "chunk")
            return
        if text is not None:
            asyncio.ensure_future(self._on_reassembled(info, text))

    async def _on_reassembled(self, info: ClientInfo, text: str) -> None:
        # Parsing a mixer's answer (megabytes of JSON) takes tens of ms: off the loop when there is a worker.
        # A long one is checked in the process pool first (server/signed_text.py): there it is parsed,
        # canonicalised and its signature checked, and the texts the board stores are made, so this process
        # only parses it once more (json.loads) for the coordinator.
        executors = self.executors
        checked = None
        try:
            if executors is not None and executors.pool is not None and len(text) > signed_text.POOL_ABOVE:
                node = self.auth.node(info.id)
                # parsed here while the pool checks it: both are on the way from a mixer's answer to the next request
                parsing = asyncio.ensure_future(executors.on_worker(json.loads, text))
                parsing.add_done_callback(lambda done: done.cancelled() or done.exception())  # unused if refused
                checked = await asyncio.get_running_loop().run_in_executor(
                    executors.pool, signed_text.check, text, None if node is None else node.public_key)
                whole = await parsing  # the pool found it a valid message
            else:
                parse = functools.partial(protocol.parse_message, text, max_bytes=chunks.MAX_TRANSFER_BYTES)
                whole = parse() if executors is None else await executors.on_worker(parse)
        except protocol.ProtocolError as exc:
            self._refuse(info, exc.reason, exc.detail, "chunk")
            return
        except RuntimeError:  # the server is stopping: its workers are gone
            return
        if info.id not in self.sockets:
            return
        if whole["type"] == "chunk":
            self._refuse(info, protocol.BAD_SHAPE, "a chunked transfer may not carry another chunk", "chunk")
            return
        self._handle(info, whole, checked)

    async def _on_join(self, info: ClientInfo, message: dict[str, Any]) -> None:
        """A hello with an identity: join token, public key and signature, then the board records the node."""
        try:
            signer = await self.auth.join(message, None if self.election is None else self._on_board_thread)
        except node_auth.Refused as exc:
            return self._refuse(info, exc.reason, exc.detail, "hello")
        if info.id not in self.sockets:
            return
        info.name, info.role = message["name"], message["role"]
        self.auth.admit(info.id, message, signer)
        self.send(info.id, {"type": "welcome", "client_id": info.id})
        self._publish_update(info)

    async def _on_signed(self, info: ClientInfo, message: dict[str, Any],
                         checked: signed_text.Checked | None = None) -> None:
        """Election messages: a joined node's valid signature, not seen before, logged on the board first.
        `checked`: what the pool found checking a long message's text (None for a short one)."""
        kind, node = message["type"], self.auth.node(info.id)
        if node is None or self.election is None:
            return self._refuse(info, node_auth.NOT_JOINED, f"{kind} needs a hello with join token and signature "
                                "first", kind)
        try:
            message = await self.auth.check_signed(node, message, checked, self._on_board_thread)
        except node_auth.Refused as exc:
            return self._refuse(info, exc.reason, exc.detail, kind)
        try:
            self.election.node_message(node, message)
        except Exception as exc:  # a coordinator bug must not kill the connection's handling silently
            self.log("error", f"election message {kind} from {node.name} failed: {exc!r}", info.id)

    async def _on_board_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Board writes fsync: on the executors' one board thread, in order with the coordinator's."""
        if self.executors is None:
            return fn(*args)
        return await self.executors.on_io(fn, *args)

    def _expire_transfers(self) -> None:
        """Drop transfers with no chunk for the stall time, even from a client that sends nothing more."""
        for client_id, reassembler in list(self._reassemblers.items()):
            for transfer_id in reassembler.expire():
                detail = f"transfer {transfer_id[:64]!r} abandoned: no chunk for {self.stall_seconds:g} s"
                self.log("warning", f"{client_id}: {detail}", client_id)
                self.send(client_id, {**protocol.error_reply(chunks.BAD_CHUNK, detail), "ref": "chunk"})

    def ponged(self, sock: Socket, data: bytes) -> None:
        info = sock.client
        info.last_seen = time.time()
        rtt_ms = self.liveness.ponged(info.id, data)
        if rtt_ms is not None:
            info.rtt_ms = rtt_ms
            self._stats_changed(info)

    # --- what nodes say -----------------------------------------------------------------------------------

    def _on_hello(self, info: ClientInfo, message: dict[str, Any]) -> None:
        info.name, info.role = message["name"], message["role"]
        self.send(info.id, {"type": "welcome", "client_id": info.id})
        self._publish_update(info)

    def _on_roll_call_reply(self, info: ClientInfo, message: dict[str, Any]) -> None:
        pending = self._pending.get(message["request_id"])
        if pending is None or info.id not in pending.waiting:
            self.log("warning", f"{info.id} answered unknown or settled request {message['request_id'][:40]!r}",
                     info.id)
            return
        pending.settle(info.id, message)

    def _on_error(self, info: ClientInfo, message: dict[str, Any]) -> None:
        self.log("warning", f"{info.id} reported an error: {message['reason'][:200]}", info.id)
        node = self.auth.node(info.id)
        if node is not None and self.election is not None:
            self.election.node_error(node, message)

    # --- what the server says -----------------------------------------------------------------------------

    def send(self, client_id: str, message: dict[str, Any]) -> bool:
        """Send one message; False if that client is gone. Never raises for a closed socket."""
        sock = self.sockets.get(client_id)
        if sock is None:
            return False
        return self.send_text(client_id, protocol.encode(message), message.get("type"))

    def send_text(self, client_id: str, text: str, kind: str | None) -> bool:
        """Send one frame already encoded by protocol.encode (`kind`: its type); False if that client is gone.
        Behind a long message still being streamed to that client, the frame waits its turn."""
        if client_id not in self.sockets:
            return False
        if client_id in self._streams:
            self._after_stream(client_id, self._write_frame, client_id, text, kind)
            return True
        return self._write_frame(client_id, text, kind) is not None

    def _write_frame(self, client_id: str, text: str, kind: str | None) -> Any:
        """Write one frame now: the write's Future (resolved once flushed), or None if that client is gone."""
        sock = self.sockets.get(client_id)
        if sock is None:
            return None
        try:
            flushed = sock.write_message(text)
        except WebSocketClosedError:
            return None
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        sock.client.count_out(size)
        self._publish_message(sock.client, "out", kind, size, text)
        return flushed

    def send_large(self, client_id: str, message: dict[str, Any]) -> bool:
        """Send a message of any size: as chunk frames (wire/chunks.py) when it is too long for one."""
        return self.send_encoded(client_id, protocol.encode(message), message["type"])

    def send_encoded(self, client_id: str, text: str, kind: str, planned: chunks.Plan | None = None) -> bool:
        """Send a message already encoded by protocol.encode, of any size; False if that client is gone. A long
        one is streamed: each chunk frame is made and written only once the previous one has been flushed, so
        the server holds the text and one frame, not a chunked copy of it in the socket's write buffer (the
        same text can go to several clients this way). Frames sent meanwhile to that client follow it. `planned`:
        the text's chunks.plan, made off the loop (chunks.prepare); without it, the cuts are worked out here."""
        if client_id not in self.sockets:
            return False
        if planned is None:
            if chunks.fits(text):
                return self.send_text(client_id, text, kind)
            planned = chunks.plan(text)
        self._after_stream(client_id, self._stream, client_id, text, planned)
        return True

    def _after_stream(self, client_id: str, write: Callable[..., Any], *args: Any) -> None:
        """Run `write(*args)` (a frame or a whole stream) once this client's earlier streams are written."""
        before = self._streams.get(client_id)

        async def in_turn() -> None:
            if before is not None:
                await asyncio.wait([before])
            done = write(*args)
            if asyncio.isfuture(done) or asyncio.iscoroutine(done):
                try:
                    await done
                except WebSocketClosedError:
                    pass

        task = asyncio.ensure_future(in_turn())
        self._streams[client_id] = task
        task.add_done_callback(lambda t: self._streams.get(client_id) is t and self._streams.pop(client_id, None))

    async def _stream(self, client_id: str, text: str, planned: chunks.Plan) -> None:
        for frame in chunks.encoded_frames(text, planned=planned):
            flushed = self._write_frame(client_id, frame, "chunk")
            if flushed is None:
                return
            try:  # shielded: a timeout must not cancel Tornado's own write future (an asyncio error, logged)
                await asyncio.wait_for(asyncio.shield(flushed), self.stall_seconds)
            except asyncio.TimeoutError:  # it reads nothing: its half transfer expires on its side
                self.log("warning", f"{client_id} read no chunk for {self.stall_seconds:g} s: transfer abandoned",
                         client_id)
                return

    def election_nodes(self, role: str) -> list[NodeRef]:
        """Connected nodes of `role` that joined with the token and a signed hello."""
        return [node for cid, node in self.auth.identities.items() if node.role == role and cid in self.sockets]

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

    async def roll_call(self, timeout: float) -> dict[str, Any]:
        """Ask every connected mixer to answer (docs/protocol.md, Roll call); wait for all replies or the timeout,
        and say who did not answer. Nothing is mixed: the election cascade is `election.mix`."""
        request_id = secrets.token_hex(8)
        pending = PendingRequest(request_id, [])
        self._pending[request_id] = pending
        try:
            sent_to = self.broadcast({"type": "roll_call", "request_id": request_id}, self.mixers())
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
        self.liveness.stop()
        self._stall_check.stop()
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

    # --- traffic events and throttled stats events ----------------------------------------------------

    def _publish_message(self, info: ClientInfo, direction: str, kind: str | None, size: int, frame) -> None:
        if self.channel.wanted("message"):  # masking a 256 KB chunk frame for no observer costs ~1 ms
            data = {"direction": direction, "type": kind, "size": size, "text": protocol.loggable(frame, self.secrets)}
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

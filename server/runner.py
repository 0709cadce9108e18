"""`ServerRunner`: the whole server (websockets + Flask on one port) on a worker thread with its own loop.

Start, stop and restart may be called from any thread (the GUI's, a test's). The listening socket is bound
on the caller's thread, so a busy port raises OSError right there and port 0 is readable at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import ssl
import threading
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

from mixscope.engine import LocalEngine, open_engine
from mixscope.server import bridge, token_file
from mixscope.server.admin_jobs import close_jobs
from mixscope.server.board import Board
from mixscope.server.election.coordinator import Coordinator
from mixscope.server.errors import BridgeError, ServerUnavailable
from mixscope.server.executors import MAP_BATCHES, Executors, process_pool
from mixscope.server.hosts import HostPolicy
from mixscope.server.hub import Hub
from mixscope.server.ratelimit import BallotLimits, TokenBucketLimiter
from mixscope.server.registry import ClientRegistry
from mixscope.server.views import WebContext
from mixscope.server.webapp import create_flask_app, create_tornado_app
from mixscope.wire.chunks import STALL_SECONDS
from mixscope.wire.events import EventChannel

# Inbound websocket frames per client: far above any node (a 10,000-ciphertext answer is ~20 chunk frames;
# progress is a few per second) and the seed's clients, far below a flood.
MESSAGE_RATE, MESSAGE_BURST = 1_000.0, 2_000.0
# A TCP connection that sends no complete request head for this long is closed (slow or silent clients);
# a websocket that has not said hello by then is closed too (Hub).
IDLE_SECONDS = 30.0


class ServerRunner:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, channel: EventChannel | None = None,
                 data_dir: str | None = None, *, ping_interval: float = 5.0, ping_timeout: float | None = None,
                 ballot_limits: BallotLimits | None = None, tls: ssl.SSLContext | None = None,
                 message_rate: float = MESSAGE_RATE, message_burst: float = MESSAGE_BURST,
                 allowed_hosts: tuple[str, ...] = (), idle_seconds: float = IDLE_SECONDS,
                 stall_seconds: float = STALL_SECONDS, cluster: str | None = None):
        self.host = host
        self.cluster = cluster  # engine/: a Dask scheduler (or local:N) for the proof work; None: the local pool
        self.engine = None
        self.hosts = HostPolicy(host, allowed_hosts)  # Host/Origin allow-list (server/hosts.py)
        self.idle_seconds = idle_seconds
        self.stall_seconds = stall_seconds  # a chunk transfer with no chunk this long is dropped (wire/chunks.py)
        self.port = port
        self.channel = channel or EventChannel()
        self.data_dir = data_dir
        self.ballot_limits = ballot_limits  # per-address / per-voter ballot rate limits (server/ratelimit.py)
        self.tls = tls  # wire/tls.server_context(): https and wss instead of http and ws
        self.message_rate, self.message_burst = message_rate, message_burst  # per websocket client; rate 0: none
        self._board: Board | None = None
        self._board_lock = threading.Lock()
        # Pings also measure rtt. A client that stops answering is cut within ~2 intervals + timeout (Hub).
        self.ping_interval = ping_interval
        self.ping_timeout = ping_interval if ping_timeout is None else ping_timeout
        # Hex, not urlsafe base64: a token that starts with "-" reads as an option on a command line
        # (`mixscope node --join-token -x…` failed one time in 64).
        self._tokens: dict[str, str] = {}  # admin and join tokens, kept beside the board (server/token_file.py)
        self.registry = ClientRegistry()  # outlives restarts, so client ids never repeat
        self.running = False
        self._lifecycle = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: IOLoop | None = None
        self._hub: Hub | None = None
        self._stop_requested: asyncio.Event | None = None
        self._calls_lock = threading.Lock()
        self._calls: set[concurrent.futures.Future] = set()

    @property
    def board(self) -> Board:
        """The bulletin board of `data_dir` (None: the per-user default), opened on first use and kept for the
        runner's whole life, restarts included: one Board per data dir."""
        with self._board_lock:
            if self._board is None:
                self._board = Board(data_dir=self.data_dir)
            return self._board

    @property
    def admin_token(self) -> str:
        """The admin token, kept (mode 0600) beside the board: a restarted server keeps it, so attached panels
        reconnect and scripts' tokens stay valid."""
        return self._kept_token(token_file.ADMIN_TOKEN)

    @property
    def join_token(self) -> str:
        """The nodes' join token, kept (mode 0600) beside the board, so a restarted server lets its nodes back in."""
        return self._kept_token(token_file.JOIN_TOKEN)

    def _kept_token(self, name: str) -> str:
        """The token file `name` beside the board, read (or made) on first use."""
        with self._board_lock:
            token = self._tokens.get(name)
        if token is None:
            token = token_file.load_or_create(self.board.path.parent, name)
            with self._board_lock:
                self._tokens[name] = token
        return token

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self._url_host()}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self._url_host()}:{self.port}/ws"

    def _url_host(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        try:
            return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
        except ValueError:
            return host  # a host name

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self, timeout: float = 10) -> None:
        with self._lifecycle:
            if self.running:
                return
            self.board  # open (or fail on) the board before anything listens
            self.admin_token  # and read (or fail on) the token file beside it
            sockets = bind_sockets(self.port, address=self.host)
            self.port = sockets[0].getsockname()[1]
            ready = threading.Event()
            failure: list[BaseException] = []
            self._thread = threading.Thread(target=self._run, args=(sockets, ready, failure),
                                            name=f"mixscope-server-{self.port}", daemon=True)
            self._thread.start()
            if not ready.wait(timeout):
                raise RuntimeError(f"server did not start within {timeout} s")
            if failure:
                self._thread.join(timeout)
                raise failure[0]

    def stop(self, timeout: float = 10) -> None:
        with self._lifecycle:
            if not self.running:
                return
            with self._calls_lock:
                self.running = False  # from here on, call() refuses
            loop, stop_requested, thread = self._loop, self._stop_requested, self._thread
            if loop is not None and stop_requested is not None:  # None: the server thread has ended already
                loop.add_callback(stop_requested.set)
            if thread is not None:
                thread.join(timeout)
            if thread is not None and thread.is_alive():
                raise RuntimeError(f"server thread did not stop within {timeout} s")
            self._thread = None
            if self._board is not None:
                self._board.checkpoint()  # the database file alone now holds everything (restart and quit alike)

    def close(self) -> None:
        """Stop and close the board (checkpointed; its -wal and -shm files go): the end of the runner's life."""
        self.stop()
        with self._board_lock:
            board, self._board = self._board, None
        if board is not None:
            board.close()

    def restart(self) -> None:
        self.stop()
        self.start()  # self.port now holds the port it got, so nodes find it again

    def _log(self, level: str, text: str) -> None:
        self.channel.publish("log", {"level": level, "text": text})

    def cluster_info(self) -> dict[str, Any] | None:
        """The cluster engine's state (engine/cluster.py), or None when the server works on its local pool."""
        engine = self.engine
        return engine.info() if engine is not None and engine.kind == "cluster" else None

    # --- the bridge ---------------------------------------------------------------------------------------

    def call(self, action: str, args: dict[str, Any] | None = None) -> concurrent.futures.Future:
        """Run bridge action `action` on the server loop; the Future gives its dict or raises BridgeError."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            args = bridge.check_call(action, args)
        except BridgeError as exc:
            future.set_exception(exc)
            return future
        with self._calls_lock:
            if not self.running:
                future.set_exception(ServerUnavailable("server not running"))
                return future
            self._calls.add(future)
        future.add_done_callback(self._forget_call)
        loop = self._loop
        if loop is None:  # the server thread ended on its own
            future.set_exception(BridgeError("server not running"))
            return future
        loop.add_callback(bridge.dispatch, self._hub, action, args, future)
        return future

    def _forget_call(self, future: concurrent.futures.Future) -> None:
        with self._calls_lock:
            self._calls.discard(future)

    # --- the worker thread --------------------------------------------------------------------------------

    def _run(self, sockets, ready: threading.Event, failure: list[BaseException]) -> None:
        # Proof checks, decryption and record verification: never on the loop. One Executors object per start
        # (server/executors.py): the hub, the coordinator, publishing and the Flask views all use these.
        pool = process_pool()
        engine = open_engine(self.cluster, LocalEngine(pool, batches=MAP_BATCHES), self.channel.publish,
                             self._log, background=True) if self.cluster else None
        self.engine = engine
        executors = Executors(pool, engine)
        try:
            asyncio.run(self._serve(sockets, executors, ready))
        except BaseException as exc:  # startup failure: hand it to start(); later failures are logged
            if not ready.is_set():
                failure.append(exc)
                ready.set()
            else:
                self.channel.publish("log", {"level": "error", "text": f"server loop failed: {exc!r}"})
        finally:
            for sock in sockets:
                sock.close()
            with self._calls_lock:  # calls the loop never got to: fail them rather than leave callers hanging
                orphans, self._calls = list(self._calls), set()
            for future in orphans:
                if not future.done():
                    future.set_exception(ServerUnavailable("server stopped"))
            executors.shutdown()
            self._loop = self._hub = self._stop_requested = None
            self.channel.publish("server.stopped", {})

    async def _serve(self, sockets, executors: Executors, ready: threading.Event) -> None:
        self._loop = IOLoop.current()
        self._stop_requested = asyncio.Event()
        self._hub = Hub(self.channel, self.registry, self.ping_interval, ping_timeout=self.ping_timeout,
                        board=self.board, join_token=self.join_token, executors=executors,
                        hello_timeout=self.idle_seconds, stall_seconds=self.stall_seconds,
                        message_limit=TokenBucketLimiter(self.message_rate, self.message_burst)
                        if self.message_rate else None)
        # The runner builds the coordinator and attaches it: the hub never imports the election package's driver.
        # The coordinator reaches the nodes through the hub's narrow link (server/election/link.py).
        election = Coordinator(self._hub, self.board, executors, self.board.path.parent)
        self._hub.election = election
        self._hub.secrets += (self.admin_token,)  # never shown in traffic or logs, even inside a bad frame
        self._hub.admin_token = self.admin_token  # the admin event stream's check (server/admin_events.py)
        web = WebContext(call=self.call, admin_token=self.admin_token, board=self.board, channel=self.channel,
                         pool=executors.pool, join_token=self.join_token)
        flask_app = create_flask_app(web, self.ballot_limits)
        app = create_tornado_app(self._hub, flask_app, executors.web, self.hosts)
        # idle_connection_timeout also bounds the wait for a request's head; body_timeout the wait for its body
        http = HTTPServer(app, xheaders=False, ssl_options=self.tls, idle_connection_timeout=self.idle_seconds,
                          body_timeout=max(self.idle_seconds, 60.0))
        http.add_sockets(sockets)
        self._hub.start()
        self.channel.publish("server.started", {"url": self.url, "ws_url": self.ws_url, "host": self.host,
                                                "port": self.port})
        with self._calls_lock:
            self.running = True
        ready.set()
        await self._stop_requested.wait()
        close_jobs(flask_app.extensions)  # its progress subscription: the channel outlives this start
        http.stop()
        election.close()  # a step cut short now records nothing more, and resumes after a restart
        executors.stop_election_work()  # never wait for a long proof check here
        await self._hub.close_all()
        await http.close_all_connections()

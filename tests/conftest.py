"""Shared fixtures: a real server on an ephemeral loopback port, real websocket clients, real node processes.

- `server`: a started `ServerRunner` (port 0, short ping interval so rtt shows up fast); stopped at teardown.
- `ws_client`: factory `ws_client(url=None, hello=None) -> websocket.WebSocket` (real websocket-client
  connection, closed at teardown). `hello=("name", "role")` sends the hello and reads the welcome reply.
  websocket-client answers pings only inside recv(): a test client that reads nothing for more than ~1.5 s
  is dropped by the server fixture's 0.5 s ping bound (that is the dead-client rule working).
- `spawn_node`: factory `spawn_node(name, role="mixer", url=None) -> NodeProcess` running
  `python -u -m mixscope node ...` as a real child; every node is stopped (SIGTERM, then kill) at teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

from mixscope.gui.display import use_offscreen_without_display  # noqa: E402  (Qt-free)

# Before Qt loads: on a machine without a display, Qt's offscreen platform (inherited by every child too).
use_offscreen_without_display()


class NodeProcess:
    """A `mixscope node` child whose JSON status lines are collected by a reader thread."""

    def __init__(self, args: list[str]):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.lines: list[dict] = []  # every status line seen so far (also the ones wait_for consumed)
        self.errors: list[str] = []  # stderr, drained so a chatty node never blocks on a full pipe
        self._queue: queue.Queue[dict] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read_errors(self) -> None:
        for raw in self.proc.stderr:
            self.errors.append(raw.rstrip("\n"))

    def _read(self) -> None:
        for raw in self.proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"event": "unparsed", "raw": raw.rstrip("\n")}
            self.lines.append(line)
            self._queue.put(line)

    def wait_for(self, event: str, timeout: float = 30.0, **match) -> dict:
        """Wait for the next status line with this `event` (and matching fields); fail the test if none."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"node never reported {event!r} {match or ''}; saw {self.lines}; "
                                     f"exit code {self.proc.poll()}; stderr {self.errors[-20:]}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line.get("event") == event and all(line.get(k) == v for k, v in match.items()):
                return line

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@pytest.fixture(autouse=True, scope="session")
def _private_data_home(tmp_path_factory):
    # A runner built without data_dir opens the per-user board: keep every test's away from the real one.
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    yield
    mp.undo()


@contextlib.contextmanager
def running_server(tmp_path, **options):
    """A real ServerRunner on an ephemeral loopback port with its board under tmp_path, stopped afterwards."""
    from mixscope.server.runner import ServerRunner

    runner = ServerRunner(port=0, data_dir=str(tmp_path / "data"), **options)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
def server(tmp_path):
    with running_server(tmp_path, ping_interval=0.5) as runner:
        yield runner


@pytest.fixture
def ws_client(server):
    import websocket

    opened = []

    def connect(url: str | None = None, hello: tuple[str, str] | None = None, timeout: float = 10.0):
        ws = websocket.create_connection(url or server.ws_url, timeout=timeout)
        opened.append(ws)
        if hello:
            name, role = hello
            ws.send(json.dumps({"type": "hello", "name": name, "role": role}))
            reply = json.loads(ws.recv())
            assert reply["type"] == "welcome", reply
        return ws

    yield connect
    for ws in opened:
        try:
            ws.close()
        except Exception:
            pass


@pytest.fixture
def spawn_node(request):
    """Nodes connect to `url`, or to the `server` fixture's websocket when no url is given."""
    nodes: list[NodeProcess] = []

    def spawn(name: str, role: str = "mixer", url: str | None = None) -> NodeProcess:
        url = url or request.getfixturevalue("server").ws_url
        args = [sys.executable, "-u", "-m", "mixscope", "node", "--url", url,
                "--name", name, "--role", role]
        node = NodeProcess(args)
        nodes.append(node)
        return node

    yield spawn
    for node in nodes:
        node.terminate()
        for stream in (node.proc.stdout, node.proc.stderr):
            stream.close()


@pytest.fixture(params=["native", "sodium"], scope="module")
def backend(request):
    """Runs tests once per backend of group.multi_mul (in this process, and through MIXSCOPE_BACKEND in the
    processes they start). The native run is skipped where the C extension was not built. Module-scoped,
    so a module's tests run as one group per backend."""
    from mixscope.mixnet import group

    if request.param == "native" and not group.native_available():
        pytest.skip("the native backend is not built in this install")
    previous, previous_env = group.backend(), os.environ.get("MIXSCOPE_BACKEND")
    group.use_backend(request.param)
    os.environ["MIXSCOPE_BACKEND"] = request.param
    yield request.param
    group.use_backend(previous)
    if previous_env is None:
        os.environ.pop("MIXSCOPE_BACKEND", None)
    else:
        os.environ["MIXSCOPE_BACKEND"] = previous_env

"""ServerRunner lifecycle from another thread: start, stop, restart leave no thread or socket behind."""

import socket
import threading
import urllib.request

import pytest
import websocket

from mixscope.server.bridge import BridgeError
from mixscope.server.runner import ServerRunner
from mixscope.wire.events import EventChannel


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


def test_port_zero_gives_a_real_port_and_urls(tmp_path):
    runner = ServerRunner()
    runner.start()
    try:
        assert runner.running and runner.port > 0
        assert runner.url == f"http://127.0.0.1:{runner.port}"
        assert runner.ws_url == f"ws://127.0.0.1:{runner.port}/ws"
        assert get(runner.url + "/") == 200
        assert runner.admin_token != runner.join_token and len(runner.admin_token) >= 32
        # The admin token is kept beside the board: the same data directory keeps it, another one has its own.
        assert ServerRunner().admin_token == runner.admin_token
        assert ServerRunner(data_dir=str(tmp_path / "other")).admin_token != runner.admin_token
    finally:
        runner.stop()


@pytest.mark.slow
def test_stop_leaves_no_thread_or_socket_and_is_idempotent():
    before = {t.ident for t in threading.enumerate()}
    channel = EventChannel()
    events = channel.subscribe(kinds=["server.started", "server.stopped"])
    runner = ServerRunner(channel=channel)
    runner.start()
    port = runner.port
    assert not port_is_free(port)
    get(runner.url + "/")  # make the Flask executor spawn a thread too
    idle = websocket.create_connection(runner.ws_url, timeout=5)  # a client that never reads its close frame
    assert len(threading.enumerate()) > len(before)
    runner.stop()
    idle.close()
    runner.stop()
    assert not runner.running
    assert {t.ident for t in threading.enumerate()} <= before  # none left (one of an earlier test may have ended)
    assert port_is_free(port)
    kinds = [e.kind for e in events.drain()]
    assert kinds == ["server.started", "server.stopped"]


def test_restart_keeps_the_port_it_got():
    runner = ServerRunner()
    runner.start()
    try:
        port = runner.port
        runner.restart()
        assert runner.running and runner.port == port
        assert get(runner.url + "/") == 200
    finally:
        runner.stop()


def test_start_stop_from_a_worker_thread():
    runner = ServerRunner()
    errors = []

    def cycle():
        try:
            for _ in range(3):
                runner.start()
                get(runner.url + "/")
                runner.stop()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=cycle)
    thread.start()
    thread.join(30)
    assert not errors and not runner.running


def test_busy_port_raises_oserror_at_start():
    holder = ServerRunner()
    holder.start()
    try:
        with pytest.raises(OSError):
            ServerRunner(port=holder.port).start()
    finally:
        holder.stop()


def test_bridge_refuses_when_not_running_or_unknown():
    runner = ServerRunner()
    with pytest.raises(BridgeError, match="not running"):
        runner.call("clients").result(1)
    runner.start()
    try:
        with pytest.raises(BridgeError, match="unknown action"):
            runner.call("self_destruct").result(1)
        with pytest.raises(BridgeError, match="args"):
            runner.call("clients", ["not", "a", "dict"]).result(1)
        assert runner.call("clients").result(5) == {"clients": []}
    finally:
        runner.stop()

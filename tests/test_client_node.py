"""`mixscope node` as a real child process against a real server: hello, requests, reconnects, signals."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mixscope.client.backoff import Backoff

ROOT = Path(__file__).resolve().parents[1]


def test_node_says_hello_and_shows_up_with_name_role_and_rtt(server, spawn_node):
    node = spawn_node("trustee-1", role="trustee")
    client_id = node.wait_for("welcomed")["client_id"]
    assert [line["event"] for line in node.lines[:4]] == ["starting", "connected", "hello_sent", "welcomed"]
    assert all(isinstance(line["time"], float) for line in node.lines)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the node answers server pings on its receive thread
        (me,) = server.call("clients").result(5)["clients"]
        if me["rtt_ms"] is not None:
            break
        time.sleep(0.05)
    assert me["id"] == client_id and me["name"] == "trustee-1" and me["role"] == "trustee"
    assert me["rtt_ms"] is not None and me["rtt_ms"] > 0


def test_node_rejects_a_message_it_does_not_understand(server, spawn_node):
    events = server.channel.subscribe(kinds=["log"])
    node = spawn_node("m1")
    client_id = node.wait_for("welcomed")["client_id"]
    server.call("send", {"client_id": client_id, "message": {"type": "dance"}}).result(5)
    line = node.wait_for("error")
    assert line["reason"] == "unknown_type"
    assert events.wait_for(lambda e: e.client_id == client_id and "reported an error" in e.data["text"])
    # and it still answers the next request
    result = server.call("roll_call", {"timeout": 5}).result(10)
    assert list(result["replies"]) == [client_id]


@pytest.mark.slow
def test_nodes_reconnect_after_a_restart_on_the_same_port(server, spawn_node):
    nodes = [spawn_node(f"m{i}") for i in range(2)]
    first_ids = {node.wait_for("welcomed")["client_id"] for node in nodes}
    port = server.port
    server.stop()
    for node in nodes:
        assert node.wait_for("disconnected")["code"] == 1001
        node.wait_for("reconnecting")
    time.sleep(0.5)  # let a few reconnect attempts fail while the server is down
    server.start()
    assert server.port == port
    second_ids = {node.wait_for("welcomed", timeout=15)["client_id"] for node in nodes}
    assert second_ids.isdisjoint(first_ids)
    result = server.call("roll_call", {"timeout": 5}).result(10)
    assert set(result["replies"]) == second_ids


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_connected_node_cleanly(server, spawn_node, sig):
    events = server.channel.subscribe(kinds=["client.disconnected"])
    node = spawn_node("m1")
    client_id = node.wait_for("welcomed")["client_id"]
    assert node.terminate(sig, timeout=5) == 0
    assert node.lines[-1]["event"] == "stopped"
    assert events.wait_for(lambda e: e.client_id == client_id)  # it said goodbye to the server


def test_sigterm_while_the_server_is_down_exits_zero(server, spawn_node):
    node = spawn_node("m1")
    node.wait_for("welcomed")
    server.stop()
    node.wait_for("reconnecting")
    assert node.terminate(timeout=5) == 0
    assert node.lines[-1]["event"] == "stopped"


def test_a_url_that_is_not_a_websocket_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "mixscope", "node", "--url", "http://x", "--name", "n"],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "ws://" in result.stderr and "Traceback" not in result.stderr


def test_backoff_grows_is_capped_jittered_and_resets():
    backoff = Backoff(first=0.1, cap=1.0, factor=2.0)
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [min(1.0, 0.1 * 2 ** i) for i in range(8)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings))
    assert max(delays) <= 1.0 and delays[-1] >= 0.5
    assert len({round(Backoff(0.1, 1.0).next_delay(), 9) for _ in range(20)}) > 1  # jitter
    backoff.reset()
    assert backoff.next_delay() <= 0.1


@pytest.mark.slow
def test_a_frozen_node_is_dropped_within_the_ping_bound_and_comes_back(server, spawn_node):
    # the fixture's server pings every 0.5 s and gives 0.5 s for the pong: a frozen node is gone within ~1 s
    events = server.channel.subscribe(kinds=["client.disconnected"])
    node = spawn_node("sleepy")
    client_id = node.wait_for("welcomed")["client_id"]
    frozen_at = time.monotonic()
    node.proc.send_signal(signal.SIGSTOP)
    try:
        gone = events.wait_for(lambda e: e.client_id == client_id, timeout=5)
        assert gone is not None and time.monotonic() - frozen_at < 3
        assert server.call("clients").result(5)["clients"] == []
    finally:
        node.proc.send_signal(signal.SIGCONT)
    assert node.wait_for("welcomed", timeout=15)["client_id"] != client_id  # it notices, reconnects, rejoins


def test_a_text_frame_that_is_not_utf8_gets_an_error_reply_and_the_node_carries_on(spawn_node):
    """The node skips websocket-client's pure-Python UTF-8 check and decodes strictly itself: a bad text
    frame is answered with a typed error, and the next frame is read as usual."""
    import asyncio
    import json
    import threading

    import tornado.httpserver
    import tornado.netutil
    import tornado.web
    import tornado.websocket

    replies: list[dict] = []
    ready, got_reply = threading.Event(), threading.Event()
    state: dict = {}

    class Raw(tornado.websocket.WebSocketHandler):
        def open(self):
            self.write_message(b'{"type": "welcome", "client_id": "\xff"}')  # text opcode, not UTF-8
            self.write_message(json.dumps({"type": "welcome", "client_id": "c-1"}))

        def on_message(self, message):
            parsed = json.loads(message)
            if parsed.get("type") == "error":
                replies.append(parsed)
                got_reply.set()

    def serve():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        sockets = tornado.netutil.bind_sockets(0, address="127.0.0.1")
        server = tornado.httpserver.HTTPServer(tornado.web.Application([("/ws", Raw)]))
        server.add_sockets(sockets)
        state.update(port=sockets[0].getsockname()[1], loop=loop, server=server)
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    node = spawn_node("m1", url=f"ws://127.0.0.1:{state['port']}/ws")
    line = node.wait_for("error")
    assert line["reason"] == "not_json" and "not valid UTF-8" in line["detail"]
    assert node.wait_for("welcomed")["client_id"] == "c-1"
    assert got_reply.wait(5) and replies[0]["reason"] == "not_json"
    state["loop"].call_soon_threadsafe(state["server"].stop)
    state["loop"].call_soon_threadsafe(state["loop"].stop)

"""The admin event stream: authenticated, the same events as the in-process channel, bounded per observer
(a slow observer loses the oldest events, counted, and nobody else notices), and a reader that reconnects."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import websocket

from mixscope.client.admin import AdminClient, EventStream
from mixscope.server import admin_events


def events_url(server) -> str:
    return server.ws_url.replace("/ws", "/api/admin/events")


def connect(server, token=None, **options):
    return websocket.create_connection(events_url(server), timeout=10,
                                       header=[f"Authorization: Bearer {token or server.admin_token}"], **options)


def frames(ws, until, timeout=10.0):
    """Events from the stream until `until(events)` holds."""
    got, deadline = [], time.monotonic() + timeout
    while not until(got):
        assert time.monotonic() < deadline, got[-5:]
        message = json.loads(ws.recv())
        if message["type"] == "events":
            got.extend(message["events"])
    return got


def test_a_wrong_or_missing_token_is_refused(server):
    for header in ([], ["Authorization: Bearer nope"], [f"Authorization: Basic {server.admin_token}"]):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(events_url(server), timeout=5, header=header)
        assert refused.value.status_code == 401


def test_observers_are_bounded_in_number(server, monkeypatch):
    monkeypatch.setattr(admin_events.AdminEvents, "observers", 0)
    monkeypatch.setattr(admin_events, "MAX_OBSERVERS", 1)
    first = connect(server)
    assert json.loads(first.recv())["type"] == "snapshot"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(server)
    assert refused.value.status_code == 503
    first.close()
    deadline = time.monotonic() + 10
    while admin_events.AdminEvents.observers:  # the pump lets its subscription go within a tick
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = connect(server)
    assert json.loads(second.recv())["type"] == "snapshot"
    second.close()


def test_the_stream_carries_the_channels_events(server, ws_client):
    local = server.channel.subscribe()
    ws = connect(server)
    try:
        snapshot = json.loads(ws.recv())
        assert snapshot["type"] == "snapshot" and snapshot["clients"] == []
        node = ws_client(hello=("probe", "mixer"))
        server.call("broadcast", {"message": {"type": "note"}}).result(10)
        remote = frames(ws, lambda got: any(e["kind"] == "bridge.result" for e in got))
        mine = [e for e in local.drain() if remote[0]["seq"] <= e.seq <= remote[-1]["seq"]]  # since it subscribed
        assert [(e["kind"], e["seq"], e["client_id"]) for e in remote] == [(e.kind, e.seq, e.client_id)
                                                                             for e in mine]
        assert {"client.connected", "client.updated", "message", "bridge.called"} <= {e["kind"] for e in remote}
        node.close()
    finally:
        ws.close()
        local.close()


@pytest.mark.slow
def test_a_slow_observer_drops_its_oldest_events_and_counts_them(server, monkeypatch):
    fast = connect(server)  # the default queue: room for everything below
    assert json.loads(fast.recv())["type"] == "snapshot"
    monkeypatch.setattr(admin_events, "MAX_QUEUE", 100)
    slow = connect(server, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    assert json.loads(slow.recv())["type"] == "snapshot"
    published = 3000
    first = server.channel.publish("log", {"level": "info", "text": "start"}).seq
    for k in range(published):
        server.channel.publish("log", {"level": "info", "text": f"{k} " + "x" * 2000})
    last = server.channel.publish("log", {"level": "info", "text": "end"}).seq
    # the fast observer keeps up (its reader drains as the pump sends) and misses nothing
    got = [e for e in frames(fast, lambda got: any(e["seq"] == last for e in got), timeout=60) if e["seq"] >= first]
    assert [e["seq"] for e in got] == list(range(first, last + 1))
    # the server answers others meanwhile
    assert server.call("clients", {}).result(10) == {"clients": []}
    # the slow one, read at last: oldest dropped and counted, never reordered, the newest kept
    seen, dropped = [], 0
    while not seen or seen[-1] != last:
        message = json.loads(slow.recv())
        seen.extend(e["seq"] for e in message["events"] if e["seq"] >= first)
        dropped = message["dropped"]
    assert dropped > 0 and seen == sorted(seen) and len(seen) + dropped >= last - first + 1
    slow.close()
    fast.close()


@pytest.mark.slow
def test_the_reader_shows_a_dropped_connection_and_reconnects(tmp_path):
    from tests.conftest import running_server

    states, events = [], []
    changed = threading.Condition()

    def on_state(state, detail):
        with changed:
            states.append(state)
            changed.notify_all()

    def wait_state(state, count=1):
        with changed:
            assert changed.wait_for(lambda: states.count(state) >= count, timeout=30), states

    with running_server(tmp_path) as server:
        stream = EventStream(AdminClient(server.url, server.admin_token), events.append, on_state)
        stream.start()
        try:
            wait_state("connected")
            server.stop()
            wait_state("disconnected")
            server.start()  # the same port
            wait_state("connected", 2)
            server.channel.publish("log", {"level": "info", "text": "after the reconnect"})
            deadline = time.monotonic() + 10
            while not any(e["data"].get("text") == "after the reconnect" for e in events):
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            stream.stop()
    bad = []
    with running_server(tmp_path / "other") as server:
        stream = EventStream(AdminClient(server.url, "0" * 64), events.append, lambda s, d: bad.append(s))
        stream.start()
        stream._thread.join(15)
        assert bad[-1] == "unauthorized"


@pytest.mark.slow
def test_an_observer_that_stops_answering_pings_frees_its_place(server, monkeypatch):
    """A client that vanished without closing (it never reads again, so never answers a ping) is closed,
    and its place among the bounded observers is free again."""
    monkeypatch.setattr(admin_events.AdminEvents, "observers", 0)
    monkeypatch.setattr(admin_events, "MAX_OBSERVERS", 1)
    monkeypatch.setattr(admin_events, "PING_INTERVAL", 0.3)
    silent = connect(server)
    assert json.loads(silent.recv())["type"] == "snapshot"  # and never reads again
    try:
        deadline = time.monotonic() + 30
        while admin_events.AdminEvents.observers:
            assert time.monotonic() < deadline, "the silent observer still holds its place"
            time.sleep(0.05)
        second = connect(server)
        assert json.loads(second.recv())["type"] == "snapshot"
        second.close()
    finally:
        silent.close()

"""The panel's table models on their own: Qt's model tester, batching, the row cap, filter and pause."""

from __future__ import annotations

import json

from PySide6.QtCore import QModelIndex

from mixscope.gui.event_pump import EventPump
from mixscope.gui.models.clients import ClientsModel
from mixscope.gui.models.processes import ProcessesModel
from mixscope.gui.models.traffic import ROW_ROLE, TrafficFilter, TrafficModel
from mixscope.gui.process_manager import ProcessManager
from mixscope.wire.events import EventChannel


def snapshot(client_id: str, name: str, state: str = "connected", **extra) -> dict:
    return {"id": client_id, "peer": "127.0.0.1:5000", "role": "mixer", "name": name, "connected_at": 1.0,
            "last_seen": 2.0, "msgs_in": 1, "msgs_out": 2, "bytes_in": 30, "bytes_out": 4000,
            "rtt_ms": None, "state": state, **extra}


def publish_messages(channel: EventChannel, count: int, client_id: str = "c1", type_: str = "mixed") -> None:
    for i in range(count):
        text = json.dumps({"type": type_, "request_id": f"r{i}"})
        channel.publish("message", {"direction": "in", "type": type_, "size": len(text), "text": text}, client_id)


def test_traffic_model_passes_model_tester_while_rows_come_and_go(qtmodeltester):
    channel = EventChannel()
    pump = EventPump(channel)
    model = TrafficModel(max_rows=50)
    proxy = TrafficFilter()
    proxy.setSourceModel(model)
    pump.batch.connect(model.append_events)
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)
    publish_messages(channel, 30)
    assert pump.pump() == 30
    publish_messages(channel, 40, type_="hello")
    pump.pump()
    # Capped at 50: the 20 oldest were removed, the newest are last.
    assert model.rowCount() == 50 and model.total == 70
    assert model.row_at(49).type == "hello" and model.row_at(0).type == "mixed"
    assert model.data(model.index(0, 4)) == model.row_at(0).size
    qtmodeltester.check(model)
    pump.close()


def test_traffic_batch_larger_than_cap_keeps_the_newest():
    channel = EventChannel()
    model = TrafficModel(max_rows=10)
    sub = channel.subscribe()
    publish_messages(channel, 25)
    model.append_events(sub.drain())
    assert model.rowCount() == 10
    assert json.loads(model.row_at(9).text)["request_id"] == "r24"


def test_traffic_filter_matches_client_type_and_text():
    channel = EventChannel()
    sub = channel.subscribe()
    names = {"c1": "alice", "c2": "bob"}
    model = TrafficModel(client_name=lambda cid: names.get(cid, cid or ""))
    proxy = TrafficFilter()
    proxy.setSourceModel(model)
    publish_messages(channel, 3, "c1", "mixed")
    publish_messages(channel, 2, "c2", "hello")
    model.append_events(sub.drain())
    proxy.set_pattern("bob")
    assert proxy.rowCount() == 2
    proxy.set_pattern("MIXED")  # case-insensitive
    assert proxy.rowCount() == 3
    proxy.set_pattern('"r2"')  # frame text
    assert proxy.rowCount() == 1
    proxy.set_pattern("r[")  # half-typed regex: taken literally, no exception
    assert proxy.rowCount() == 0
    proxy.set_pattern("")
    assert proxy.rowCount() == 5
    row = proxy.data(proxy.index(0, 0), ROW_ROLE)
    assert json.loads(row.pretty()) == json.loads(row.text) and "\n" in row.pretty()


def test_traffic_pause_holds_rows_and_resume_appends_them():
    channel = EventChannel()
    sub = channel.subscribe()
    model = TrafficModel(max_rows=100)
    publish_messages(channel, 5)
    model.append_events(sub.drain())
    model.set_paused(True)
    publish_messages(channel, 7)
    model.append_events(sub.drain())
    assert model.rowCount() == 5 and model.held == 7 and model.total == 12
    model.set_paused(False)
    assert model.rowCount() == 12 and model.held == 0
    model.clear()
    assert model.rowCount() == 0


def test_clients_model_tracks_connect_update_disconnect_and_reconnect(qtmodeltester):
    channel = EventChannel()
    sub = channel.subscribe()
    model = ClientsModel()
    qtmodeltester.check(model)
    channel.publish("client.connected", {"client": snapshot("c1", "")})
    channel.publish("client.updated", {"client": snapshot("c1", "alice", rtt_ms=1.25)})
    channel.publish("client.connected", {"client": snapshot("c2", "bob")})
    model.apply_events(sub.drain())
    assert model.rowCount() == 2
    assert model.data(model.index(0, 0)) == "alice" and model.data(model.index(0, 8)) == "1.2"
    assert model.name_of("c2") == "bob" and model.name_of("zz") == "zz"
    channel.publish("client.disconnected", {"client": snapshot("c1", "alice"), "code": 1000, "reason": ""})
    model.apply_events(sub.drain())
    assert model.data(model.index(0, 2)) == "disconnected"
    # alice comes back with a new id, nameless until her hello: then her old row goes away.
    channel.publish("client.connected", {"client": snapshot("c3", "")})
    model.apply_events(sub.drain())
    assert model.rowCount() == 3
    channel.publish("client.updated", {"client": snapshot("c3", "alice")})
    model.apply_events(sub.drain())
    assert model.rowCount() == 2 and model.name_of("c3") == "alice" and model.name_of("c1") == "c1"
    assert {model.data(model.index(r, 2)) for r in range(2)} == {"connected"}
    channel.publish("server.stopped", {})
    model.apply_events(sub.drain())
    assert {model.data(model.index(r, 2)) for r in range(2)} == {"disconnected"}
    qtmodeltester.check(model)
    model.clear_disconnected()
    assert model.rowCount() == 0


def test_processes_model_passes_model_tester_with_a_real_child(qtbot, qtmodeltester):
    manager = ProcessManager(sample_ms=100)
    model = ProcessesModel(manager)
    qtmodeltester.check(model)
    # A URL nobody listens on: the node starts, then keeps retrying; we only need a live child here.
    [entry] = manager.spawn("ws://127.0.0.1:9/ws", 1, role="voter")
    assert model.rowCount() == 1 and model.data(model.index(0, 1)) == "voter-1"
    qtbot.waitUntil(lambda: entry.pid is not None, timeout=10_000)
    assert model.data(model.index(0, 0)) == entry.pid
    qtbot.waitUntil(lambda: entry.rss_bytes is not None, timeout=10_000)
    assert model.data(model.index(0, 6)).endswith("MiB")
    qtmodeltester.check(model)
    manager.kill(entry)
    qtbot.waitUntil(lambda: entry.state == "killed", timeout=10_000)
    assert model.data(model.index(0, 8)) == -9 and model.data(model.index(0, 0)) == entry.pid
    assert model.data(QModelIndex()) is None

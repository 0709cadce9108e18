"""The /ws endpoint with real websocket-client connections: registry, stats, rtt, bad input, the seed client."""

import json
import time

import pytest
import websocket

from mixscope.wire import protocol


def recv_json(ws) -> dict:
    return json.loads(ws.recv())


def clients_by_name(server) -> dict:
    return {c["name"]: c for c in server.call("clients").result(5)["clients"]}


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition never became true")


def test_the_seed_hello_world_client_gets_a_reply(server):
    # the blog post's client, verbatim in spirit: plain text, then wait for an answer
    ws = websocket.create_connection(server.ws_url, timeout=5)
    try:
        ws.send("Hello, World")
        reply = recv_json(ws)
        assert reply["type"] == "error" and reply["reason"] == protocol.NOT_JSON
        assert '"type"' in reply["detail"]  # tells the sender what the protocol wants
    finally:
        ws.close()


def test_registry_lists_names_roles_and_counts_traffic(server, ws_client):
    events = server.channel.subscribe()
    ws_client(hello=("mix-a", "mixer"))
    ws_client(hello=("trustee-b", "trustee"))
    bare = ws_client()  # connected, never said hello
    clients = server.call("clients").result(5)["clients"]
    assert len(clients) == 3
    by_name = {c["name"]: c for c in clients}
    assert by_name["mix-a"]["role"] == "mixer" and by_name["trustee-b"]["role"] == "trustee"
    assert by_name[None]["role"] is None
    hello_size = len(json.dumps({"type": "hello", "name": "mix-a", "role": "mixer"}))
    a = by_name["mix-a"]
    assert (a["msgs_in"], a["bytes_in"], a["msgs_out"]) == (1, hello_size, 1)  # hello in, welcome out
    assert a["peer"] == "127.0.0.1" and a["state"] == "connected" and a["connected_at"] <= a["last_seen"]

    bare.send('{"type": "hello", "name": "late", "role": "voter"}')
    assert recv_json(bare)["type"] == "welcome"
    updated = events.wait_for(lambda e: e.kind == "client.updated" and e.data["client"]["name"] == "late")
    assert updated.data["client"]["role"] == "voter"
    bare.close()
    gone = events.wait_for(lambda e: e.kind == "client.disconnected")
    assert gone.data["client"]["name"] == "late" and gone.data["client"]["state"] == "disconnected"
    assert set(clients_by_name(server)) == {"mix-a", "trustee-b"}


def test_every_frame_becomes_a_message_event_with_secrets_masked(server, ws_client):
    events = server.channel.subscribe(kinds=["message"])
    ws = ws_client(hello=("m", "mixer"))
    ws.send(json.dumps({"type": "error", "reason": "oops", "auth_token": "hunter2"}))
    seen = events.wait_for(lambda e: e.data["type"] == "error" and e.data["direction"] == "in")
    assert "hunter2" not in seen.data["text"] and '"***"' in seen.data["text"]
    assert seen.data["size"] == len(json.dumps({"type": "error", "reason": "oops", "auth_token": "hunter2"}))
    assert seen.client_id == clients_by_name(server)["m"]["id"]


def test_rtt_appears_after_a_ping(server, ws_client):
    ws = ws_client(hello=("pinger", "mixer"))
    # websocket-client answers pings only while it reads; read in short slices until the server has an rtt
    ws.settimeout(0.1)

    def rtt():
        try:
            ws.recv()
        except websocket.WebSocketTimeoutException:
            pass
        return clients_by_name(server)["pinger"]["rtt_ms"]

    value = wait_until(rtt, timeout=5)
    assert 0 < value < 1000


@pytest.mark.slow
def test_client_updated_is_throttled_not_per_message(server, ws_client):
    events = server.channel.subscribe(kinds=["client.updated"])
    ws = ws_client(hello=("chatty", "mixer"))
    events.drain()
    for i in range(200):
        ws.send(json.dumps({"type": "error", "reason": f"noise {i}"}))
    seen = []
    final = events.wait_for(lambda e: seen.append(e) or e.data["client"]["msgs_in"] == 201, timeout=3)
    assert final is not None  # a trailing update carries the final counts, even with no more traffic
    assert 1 <= len(seen) <= 4  # not one per message


@pytest.mark.parametrize("frame, reason", [
    ("not json at all", protocol.NOT_JSON),
    ('["a", "list"]', protocol.BAD_SHAPE),
    ('{"type": "hello", "name": "x", "role": "emperor"}', protocol.BAD_SHAPE),
    ('{"type": "teleport"}', protocol.UNKNOWN_TYPE),
    ("x" * (protocol.MAX_MESSAGE_BYTES + 1), protocol.TOO_BIG),
    (b"\x00binary", protocol.BINARY),
])
def test_bad_input_gets_a_typed_error_and_nobody_else_notices(server, ws_client, frame, reason):
    events = server.channel.subscribe(kinds=["log"])
    bystander = ws_client(hello=("bystander", "mixer"))
    offender = ws_client(hello=("offender", "mixer"))
    if isinstance(frame, bytes):
        offender.send_binary(frame)
    else:
        offender.send(frame)
    reply = recv_json(offender)
    assert reply == {"type": "error", "reason": reason, "detail": reply["detail"]} and reply["detail"]
    assert events.wait_for(lambda e: e.data["level"] == "warning" and reason in e.data["text"])
    # the offender's connection, the server and the other client all carry on
    offender.send('{"type": "hello", "name": "offender2", "role": "mixer"}')
    assert recv_json(offender)["type"] == "welcome"
    bystander.send("again not json")
    assert recv_json(bystander)["reason"] == protocol.NOT_JSON
    future = server.call("roll_call", {"timeout": 0.2})
    assert len(future.result(5)["sent_to"]) == 2


def test_a_frame_beyond_the_transport_limit_closes_only_that_connection(server, ws_client):
    # documented limit: past TRANSPORT_MAX_BYTES Tornado closes the connection (1009) instead of replying
    events = server.channel.subscribe(kinds=["client.disconnected"])
    bystander = ws_client(hello=("bystander", "mixer"))
    huge = ws_client(hello=("huge", "mixer"))
    with pytest.raises((websocket.WebSocketException, OSError)):
        huge.send("x" * (protocol.TRANSPORT_MAX_BYTES + 1))
        huge.recv()
    gone = events.wait_for(lambda e: e.data["client"]["name"] == "huge")
    assert gone is not None
    bystander.send("still there?")
    assert recv_json(bystander)["type"] == "error"
    assert set(clients_by_name(server)) == {"bystander"}


def test_a_server_bug_on_one_frame_is_an_error_reply_not_a_dead_connection(server, ws_client, monkeypatch):
    events = server.channel.subscribe(kinds=["log"])
    ws = ws_client(hello=("victim", "mixer"))
    original = server._hub.handlers["error"]

    def broken(info, message):
        if message["reason"] == "trigger":
            raise RuntimeError("simulated bug")
        return original(info, message)

    # a stand-in for a bug in a handler of the hub's dispatch table; nothing else is faked
    monkeypatch.setitem(server._hub.handlers, "error", broken)
    ws.send('{"type": "error", "reason": "trigger"}')
    assert recv_json(ws) == {"type": "error", "reason": "internal_error", "detail": "the server failed on this frame"}
    assert events.wait_for(lambda e: e.data["level"] == "error" and "simulated bug" in e.data["text"])
    ws.send("still here")
    assert recv_json(ws)["reason"] == protocol.NOT_JSON

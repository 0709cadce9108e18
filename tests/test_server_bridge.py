"""The bridge and the Flask side: runner.call and /over reach every real node process; admin auth; JSON errors."""

import json
import urllib.error
import urllib.request

import pytest

from mixscope.server.bridge import BridgeError


def http(server, path, method="GET", token=None, body=None):
    """(status, parsed JSON or text) for one real HTTP request to the server."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, raw, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers.get_content_type()
    return status, (json.loads(raw) if kind == "application/json" else raw.decode())


def start_nodes(spawn_node, *names):
    nodes = {name: spawn_node(name) for name in names}
    ids = {name: node.wait_for("welcomed")["client_id"] for name, node in nodes.items()}
    return nodes, ids


@pytest.mark.slow
def test_bridge_mix_reaches_every_node_and_replies_come_back_as_events(server, spawn_node):
    events = server.channel.subscribe()
    nodes, ids = start_nodes(spawn_node, "m1", "m2", "m3")
    voter = spawn_node("v1", role="voter")
    voter.wait_for("welcomed")
    result = server.call("roll_call", {"timeout": 10}).result(15)
    assert sorted(result["sent_to"]) == sorted(ids.values())  # mixers only, not the voter
    assert result["missing"] == []
    for name, client_id in ids.items():
        reply = result["replies"][client_id]
        assert reply == {"type": "roll_call.reply", "request_id": result["request_id"], "name": name, "role": "mixer"}
        nodes[name].wait_for("replied", request_id=result["request_id"])
    seen = events.drain()
    answered = {e.client_id for e in seen if e.kind == "message" and e.data["type"] == "roll_call.reply"}
    assert answered == set(ids.values())
    assert any(e.kind == "bridge.called" and e.data["action"] == "roll_call" for e in seen)
    assert any(e.kind == "bridge.result" and e.data["ok"] and e.data["result"] == result for e in seen)


@pytest.mark.slow
def test_over_with_token_runs_the_mix(server, spawn_node):
    nodes, ids = start_nodes(spawn_node, "m1", "m2")
    for method in ("GET", "POST"):
        status, body = http(server, "/over", method=method, token=server.admin_token)
        assert status == 200, body
        assert sorted(body["replies"]) == sorted(ids.values()) and body["missing"] == []


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_over_without_the_token_is_401_and_sends_nothing(server, spawn_node, token):
    events = server.channel.subscribe(kinds=["message", "bridge.called"])
    node = spawn_node("m1")
    node.wait_for("welcomed")
    status, body = http(server, "/over", token=token)
    assert status == 401 and body["error"] == "unauthorized"
    status, body = http(server, "/over", method="POST", token=token)
    assert status == 401
    # prove the channel is live, then that no mix was ever sent
    assert server.call("clients").result(5)
    assert events.wait_for(lambda e: e.kind == "bridge.called" and e.data["action"] == "clients")
    leaked = [e for e in events.drain() if e.kind == "message" and e.data["type"] == "roll_call"]
    assert leaked == []
    assert not any(line["event"] == "request" for line in node.lines)


@pytest.mark.slow
def test_a_node_that_does_not_answer_is_listed_as_missing(server, ws_client, spawn_node):
    node = spawn_node("answers")
    answer_id = node.wait_for("welcomed")["client_id"]
    silent = ws_client(hello=("silent", "mixer"))
    silent_id = next(c["id"] for c in server.call("clients").result(5)["clients"] if c["name"] == "silent")
    result = server.call("roll_call", {"timeout": 0.5}).result(5)
    assert list(result["replies"]) == [answer_id] and result["missing"] == [silent_id]
    assert json.loads(silent.recv())["type"] == "roll_call"  # it was asked


def test_api_clients_needs_the_token(server, spawn_node):
    spawn_node("m1").wait_for("welcomed")
    assert http(server, "/api/clients")[0] == 401
    status, body = http(server, "/api/clients", token=server.admin_token)
    assert status == 200 and [c["name"] for c in body["clients"]] == ["m1"]


def test_index_page_and_json_errors(server):
    status, page = http(server, "/")
    assert status == 200 and "Mixscope" in page and "/ws" in page
    status, body = http(server, "/no/such/page")
    assert status == 404 and body["error"] == "not found"
    status, body = http(server, "/api/clients", method="DELETE", token=server.admin_token)
    assert status == 405 and "error" in body
    status, body = http(server, "/over?timeout=soon", token=server.admin_token)
    assert status == 400 and "timeout" in body["error"]
    status, body = http(server, "/over?timeout=-1", token=server.admin_token)
    assert status == 400 and "timeout" in body["error"]


@pytest.mark.slow
def test_send_broadcast_disconnect_actions(server, ws_client):
    events = server.channel.subscribe(kinds=["client.disconnected"])
    a = ws_client(hello=("a", "mixer"))
    b = ws_client(hello=("b", "voter"))
    ids = {c["name"]: c["id"] for c in server.call("clients").result(5)["clients"]}
    assert server.call("send", {"client_id": ids["a"], "message": {"type": "note", "n": 1}}).result(5) == {
        "sent_to": [ids["a"]]}
    assert json.loads(a.recv()) == {"type": "note", "n": 1}
    sent = server.call("broadcast", {"message": {"type": "note", "n": 2}}).result(5)["sent_to"]
    assert sorted(sent) == sorted(ids.values())
    assert json.loads(a.recv())["n"] == 2 and json.loads(b.recv())["n"] == 2
    server.call("disconnect", {"client_id": ids["b"]}).result(5)
    b.recv()  # reading the close frame makes websocket-client answer it
    assert events.wait_for(lambda e: e.client_id == ids["b"]).data["code"] == 1000
    server.call("disconnect", {"client_id": ids["a"]}).result(5)  # a never reads: cut after the grace
    assert events.wait_for(lambda e: e.client_id == ids["a"], timeout=5)
    with pytest.raises(BridgeError, match="no connected client"):
        server.call("send", {"client_id": ids["b"], "message": {"type": "note"}}).result(5)
    with pytest.raises(BridgeError, match="message"):
        server.call("broadcast", {"message": "not a dict"}).result(5)
    with pytest.raises(BridgeError, match="timeout"):
        server.call("roll_call", {"timeout": "soon"}).result(5)
    with pytest.raises(BridgeError, match="full must be true or false"):
        server.call("election.publish", {"full": "yes"}).result(5)


def test_admin_action_routes_drive_the_bridge(server, ws_client):
    a = ws_client(hello=("a", "mixer"))
    client_id = server.call("clients").result(5)["clients"][0]["id"]
    message = {"type": "note", "text": "from curl"}
    assert http(server, "/api/admin/broadcast", "POST", body={"message": message})[0] == 401
    status, body = http(server, "/api/admin/broadcast", "POST", token=server.admin_token, body={"message": message})
    assert status == 200 and body == {"sent_to": [client_id]}
    assert json.loads(a.recv()) == message
    status, body = http(server, "/api/admin/send", "POST", token=server.admin_token,
                        body={"client_id": "c999", "message": message})
    assert status == 400 and "no connected client" in body["error"]
    status, body = http(server, "/api/admin/broadcast", "POST", token=server.admin_token, body=["not", "an", "object"])
    assert status == 400 and "JSON object" in body["error"]
    status, body = http(server, "/api/admin/self_destruct", "POST", token=server.admin_token, body={})
    assert status == 404 and "self_destruct" in body["error"]
    status, body = http(
        server, "/api/admin/disconnect", "POST", token=server.admin_token, body={"client_id": client_id}
    )
    assert status == 200 and body == {"disconnected": client_id}

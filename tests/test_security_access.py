"""Who may do what, each refusal checked on a real server: admin routes need the admin token, node roles the
join token and a valid signature, the websocket refuses a foreign browser Origin, the vote form its missing
CSRF token; and neither token ever shows up in the event stream, the traffic view or serve's stderr."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import types

import pytest
import websocket

from conftest import ROOT, running_server
from mixscope.wire import protocol
from test_election_hub import ScriptedNode, progress
from test_web_pages import Browser, csrf_of
from web_election import request, voting_election

ADMIN_ROUTES = [("GET", "/api/clients"), ("POST", "/over"), ("GET", "/over"), ("POST", "/api/admin/broadcast"),
                ("POST", "/api/admin/disconnect")]


@pytest.mark.parametrize("method, path", ADMIN_ROUTES)
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", "Bearer ", "bearer"])
def test_admin_routes_refuse_a_missing_or_wrong_token(server, method, path, header):
    headers = {} if header is None else {"Authorization": header}
    status, body = request(server, method, path, body={} if method == "POST" else None, headers=headers)
    assert status == 401 and body["error"] == "unauthorized"


def test_admin_route_with_the_token_works_and_the_join_token_is_not_an_admin_token(server):
    ok = request(server, "GET", "/api/clients", headers={"Authorization": f"Bearer {server.admin_token}"})
    assert ok[0] == 200 and "clients" in ok[1]
    assert request(server, "GET", "/api/clients", headers={"Authorization": f"Bearer {server.join_token}"})[0] == 401


def test_node_roles_need_the_join_token_and_their_own_signature(server):
    nodes = []
    try:
        no_token = ScriptedNode(server.ws_url, "m-none")
        nodes.append(no_token)
        no_token.send(no_token.signed({"type": "hello", "name": "m-none", "role": "mixer",
                                       "public_key": no_token.public}))
        assert no_token.recv()["reason"] == "bad_join"
        wrong = ScriptedNode(server.ws_url, "m-wrong")
        nodes.append(wrong)
        assert wrong.join(server.admin_token)["reason"] == "bad_join"  # the admin token is not the join token
        forged = ScriptedNode(server.ws_url, "m-forged")
        nodes.append(forged)
        victim = ScriptedNode(server.ws_url, "victim")
        hello = forged.signed({"type": "hello", "name": "m-forged", "role": "trustee", "public_key": victim.public,
                               "join_token": server.join_token})  # claims someone else's key
        victim.close()
        forged.send(hello)
        assert forged.recv()["reason"] == "bad_signature"
        member = ScriptedNode(server.ws_url, "m-ok")
        nodes.append(member)
        assert member.join(server.join_token)["type"] == "welcome"
        other_key = ScriptedNode(server.ws_url, "m-other")
        nodes.append(other_key)
        stolen = other_key.signed(progress())  # valid signature, but not by the key m-ok joined with
        member.send(stolen)
        assert member.recv()["reason"] in ("bad_signature", "not_signed")
        unsigned = {**progress(), "signed": {"key": member.public, "seq": 5}}
        member.send(unsigned)
        assert member.recv()["reason"] == "not_signed"
        assert [n.name for n in server.board.nodes()] == ["m-ok"]
        assert [m.type for m in server.board.signed_messages()] == ["hello"]
        clients = server.call("clients", {}).result(10)["clients"]
        roles = {c["name"]: c["role"] for c in clients if c.get("name")}
        assert roles == {"m-ok": "mixer"}  # the refused ones never got a role
    finally:
        for node in nodes:
            node.close()


def test_websocket_refuses_a_foreign_browser_origin_and_accepts_same_origin_or_none(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(server.ws_url, origin="https://evil.example", timeout=10)
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(server.ws_url, origin=f"http://127.0.0.1:{server.port + 1}", timeout=10)
    for origin in (f"http://127.0.0.1:{server.port}", None):  # the server's own pages; a non-browser node
        ws = websocket.create_connection(server.ws_url, timeout=10, **({"origin": origin} if origin else {}))
        ws.send(json.dumps({"type": "hello", "name": "ok", "role": "observer"}))
        assert json.loads(ws.recv())["type"] == "welcome"
        ws.close()


def test_vote_form_post_without_csrf_token_is_refused_and_stores_nothing(server):
    election_id, _ = voting_election(server.board)
    browser = Browser(server.url)
    status, form = browser.open(f"/elections/{election_id}/vote")
    assert status == 200
    for fields in ({"credential": "mallory", "choice": "0"},
                   {"credential": "mallory", "choice": "0", "csrf_token": "forged"}):
        status, _ = browser.open(f"/elections/{election_id}/vote", fields)
        assert status == 400
    stranger = Browser(server.url)  # a cross-site post carries no session cookie of ours
    status, _ = stranger.open(f"/elections/{election_id}/vote",
                              {"credential": "mallory", "choice": "0", "csrf_token": csrf_of(form)})
    assert status == 400
    assert server.board.count_ballots(election_id) == 0


def _provoke_token_handling(ws_url: str, url_port: int, admin_token: str, join_token: str) -> None:
    """Everything that carries a token: a joining node, wrong tokens, admin calls with and without it."""
    good, bad = ScriptedNode(ws_url, "m-good"), ScriptedNode(ws_url, "m-bad")
    try:
        assert good.join(join_token)["type"] == "welcome"
        bad.join(join_token[::-1])
        bad.send({"type": "hello", "name": "x", "role": "mixer", "join_token": join_token, "password": admin_token})
        bad.recv()
        bad.ws.send("not json " + join_token)  # a bad frame that contains the token: logged cut and masked?
        bad.recv()
    finally:
        good.close()
        bad.close()

    server = types.SimpleNamespace(port=url_port)
    request(server, "GET", "/api/clients", headers={"Authorization": f"Bearer {admin_token}"})
    request(server, "GET", "/api/clients", headers={"Authorization": f"Bearer {join_token}"})
    request(server, "GET", f"/nowhere?token={admin_token}")  # a token pasted into a URL


def _events_until(events, done, timeout: float = 10.0) -> list:
    """Every event from `events` up to the one after which `done(seen)` holds, then whatever else is queued."""
    seen: list = []
    deadline = time.monotonic() + timeout
    while not done(seen):
        event = events.wait_for(lambda e: True, timeout=max(0.0, deadline - time.monotonic()))
        assert event is not None, f"the awaited events never came; saw {[e.kind for e in seen]}"
        seen.append(event)
    return seen + events.drain()


def test_no_token_in_the_event_stream_or_traffic_view(server):
    events = server.channel.subscribe()
    _provoke_token_handling(server.ws_url, server.port, server.admin_token, server.join_token)
    # The last events it causes: both nodes' disconnects and the admin call's bridge result.
    seen = _events_until(events, lambda seen: sum(e.kind == "client.disconnected" for e in seen) == 2
                         and any(e.kind == "bridge.result" and e.data.get("action") == "clients" for e in seen))
    dumped = json.dumps([[e.kind, e.data] for e in seen], default=str)
    assert "***" in dumped  # the hello's join_token, masked in the traffic view
    assert server.admin_token not in dumped
    assert server.join_token not in dumped.replace(server.join_token[::-1], "")
    assert protocol.loggable('{"join_token":"abc"}') == '{"join_token":"***"}'


@pytest.mark.slow
def test_no_token_in_serve_stderr(tmp_path):
    proc = subprocess.Popen([sys.executable, "-u", "-m", "mixscope", "serve", "--port", "0", "--data-dir",
                             str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        fields = {}
        while "join token" not in fields:
            key, _, value = proc.stdout.readline().partition(": ")
            fields[key] = value.strip()
        port = int(fields["websocket"].rsplit(":", 1)[1].split("/")[0])
        _provoke_token_handling(fields["websocket"], port, fields["admin token"], fields["join token"])
        time.sleep(0.5)  # serve prints its log every 0.2 s
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert "[warning]" in err  # the refusals were logged ...
    assert fields["admin token"] not in err  # ... without either token
    assert fields["join token"] not in err.replace(fields["join token"][::-1], "")


@pytest.mark.slow
def test_a_flooding_websocket_client_is_rate_limited_and_others_are_served(tmp_path):
    """Over its per-client budget a client's frames are dropped unparsed and unshown; it hears `rate_limited`
    (at most once a second); another client is served meanwhile; after a pause the flooder is heard again."""
    with running_server(tmp_path, message_rate=20, message_burst=40) as runner:
        traffic = runner.channel.subscribe(kinds=["message"])
        flood = websocket.create_connection(runner.ws_url, timeout=10)
        calm = websocket.create_connection(runner.ws_url, timeout=10)
        for ws, name in ((flood, "flood"), (calm, "calm")):
            ws.send(json.dumps({"type": "hello", "name": name, "role": "observer"}))
            assert json.loads(ws.recv())["type"] == "welcome"
        for i in range(500):
            flood.send(json.dumps({"type": "hello", "name": f"f{i}", "role": "observer"}))
        notices = []
        flood.settimeout(2)
        try:
            while True:
                reply = json.loads(flood.recv())
                if reply["type"] == "error":
                    notices.append(reply)
        except websocket.WebSocketTimeoutException:
            pass
        assert notices and all(n["reason"] == protocol.RATE_LIMITED for n in notices) and len(notices) <= 3
        shown = [e for e in traffic.drain() if e.data.get("direction") == "in" and e.data.get("type") == "hello"]
        assert 40 <= len(shown) < 150  # the burst (plus ~20/s refill), not 500
        calm.send(json.dumps({"type": "hello", "name": "calm-2", "role": "observer"}))
        assert json.loads(calm.recv())["type"] == "welcome"  # the server kept serving everyone else
        time.sleep(1.0)
        flood.send(json.dumps({"type": "hello", "name": "again", "role": "observer"}))
        flood.settimeout(10)
        assert json.loads(flood.recv())["type"] == "welcome"  # tokens came back
        for ws in (flood, calm):
            ws.close()

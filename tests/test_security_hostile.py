"""Hostile input gets a clear answer and costs little: deep JSON, foreign Host/Origin, admin numbers, chunk
budgets, stalled transfers, silent connections, identity ballots, security headers. A real server each time."""

from __future__ import annotations

import http.client
import json
import socket

import pytest
import websocket

from conftest import running_server
from mixscope.mixnet import ballots, credentials, elgamal, proofs
from mixscope.server import hub as hub_module
from mixscope.wire import chunks
from web_election import credential, request, voting_election

DEEP = "[" * 100_000 + "]" * 100_000


def _raw(server, method, path, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _reply(ws) -> dict:
    """The next message that is not a chunk of the server's own traffic."""
    return json.loads(ws.recv())


# --- deep JSON ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, body", [
    ("/api/elections/{eid}/ballots", DEEP),                                   # the single-ballot route
    ("/api/elections/{eid}/ballots", '{"voter_id": "v", "ballot": ' + DEEP + "}"),
    ("/api/elections/{eid}/ballots", '{"ballots":' + DEEP + "}"),             # the batch route (pool)
    ("/api/elections/{eid}/ballots", '{"ballots": [' + DEEP + "]}"),
])
def test_deep_json_on_the_ballot_routes_is_400(server, path, body):
    eid, _ = voting_election(server.board)
    status, _, raw = _raw(server, "POST", path.format(eid=eid), body.encode(),
                          {"Content-Type": "application/json"})
    assert status == 400, raw[:300]
    assert "error" in json.loads(raw)


@pytest.mark.parametrize("path", ["/over", "/api/admin/broadcast", "/api/admin/roll_call"])
def test_deep_json_on_admin_routes_is_400(server, path):
    status, _, raw = _raw(server, "POST", path, DEEP.encode(), {
        "Content-Type": "application/json", "Authorization": f"Bearer {server.admin_token}"})
    assert status == 400, raw[:300]
    assert "nested too deeply" in json.loads(raw)["error"]


def test_deep_json_on_the_websocket_is_a_typed_not_json_error_also_inside_a_chunked_transfer(server, ws_client):
    ws = ws_client(hello=("deep", "voter"))
    ws.send(DEEP)
    reply = _reply(ws)
    assert (reply["type"], reply["reason"]) == ("error", "not_json")
    deep = '{"type": "roll_call.reply", "request_id": ' + "[" * 200_000 + "]" * 200_000 + "}"
    frames = chunks.split(deep, limit=64 * 1024)
    assert len(frames) > 1
    ws.send(json.dumps(frames[0]))
    for frame in frames[1:]:
        ws.send(json.dumps(frame))
    reply = _reply(ws)
    assert (reply["type"], reply["reason"]) == ("error", "not_json"), reply


# --- admin numbers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-inf", "1e309", "0", "301", "true"])
def test_over_timeout_must_be_a_finite_number_in_range(server, value):
    status, _, raw = _raw(server, "GET", f"/over?timeout={value}", None,
                          {"Authorization": f"Bearer {server.admin_token}"})
    assert status == 400 and "timeout" in json.loads(raw)["error"]
    body = ('{"timeout": %s}' % ("1e309" if value == "1e309" else json.dumps(value))).encode()
    status, _, raw = _raw(server, "POST", "/over", body, {
        "Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"})
    assert status == 400 and "timeout" in json.loads(raw)["error"]
    status, _, raw = _raw(server, "POST", "/api/admin/roll_call", b'{"timeout": 1e309}', {
        "Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"})
    assert status == 400


# --- Host / Origin -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host, origin, allowed", [
    ("127.0.0.1:{port}", None, True),
    ("localhost:{port}", None, True),
    ("[::1]:{port}", None, True),
    ("evil.example:{port}", None, False),
    ("lab.example:{port}", None, True),                       # given with allowed_hosts
    ("127.0.0.1:{port}", "http://127.0.0.1:{port}", True),
    ("127.0.0.1:{port}", "http://evil.example:{port}", False),
    ("127.0.0.1:{port}", "null", False),
])
def test_http_and_websocket_answer_only_allowed_hosts_and_origins(tmp_path, host, origin, allowed):
    with running_server(tmp_path, allowed_hosts=("lab.example",)) as server:
        headers = {"Host": host.format(port=server.port)}
        if origin:
            headers["Origin"] = origin.format(port=server.port)
        for path in ("/", "/elections", "/api/elections"):
            status, response_headers, raw = _raw(server, "GET", path, None, headers)
            assert (status != 403) == allowed, (path, status, raw[:200])
            if not allowed:
                assert json.loads(raw)["error"] == "host_not_allowed"
                assert response_headers["X-Frame-Options"] == "DENY"
        try:
            ws = websocket.create_connection(server.ws_url, timeout=10, host=headers["Host"],
                                             origin=headers.get("Origin"), suppress_origin="Origin" not in headers)
        except websocket.WebSocketBadStatusException as exc:
            assert not allowed and exc.status_code == 403
        else:
            assert allowed
            ws.send(json.dumps({"type": "hello", "name": "h", "role": "voter"}))
            assert _reply(ws)["type"] == "welcome"
            ws.close()


def test_bound_to_a_wildcard_address_ip_literals_pass_and_foreign_names_do_not():
    from mixscope.server.hosts import HostPolicy

    policy = HostPolicy("0.0.0.0", ["vote.lab"])
    assert policy.refusal("192.168.1.20:8000", None) is None
    assert policy.refusal("vote.lab:8000", "https://vote.lab") is None
    assert policy.refusal("localhost", None) is None
    assert policy.refusal("evil.example:8000", None) is not None
    assert HostPolicy("192.168.1.20").refusal("localhost:8000", None) is not None  # not loopback-bound


# --- headers and cookies -------------------------------------------------------------------------------------

def test_every_page_sends_security_headers_and_the_session_cookie_is_samesite(server):
    eid, _ = voting_election(server.board)
    for path in ("/", "/elections", f"/elections/{eid}", f"/elections/{eid}/vote", f"/elections/{eid}/board",
                 "/api/elections", "/no/such/page"):
        _, headers, _ = _raw(server, "GET", path)
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    _, headers, _ = _raw(server, "GET", f"/elections/{eid}/vote")
    cookie = headers["Set-Cookie"]
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie


# --- chunk budgets and stalls --------------------------------------------------------------------------------

def _half_transfer(size: int) -> list[dict]:
    return chunks.split(json.dumps({"type": "roll_call.reply", "request_id": "x" * size}), limit=64 * 1024)[:-1]


def test_a_client_without_hello_may_send_no_chunks(server, ws_client):
    ws = ws_client()
    ws.send(json.dumps(_half_transfer(200_000)[0]))
    reply = _reply(ws)
    assert (reply["reason"], reply["ref"]) == ("bad_chunk", "chunk") and "hello" in reply["detail"]
    assert all(r.open_transfers == 0 for r in server._hub._reassemblers.values())


def test_a_plain_hello_gets_one_small_transfer(server, ws_client):
    ws = ws_client(hello=("guest", "voter"))
    first, second = _half_transfer(200_000), _half_transfer(200_000)
    ws.send(json.dumps(first[0]))
    ws.send(json.dumps(second[0]))  # a second open transfer: refused
    reply = _reply(ws)
    assert reply["reason"] == "bad_chunk" and "transfers open at once" in reply["detail"]
    ws = ws_client(hello=("guest 2", "voter"))
    for frame in _half_transfer(hub_module.GUEST_CHUNK_BYTES + 100_000):
        ws.send(json.dumps(frame))
    reply = _reply(ws)
    assert reply["reason"] == "bad_chunk" and "larger than" in reply["detail"]
    assert server._hub.chunk_budget.held <= 2 * hub_module.GUEST_CHUNK_BYTES  # the first guest's one transfer


def test_the_server_wide_budget_refuses_new_chunk_data_when_full(server, ws_client):
    ws = ws_client(hello=("guest", "voter"))
    server._hub.chunk_budget.limit = 100_000
    for frame in _half_transfer(300_000):
        ws.send(json.dumps(frame))
    reply = _reply(ws)
    assert reply["reason"] == "bad_chunk" and "send it later" in reply["detail"]
    assert server._hub.chunk_budget.held == 0


@pytest.mark.slow
def test_a_stalled_transfer_expires_on_a_timer_and_its_memory_is_released(tmp_path):
    with running_server(tmp_path, stall_seconds=1.0) as server:
        ws = websocket.create_connection(server.ws_url, timeout=15)
        ws.send(json.dumps({"type": "hello", "name": "staller", "role": "voter"}))
        assert _reply(ws)["type"] == "welcome"
        for frame in _half_transfer(300_000):
            ws.send(json.dumps(frame))
        reply = _reply(ws)  # nothing more is sent: the timer alone ends the transfer
        assert reply["reason"] == "bad_chunk" and "no chunk for 1 s" in reply["detail"]
        assert server._hub.chunk_budget.held == 0
        ws.close()


@pytest.mark.slow
def test_a_node_that_reads_nothing_loses_a_long_message_to_the_stall_timer_and_holds_up_no_one(tmp_path, caplog):
    with running_server(tmp_path, stall_seconds=1.0) as server:
        logs = server.channel.subscribe(kinds=["log"])
        lazy = websocket.create_connection(server.ws_url, timeout=15,  # a small window: the kernel holds little
                                           sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        lazy.send(json.dumps({"type": "hello", "name": "lazy", "role": "voter"}))
        lazy_id = _reply(lazy)["client_id"]
        big = {"type": "mix.request", "election_id": "e", "ciphertexts": [["ab" * 32, "cd" * 32]] * 150_000}
        server._loop.add_callback(server._hub.send_large, lazy_id, big)  # ~20 MB: far more than the socket holds
        abandoned = logs.wait_for(lambda e: "transfer abandoned" in e.data["text"], timeout=30)
        assert abandoned is not None and abandoned.client_id == lazy_id
        other = websocket.create_connection(server.ws_url, timeout=15)  # served meanwhile, and after
        other.send(json.dumps({"type": "hello", "name": "other", "role": "voter"}))
        assert _reply(other)["type"] == "welcome"
        other.close()
        lazy.close()
    # the abandoned chunk's write is let go without cancelling Tornado's own write future (an asyncio error)
    assert not [r for r in caplog.records if r.name == "asyncio" and r.levelname == "ERROR"]


# --- silent connections --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_silent_tcp_and_websocket_connections_are_closed(tmp_path):
    with running_server(tmp_path, idle_seconds=1.0) as server:
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=15)
        raw.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # a request head that never ends
        assert raw.recv(1024) == b""  # closed by the server
        raw.close()
        ws = websocket.create_connection(server.ws_url, timeout=15)  # answers pings, never says hello
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            while True:
                ws.recv()
        greeted = websocket.create_connection(server.ws_url, timeout=15)
        greeted.send(json.dumps({"type": "hello", "name": "ok", "role": "voter"}))
        assert _reply(greeted)["type"] == "welcome"
        greeted.settimeout(2.5)
        with pytest.raises(websocket.WebSocketTimeoutException):
            greeted.recv()  # said hello: stays connected past the idle time
        greeted.close()


# --- identity ballots ----------------------------------------------------------------------------------------

def test_a_ballot_with_an_identity_component_is_refused(server):
    eid, public_key = voting_election(server.board)
    v1 = credential(eid, "v1")  # a listed voter who signs it: only the identity can refuse it
    ct = elgamal.encrypt(public_key, elgamal.encode_choice(1), 0)  # randomness 0: a is the identity, b the vote
    context = ballots._randomness_context(public_key, eid, v1.voter_id, ct)
    unsigned = ballots.Ballot(ct, proofs.schnorr_prove(0, context))
    ballot = credentials.sign(v1, eid, unsigned)
    status, body = request(server, "POST", f"/api/elections/{eid}/ballots",
                           {"voter_id": v1.voter_id, "ballot": ballot.to_json()})
    assert status == 422 and "identity" in body["error"]
    status, body = request(server, "POST", f"/api/elections/{eid}/ballots",
                           {"ballots": [{"voter_id": v1.voter_id, "ballot": ballot.to_json()}]})
    assert body["results"][0]["status"] == 422
    assert server.board.count_ballots(eid) == 0


def test_the_verifier_fails_a_record_with_an_identity_ballot_even_in_a_batch():
    from mixscope.mixnet import group, verifier

    public_key = group.base_mul(group.random_scalar())
    held = credentials.generate(6)
    good = [credentials.cast(c, public_key, "e", 3, k % 3) for k, c in enumerate(held[:5])]
    ct = elgamal.encrypt(public_key, elgamal.encode_choice(1), 0)
    bad = credentials.sign(held[5], "e", ballots.Ballot(
        ct, proofs.schnorr_prove(0, ballots._randomness_context(public_key, "e", held[5].voter_id, ct))))
    items = [(c.voter_id, b) for c, b in zip(held, [*good, bad])]
    assert ballots.ballots_hold(public_key, "e", items[:-1])
    assert not ballots.ballots_hold(public_key, "e", items)
    jobs = [(k, public_key, "e", {"credential": voter, **ballot.to_json()}) for k, (voter, ballot) in enumerate(items)]
    checks = verifier._ballot_batch(jobs)
    assert [c.ok for c in checks] == [True] * 5 + [False] and "identity" in checks[-1].reason

"""The admin API for the election lifecycle on a real server: auth, JSON errors with reasons, jobs, list."""

from __future__ import annotations

import re
import socket

import pytest

from mixscope.mixnet.credentials import generate
from mixscope.server.election.lab import natural_key
from tests.web_election import request


def admin(server, method, path, body=None, token=None, raw=None):
    headers = {"Authorization": f"Bearer {token or server.admin_token}"}
    return request(server, method, path, body=body, raw=raw, headers=headers)


LISTED = sorted(c.voter_id for c in generate(2))  # the voters' public credentials
CREATE = {"question": "Lunch?", "candidates": ["soup", "salad"], "threshold": 1, "trustees": 1, "mixers": 2,
          "credentials": LISTED}


def test_create_list_and_status_through_the_admin_api(server):
    status, created = admin(server, "POST", "/api/admin/election.create",
                            {**CREATE, "voters": ["ann", "bob"], "cheat": "swap", "cheat_mixer": 1})
    assert status == 200, created
    eid = created["election_id"]
    status, listing = admin(server, "POST", "/api/admin/election.list")
    assert status == 200 and [e["id"] for e in listing["elections"]] == [eid]
    status, body = admin(server, "POST", "/api/admin/election.status", {"election_id": eid})
    assert status == 200 and body["election"]["state"] == "created"
    assert body["lab"] == {"tally": "mixnet", "voters": 2, "cheat": "swap", "cheat_stage": 1}
    assert body["progress"] is None and body["jobs"] == [] and body["nodes"] == []
    status, current = admin(server, "POST", "/api/admin/election.current")
    assert status == 200 and current["election_id"] == eid
    status, voters = admin(server, "GET", f"/api/admin/elections/{eid}/voters")
    assert status == 200 and voters["voters"] == voters["not_voted"] == LISTED  # the credentials: who may vote
    status, info = admin(server, "GET", "/api/admin/server")
    assert status == 200 and info["join_token"] == server.join_token and info["ws_url"] == server.ws_url


@pytest.mark.parametrize("body, reason", [
    ({**CREATE, "threshold": 3}, "threshold"),
    ({**CREATE, "tally": "weighted"}, "tally must be one of"),
    ({**CREATE, "cheat": "lie"}, "cheat must be one of"),
    ({**CREATE, "cheat": "drop", "cheat_mixer": 2}, "cheat_mixer must be a cascade position 0..1"),
    ({**CREATE, "voters": ["ann", "ann"]}, "distinct"),
    ({**CREATE, "voters": ["-x"]}, "voter id"),
    ({k: v for k, v in CREATE.items() if k != "credentials"}, "needs 'credentials'"),
    ({**CREATE, "credentials": [LISTED[0], "zz"]}, "credential 1"),
    ({**CREATE, "mixers": "two"}, "integers"),
])
def test_bad_create_arguments_are_400_with_the_reason(server, body, reason):
    status, answer = admin(server, "POST", "/api/admin/election.create", body)
    assert status == 400 and reason in answer["error"], answer


def test_client_mistakes_are_4xx_json_never_5xx(server):
    eid = admin(server, "POST", "/api/admin/election.create", CREATE)[1]["election_id"]
    cases = [
        (
            ("POST", "/api/admin/election.close", {"election_id": eid}),
            409,
            "is created; election.close needs it voting",
        ),
        (("POST", "/api/admin/election.mix", {"election_id": "nope"}), 404, "no election 'nope'"),
        (("POST", "/api/admin/election.mix", {}), 400, "election_id must be a non-empty string"),
        (("POST", "/api/admin/election.status", {}), 400, "election_id is required"),
        (("POST", "/api/admin/election.publish", {"election_id": eid, "full": "yes"}), 400, "full must be"),
        (("POST", "/api/admin/election.publish", {"election_id": eid}), 409, "needs it tallied or published"),
        (("POST", "/api/admin/election.vanish", {}), 404, "no admin action 'election.vanish'"),
        (("POST", "/api/admin/election.keygen?wait=99", {"election_id": eid}), 400, "wait must be between"),
        (("GET", "/api/admin/jobs/0123", None), 404, "no job"),
    ]
    for (method, path, body), code, reason in cases:
        status, answer = admin(server, method, path, body)
        assert status == code and reason in answer["error"], (path, answer)
    status, answer = admin(server, "POST", "/api/admin/election.create", raw=b"[1, 2]",
                           )
    assert status == 400 and "JSON object" in answer["error"]
    status, answer = request(server, "POST", "/api/admin/election.create", body=CREATE,
                             headers={"Authorization": "Bearer wrong"})
    assert status == 401 and answer["error"] == "unauthorized"


def test_a_long_step_answers_202_with_a_job_that_reports_the_failure(server):
    eid = admin(server, "POST", "/api/admin/election.create", CREATE)[1]["election_id"]
    status, answer = admin(server, "POST", "/api/admin/election.keygen?wait=0", {"election_id": eid})
    if status == 202:  # the usual case: the step had not finished the instant the route looked
        assert answer["state"] in ("running", "failed") and answer["action"] == "election.keygen"
        status, job = admin(server, "GET", f"/api/admin/jobs/{answer['job']}?wait=5")
        assert status == 200 and job["state"] == "failed"
        reason = job["error"]
    else:
        assert status == 409
        reason = answer["error"]
    assert "needs 1 connected trustees, 0 connected" in reason


def test_node_names_sort_numerically():
    names = ["mixer-10", "mixer-2", "mixer-1", "mixer-b", "mixer-a"]
    assert sorted(names, key=natural_key) == ["mixer-1", "mixer-2", "mixer-10", "mixer-a", "mixer-b"]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from tests.conftest import running_server

    with running_server(tmp_path_factory.mktemp("admin-fuzz")) as runner:
        eid = runner.call("election.create", CREATE).result(10)["election_id"]
        yield runner, eid


@pytest.mark.slow
def test_random_admin_calls_are_answered_with_a_reason_never_a_5xx(fuzz_server):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    runner, eid = fuzz_server
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                        st.text(max_size=12), st.just(eid))
    values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                          max_leaves=10)
    keys = st.sampled_from(["election_id", "question", "candidates", "threshold", "trustees", "mixers", "voters",
                            "tally", "cheat", "cheat_mixer", "full", "timeout"])

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(step=st.sampled_from(["create", "keygen", "close", "mix", "decrypt", "publish", "status", "current",
                                 "list", "nope"]),
           body=st.one_of(st.dictionaries(keys, values, max_size=6), values),
           wait=st.sampled_from(["", "?wait=0", "?wait=-1", "?wait=x", "?wait=3"]))
    def check(step, body, wait):
        status, answer = admin(runner, "POST", f"/api/admin/election.{step}{wait}", body=body)
        assert status in (200, 202, 400, 404, 409), (step, body, status, answer)
        if status >= 400:
            assert isinstance(answer, dict) and answer["error"]

    check()


@pytest.mark.parametrize("raw, code, reason", [
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    (b'{"election_id": "\\ud800"}', 404, "no election"),
    (b'{"election_id": "a\\u0000b"}', 404, "no election"),
    (b'{"election_id": "' + b"x" * 5000 + b'"}', 404, "no election"),
])
def test_hostile_bodies_on_the_election_steps_are_4xx(server, raw, code, reason):
    for step in ("keygen", "close", "mix", "decrypt", "publish"):
        status, answer = request(server, "POST", f"/api/admin/election.{step}", raw=raw, headers={
            "Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"})
        assert status == code and reason in answer["error"], (step, answer)


def test_restarts_leave_no_job_progress_queue_behind(tmp_path):
    """Each start's admin jobs follow the progress events with a subscription to the runner's channel, which
    outlives restarts: a stop lets it go."""
    from tests.conftest import running_server

    with running_server(tmp_path) as runner:
        before = len(runner.channel._subscriptions)
        for _ in range(3):
            status, _ = admin(runner, "POST", "/api/admin/election.current")  # makes this start's jobs
            assert status < 500
            runner.restart()
        assert len(runner.channel._subscriptions) == before


@pytest.mark.parametrize("path", ["/api/admin/election.create", "/api/admin/send", "/over", "/api/clients",
                                  "/api/admin/jobs/0123", "/api/admin/no-such-route"])
def test_an_admin_request_without_the_token_is_refused_before_its_body(server, path):
    """Only the head is sent, announcing a 90 MB body: the answer comes without any body byte read (Tornado
    would otherwise buffer the whole body for anyone before the token was looked at)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Authorization: Bearer wrong\r\nContent-Length: {90 << 20}\r\n\r\n".encode())
        head = sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 401") and '"unauthorized"' in head, head


def test_every_admin_route_is_behind_the_gate():
    from mixscope.server.admin_auth import ADMIN_PATHS
    from mixscope.server.routes import FLASK_ROUTES

    gate = re.compile(ADMIN_PATHS + "$")
    for route in FLASK_ROUTES:
        path = re.sub(r"<(?:path:)?[^>]+>", "x", route.path)
        assert bool(gate.match(path)) == route.admin, route.path

"""HTTP statuses follow the failure's type (server/errors.py), not the wording of its reason."""

from __future__ import annotations

import pytest

from mixscope.mixnet.credentials import generate
from mixscope.server.errors import BridgeError, ServerUnavailable, UnknownElection
from mixscope.server.views_admin import status_of
from tests.conftest import running_server
from tests.web_election import request


def admin(server, path, body=None):
    return request(server, "POST", path, body=body, headers={"Authorization": f"Bearer {server.admin_token}"})


def test_an_unknown_election_is_404_and_a_step_that_cannot_run_is_409(server):
    status, body = admin(server, "/api/admin/election.current")
    assert status == 404 and body["error"] == "no election yet: create one first"
    status, body = admin(server, "/api/admin/election.status", {"election_id": "no-such-election"})
    assert status == 404 and "no-such-election" in body["error"]
    status, created = admin(server, "/api/admin/election.create", {"candidates": ["a", "b"],
                                                                      "credentials": [c.voter_id for c in generate(1)]})
    assert status == 200
    status, body = admin(server, "/api/admin/election.keygen", {"election_id": created["election_id"]})
    assert status == 409 and "connected trustees" in body["error"]  # no trustee node is connected


def test_a_stopped_server_refuses_calls_as_unavailable(tmp_path):
    with running_server(tmp_path) as runner:
        pass  # stopped on leaving
    with pytest.raises(ServerUnavailable, match="not running"):
        runner.call("clients").result(timeout=5)


@pytest.mark.parametrize("action", ["election.create", "election.status", "election.mix"])
def test_the_status_comes_from_the_type(action):
    assert status_of(action, ServerUnavailable("anything at all")) == 503
    assert status_of(action, UnknownElection("anything at all")) == 404
    # A plain refusal keeps the action's status, whatever its reason says.
    plain = status_of(action, BridgeError("no election here: server not running, server stopped"))
    assert plain == (400 if action != "election.mix" else 409)

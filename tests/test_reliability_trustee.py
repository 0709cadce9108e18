"""A trustee process SIGKILLed while it is decrypting (after it reported decryption progress): with 2-of-3
trustees the other two finish the decryption, the tally is right and the record verifies. (A trustee killed
before decryption starts: test_election_e2e.py::test_decryption_with_one_trustee_missing.)"""

from __future__ import annotations

import signal

import pytest

from conftest import running_server
from mixscope.demo import DemoNodes, wait_for_nodes
from mixscope.mixnet.credentials import generate

pytestmark = pytest.mark.slow  # whole elections and real node processes: `-m "not slow"` skips them

BALLOTS = 200  # a few hundred ms of proven partial decryptions per trustee: time to be killed in


def test_a_trustee_killed_mid_decryption_leaves_two_of_three_to_finish(server, tmp_path):
    from mixscope.client.voters import simulate_voters

    nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
    try:
        nodes.spawn("mixer", "mixer-1")
        trustees = {name: nodes.spawn("trustee", name) for name in ("trustee-1", "trustee-2", "trustee-3")}
        wait_for_nodes(server, {"mixer": 1, "trustee": 3})
        choices = [i % 3 % 2 for i in range(BALLOTS)]
        held = generate(BALLOTS)
        eid = server.call("election.create", {"candidates": ["a", "b"], "threshold": 2, "trustees": 3, "mixers": 1,
                                              "credentials": [c.voter_id for c in held]}).result(10)["election_id"]
        server.call("election.keygen", {"election_id": eid}).result(60)
        simulate_voters(server.url, eid, choices, credentials=held)
        server.call("election.close", {}).result(10)
        server.call("election.mix", {}).result(120)

        progress = server.channel.subscribe(kinds=["election.progress"])
        decrypting = server.call("election.decrypt", {})
        seen = progress.wait_for(lambda e: e.data["task"] == "decrypt", timeout=60)
        assert seen is not None, "no trustee reported decryption progress"
        victim = seen.data["node"]
        trustees[victim].send_signal(signal.SIGKILL)  # in the middle of its partial decryptions
        trustees[victim].wait(10)
        result = decrypting.result(120)
        assert result["counts"] == [choices.count(0), choices.count(1)]
        assert len(result["trustees"]) == 2 and victim not in result["trustees"]  # the two survivors
        published = server.call("election.publish", {}).result(120)
        assert published["verified"]
    finally:
        nodes.stop()


@pytest.fixture
def patient_server(tmp_path):
    """Pings every 5 s: a frozen trustee stays connected for ~10 s, longer than the spares bound below."""
    with running_server(tmp_path, ping_interval=5.0) as runner:
        yield runner


def test_t_trustees_are_asked_and_a_straggler_is_replaced_by_the_spare(patient_server, tmp_path, monkeypatch):
    """Only the t lowest-indexed trustees decrypt; when one of them straggles (SIGSTOP: a frozen host the pings
    have not dropped yet), the spare is asked after the spares bound and the decryption completes without it."""
    from mixscope.client.voters import simulate_voters
    from mixscope.server.election import decryption

    server = patient_server
    monkeypatch.setattr(decryption, "SPARES_AFTER_BASE", 1.0)
    nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
    frozen = None
    logs = server.channel.subscribe(kinds=["log"])
    try:
        nodes.spawn("mixer", "mixer-1")
        trustees = {name: nodes.spawn("trustee", name) for name in ("trustee-1", "trustee-2", "trustee-3")}
        wait_for_nodes(server, {"mixer": 1, "trustee": 3})

        def mixed_election() -> str:
            held = generate(3)
            eid = server.call("election.create", {"candidates": ["a", "b"], "threshold": 2, "trustees": 3, "mixers": 1,
                                                  "credentials": [c.voter_id for c in held]}).result(10)["election_id"]
            server.call("election.keygen", {"election_id": eid}).result(60)
            simulate_voters(server.url, eid, [0, 1, 1], credentials=held)
            server.call("election.close", {"election_id": eid}).result(10)
            server.call("election.mix", {"election_id": eid}).result(120)
            return eid

        healthy = server.call("election.decrypt", {"election_id": mixed_election()}).result(120)
        assert sorted(healthy["trustees"]) == ["trustee-1", "trustee-2"] and healthy["counts"] == [1, 2]
        assert "decrypt.request" not in (tmp_path / "node-logs" / "trustee-3.log").read_text()

        eid = mixed_election()
        frozen = trustees["trustee-1"]
        frozen.send_signal(signal.SIGSTOP)  # still connected for a while, answering nothing
        result = server.call("election.decrypt", {"election_id": eid}).result(120)
        assert sorted(result["trustees"]) == ["trustee-2", "trustee-3"] and result["counts"] == [1, 2]
        assert any("asking the 1 spare" in e.data.get("text", "") for e in logs.drain())
        assert server.call("election.publish", {"election_id": eid}).result(120)["verified"]
    finally:
        if frozen is not None:
            frozen.send_signal(signal.SIGCONT)
        nodes.stop()

"""A trustee process SIGKILLed while it is decrypting (after it reported decryption progress): with 2-of-3
trustees the other two finish the decryption, the tally is right and the record verifies. (A trustee killed
before decryption starts: test_election_e2e.py::test_decryption_with_one_trustee_missing.)"""

from __future__ import annotations

import signal

from mixscope.demo import DemoNodes, wait_for_nodes

BALLOTS = 200  # a few hundred ms of proven partial decryptions per trustee: time to be killed in


def test_a_trustee_killed_mid_decryption_leaves_two_of_three_to_finish(server, tmp_path):
    from client.voters import simulate_voters

    nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
    try:
        nodes.spawn("mixer", "mixer-1")
        trustees = {name: nodes.spawn("trustee", name) for name in ("trustee-1", "trustee-2", "trustee-3")}
        wait_for_nodes(server, {"mixer": 1, "trustee": 3})
        eid = server.call("election.create", {"candidates": ["a", "b"], "threshold": 2, "trustees": 3,
                                              "mixers": 1}).result(10)["election_id"]
        server.call("election.keygen", {"election_id": eid}).result(60)
        choices = [i % 3 % 2 for i in range(BALLOTS)]
        simulate_voters(server.url, eid, choices)
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

"""A homomorphic election across real processes: a real server, `mixscope node` trustees (no mixers), ballots
through the JSON API (single, batch, the demo form's path), the sums decrypted, the record verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixscope.client.voters import simulate_voters
from mixscope.demo import DemoNodes, run_demo, wait_for_nodes
from mixscope.mixnet import credentials, group, homomorphic
from mixscope.mixnet.verifier import all_passed, verify_record
from tests.conftest import running_server
from tests.web_election import request

pytestmark = pytest.mark.slow


def test_demo_homomorphic_end_to_end(tmp_path):
    report = run_demo(8, 3, 3, 2, ["alice", "bob", "carol"], data_dir=str(tmp_path), tally="homomorphic")
    assert report["tally_mode"] == "homomorphic" and report["tally_matches"] and report["verified"]
    assert report["stages"] == [] and "sum" in report["phases"] and "mix" not in report["phases"]
    doc = json.loads(Path(report["record"]).read_text())
    assert all_passed(verify_record(doc))  # every proof again, as a third party
    assert doc["manifest"]["tally"] == "homomorphic" and doc["manifest"]["listed_mixers"] == []
    assert len(doc["decryption"]["ciphertexts"]) == 3 and doc["sums"] == doc["decryption"]["ciphertexts"]


def test_intake_takes_the_modes_ballots_and_refuses_bad_ones(tmp_path):
    with running_server(tmp_path) as runner:
        nodes = DemoNodes(runner.ws_url, runner.join_token, tmp_path)
        try:
            for i in (1, 2):
                nodes.spawn("trustee", f"trustee-{i}")
            wait_for_nodes(runner, {"trustee": 2})
            held = credentials.generate(6)
            eid = runner.call("election.create", {"candidates": ["yes", "no"], "threshold": 2, "trustees": 2,
                                                  "tally": "homomorphic",
                                                  "credentials": [c.voter_id for c in held]}).result(30)["election_id"]
            runner.call("election.keygen", {"election_id": eid}).result(60)
            status, election = request(runner, "GET", f"/api/elections/{eid}")
            assert status == 200 and election["tally"] == "homomorphic"
            public_key = group.decode(election["public_key"])
            receipts = simulate_voters(runner.url, eid, [0, 1, 1], post_batch=2, credentials=held[:3])
            assert len(receipts) == 3
            # A mixnet ballot is malformed here; a ballot with two ones fails its sum proof; an unsigned one is
            # refused for its missing signature, one signed by another credential too.
            mix, two, ok, other = held[3], held[4], held[5], held[0]
            status, body = request(runner, "POST", f"/api/elections/{eid}/ballots", body={
                "voter_id": mix.voter_id, "ballot": credentials.cast(mix, public_key, eid, 2, 0).to_json()})
            assert status == 400 and "lacks field(s) ciphertexts" in body["error"]
            two_ones = credentials.sign(two, eid, homomorphic.cast_marks(public_key, eid, two.voter_id, [1, 1]))
            status, body = request(runner, "POST", f"/api/elections/{eid}/ballots",
                                   body={"voter_id": two.voter_id, "ballot": two_ones.to_json()})
            assert status == 422 and "marks do not sum to one" in body["error"]
            unsigned = homomorphic.cast(public_key, eid, ok.voter_id, 2, 1)
            status, body = request(runner, "POST", f"/api/elections/{eid}/ballots",
                                   body={"voter_id": ok.voter_id, "ballot": unsigned.to_json()})
            assert status == 403 and "not signed with a credential" in body["error"]
            forged = credentials.sign(other, eid, unsigned)
            status, body = request(runner, "POST", f"/api/elections/{eid}/ballots",
                                   body={"voter_id": ok.voter_id, "ballot": forged.to_json()})
            assert status == 403 and "credential signature" in body["error"]
            good = credentials.sign(ok, eid, unsigned).to_json()
            status, body = request(runner, "POST", f"/api/elections/{eid}/ballots", body={"ballots": [
                {"voter_id": two.voter_id, "ballot": two_ones.to_json()}, {"voter_id": ok.voter_id, "ballot": good}]})
            assert status == 200 and [r["status"] for r in body["results"]] == [422, 201]
            runner.call("election.close", {"election_id": eid}).result(30)
            summed = runner.call("election.mix", {"election_id": eid}).result(60)
            assert summed == {"election_id": eid, "tally": "homomorphic", "sums": 2, "count": 4}
            result = runner.call("election.decrypt", {"election_id": eid}).result(120)
            assert result["counts"] == [1, 3] and result["invalid"] == 0
            published = runner.call("election.publish", {"election_id": eid, "full": True}).result(120)
            assert published["verified"]
        finally:
            nodes.stop()


def test_bench_voters_takes_the_mode():
    from mixscope.bench_voters import measure

    report = measure(12, 2, 1, post_batch=5, tally="homomorphic")
    assert report["tally"] == "homomorphic" and report["stored"] == report["receipts"] == 12


def test_the_cli_runs_a_homomorphic_election(tmp_path):
    from mixscope.client.admin import AdminClient
    from tests.headless_lab import cli, serve, wait_joined
    from tests.test_election_cli import authority

    def ok(result):
        assert result.returncode == 0, (result.args, result.stdout, result.stderr)
        return result.stdout.strip()

    with serve(tmp_path) as server:
        admin = AdminClient(server.url, server.admin_token)
        nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
        try:
            for k in (1, 2):
                nodes.spawn("trustee", f"trustee-{k}")
            wait_joined(admin, {"trustee": 2})
            public, private = authority(tmp_path, 5)
            eid = ok(cli(server, "create", "--question", "Where?", "--candidates", "hills", "sea", "--trustees", "2",
                         "--threshold", "2", "--tally", "homomorphic", "--credentials", public))
            assert ok(cli(server, "keygen", eid)).startswith("keygen: done")
            cast = json.loads(ok(cli(server, "simulate-voters", eid, "--credentials", private, "--n", "5", "--json")))
            assert ok(cli(server, "close", eid)) == "close: done (ballots 5)"
            assert "tally homomorphic" in ok(cli(server, "mix", eid))
            assert json.loads(ok(cli(server, "decrypt", eid, "--json")))["counts"] == cast["choices"]
            assert json.loads(ok(cli(server, "publish", eid, "--json")))["verified"] is True
            status = json.loads(ok(cli(server, "status", eid, "--json")))
            assert status["lab"]["tally"] == "homomorphic"
        finally:
            nodes.stop()

"""Whole elections across real processes: a real server, `mixscope node` children for every mixer and
trustee, ballots cast through the JSON API, every step through the bridge."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mixscope.demo import DemoNodes, run_demo, wait_for_nodes
from mixscope.mixnet import credentials
from mixscope.mixnet.verifier import all_passed, verify_record

pytestmark = pytest.mark.slow  # whole elections and real node processes: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parents[1]


def test_twelve_voters_three_mixers_two_of_three_trustees(tmp_path):
    report = run_demo(12, 3, 3, 2, ["alice", "bob", "carol"], data_dir=str(tmp_path))
    assert report["ballots"] == 12
    assert report["tally_matches"] and sum(report["tally"].values()) == 12
    assert [s["status"] for s in report["stages"]] == ["accepted"] * 3
    assert report["mix"]["pipelined"]["stages"] == 2  # stages 0 and 1 were judged while the next mixer worked
    assert report["verified"] and report["verification"] == "proofs checked on arrival"
    doc = json.loads(Path(report["record"]).read_text())
    assert all_passed(verify_record(doc))  # the stand-alone verifier re-checks every proof of that record
    assert sorted(b["credential"] for b in doc["ballots"]) == doc["credentials"] and len(doc["ballots"]) == 12
    altered = copy.deepcopy(doc)
    altered["result"]["counts"][0] += 1  # a tally that the decryption does not support
    failed = [c.name for c in verify_record(altered) if not c.ok]
    assert failed, "an altered record must not verify"
    swapped = copy.deepcopy(doc)
    swapped["mix"][1]["response"]["outputs"][0], swapped["mix"][1]["response"]["outputs"][1] = (
        swapped["mix"][1]["response"]["outputs"][1],
        swapped["mix"][1]["response"]["outputs"][0],
    )
    assert not all_passed(verify_record(swapped))


# One real misbehaving `mixscope node` per way a stage can be refused (mixnet/stages.py): the rejection class
# the server records, a word of its reason, and the class the stand-alone verifier re-derives.
CHEATS = [("drop", "malformed", "outputs for"), ("replace", "proof_fails", "check failed"),
          ("swap", "proof_fails", "check failed"), ("wrong_stage", "malformed", "answered for stage 1, not 0"),
          ("malformed", "malformed", "response fields"), ("identity", "not_rerandomised", "equals an input"),
          ("silent", "no_answer", "did not answer")]


@pytest.mark.parametrize("cheat, rejected_as, reason", CHEATS)
def test_a_cheating_mixer_is_caught_and_the_honest_ones_finish(tmp_path, monkeypatch, cheat, rejected_as, reason):
    from mixscope.server.election import cascade

    monkeypatch.setattr(cascade, "MIX_TIMEOUT_BASE", 4.0)  # the silent mixer's stage times out quickly
    report = run_demo(12, 3, 3, 2, ["yes", "no"], cheat=cheat, data_dir=str(tmp_path))
    first, *rest = report["stages"]
    assert first["mixer"] == "mixer-1" and first["status"] == "rejected" and reason in first["reason"]
    assert first["class"] == rejected_as
    assert [s["status"] for s in rest] == ["accepted", "accepted"]
    assert report["verified"] and report["tally_matches"]
    doc = json.loads(Path(report["record"]).read_text())
    stage = doc["mix"][0]
    assert stage["status"] == "rejected" and stage["class"] == rejected_as
    assert (stage["response"] is None) == (rejected_as == "no_answer")
    verified = subprocess.run([sys.executable, "-m", "mixscope", "verify", report["record"]], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout[-2000:]
    assert f"PASS mix stage 0 rejection justified: {rejected_as}" in verified.stdout
    # The same record with that stage's evidence altered fails, with a reason.
    altered = copy.deepcopy(doc)
    if rejected_as == "no_answer":
        altered["mix"][0]["response"] = copy.deepcopy(doc["mix"][1]["response"])  # evidence the mixer never sent
    else:
        altered["mix"][0]["response"]["election_id"] = "another"
    failed = {c.name: c.reason for c in verify_record(altered) if not c.ok}
    assert set(failed) == {"mix stage 0 rejection justified"}, failed
    relabelled = copy.deepcopy(doc)
    relabelled["mix"][0]["class"] = "proof_fails" if rejected_as != "proof_fails" else "malformed"
    assert "mix stage 0 rejection justified" in {c.name for c in verify_record(relabelled) if not c.ok}


def test_the_demo_command_prints_json_and_exits_zero(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mixscope", "demo", "--voters", "6", "--mixers", "2", "--trustees",
                          "2", "--threshold", "1", "--json", "--full-verify", "--data-dir", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["verified"] is True and report["ballots"] == 6 and sum(report["tally"].values()) == 6
    assert report["verification"] == "full"
    assert set(report["phases"]) >= {"keygen", "voting", "mix", "decrypt", "publish"}
    assert report["backend"] in ("native", "sodium")
    share = report["mix_kernel"]  # the mix's wall time against its pool workers' CPU (a few ms for 6 ballots)
    assert share["wall_s"] == report["phases"]["mix"] and share["pool_cpu_s"] >= 0
    assert share["overhead_pct"] is None or share["overhead_pct"] > -100
    # its CPU split by role: the server, the nodes, and each one's process pool
    assert set(share["cpu_s"]) >= {"server", "server pool", "mixer", "trustee"} and share["cores"] >= 1
    assert share["pool_cpu_s"] == pytest.approx(sum(v for k, v in share["cpu_s"].items() if k.endswith(" pool")),
                                                abs=0.01)
    assert Path(report["record"]).is_file()
    bad = subprocess.run([sys.executable, "-m", "mixscope", "demo", "--voters", "6", "--mixers", "1", "--cheat",
                          "drop"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "honest" in bad.stderr


def test_decryption_with_one_trustee_missing_and_an_invalid_vote(server, tmp_path):
    from mixscope.client.vote import BallotApi, public_key_of
    from mixscope.client.voters import simulate_voters
    from mixscope.mixnet import elgamal

    nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
    try:
        for k in (1, 2):
            nodes.spawn("mixer", f"mixer-{k}")
        trustees = [nodes.spawn("trustee", f"trustee-{i}") for i in (1, 2, 3)]
        wait_for_nodes(server, {"mixer": 2, "trustee": 3})
        choices = [0, 1, 1, 0, 1, 1, 1]
        *held, eve = credentials.generate(len(choices) + 1)
        eid = server.call("election.create", {"candidates": ["a", "b"], "threshold": 2, "trustees": 3, "mixers": 2,
                                              "credentials": [c.voter_id for c in (*held, eve)]}
                          ).result(10)["election_id"]
        server.call("election.keygen", {"election_id": eid}).result(60)
        simulate_voters(server.url, eid, choices, credentials=held)
        with BallotApi(server.url) as api:  # eve votes for a third candidate that does not exist
            spoilt = credentials.seal(eve, public_key_of(api.election(eid)), eid, elgamal.encode_choice(2))
            assert api.cast(eid, eve.voter_id, spoilt.to_json())["position"] == len(choices) + 1
        trustees[1].kill()  # trustee-2 is gone for good
        trustees[1].wait(10)
        deadline = time.monotonic() + 10
        while len(server._hub.election_nodes("trustee")) > 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.call("election.close", {}).result(10)
        server.call("election.mix", {}).result(120)
        result = server.call("election.decrypt", {}).result(120)
        assert result["counts"] == [2, 5] and result["invalid"] == 1
        assert sorted(result["trustees"]) == ["trustee-1", "trustee-3"]
        published = server.call("election.publish", {}).result(120)
        assert published["verified"]
        record = server.board.record(eid)
        assert record["result"] == {"counts": [2, 5], "invalid": 1} and record["plaintexts"].count(None) == 1
        assert all_passed(verify_record(record))
        status = server.call("election.status", {"election_id": eid}).result(10)
        assert status["election"]["state"] == "published" and status["decrypted_by"] == result["trustees"]
    finally:
        nodes.stop()


def test_too_few_trustees_cannot_decrypt_and_the_election_waits(server, tmp_path):
    from mixscope.client.voters import simulate_voters

    nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
    try:
        nodes.spawn("mixer", "mixer-1")
        trustees = [nodes.spawn("trustee", f"trustee-{i}") for i in (1, 2)]
        wait_for_nodes(server, {"mixer": 1, "trustee": 2})
        held = credentials.generate(3)
        server.call("election.create", {"candidates": ["a", "b"], "threshold": 2, "trustees": 2,
                                        "credentials": [c.voter_id for c in held]}).result(10)
        server.call("election.keygen", {}).result(60)
        simulate_voters(server.url, server.call("election.current", {}).result(10)["election_id"], [0, 1, 1],
                        credentials=held)
        server.call("election.close", {}).result(10)
        server.call("election.mix", {}).result(60)
        trustees[0].kill()
        trustees[0].wait(10)
        deadline = time.monotonic() + 10
        while len(server._hub.election_nodes("trustee")) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(Exception, match="decryption needs 2 trustees; 1"):
            server.call("election.decrypt", {}).result(60)
        assert server.call("election.current", {}).result(10)["election"]["state"] == "decrypting"
    finally:
        nodes.stop()


def test_the_election_fails_with_a_reason_when_no_honest_mixer_is_left(server, tmp_path):
    from mixscope.client.voters import simulate_voters

    nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
    try:
        nodes.spawn("mixer", "mixer-1", "--cheat", "swap")
        nodes.spawn("trustee", "trustee-1")
        wait_for_nodes(server, {"mixer": 1, "trustee": 1})
        held = credentials.generate(4)
        eid = server.call("election.create", {"candidates": ["a", "b"], "credentials": [c.voter_id for c in held]}
                          ).result(10)["election_id"]
        server.call("election.keygen", {}).result(60)
        simulate_voters(server.url, eid, [0, 1, 1, 0], credentials=held)
        server.call("election.close", {}).result(10)
        with pytest.raises(Exception, match="no honest mixer left"):
            server.call("election.mix", {}).result(60)
        election = server.board.get_election(eid)
        assert election.state == "failed" and "no honest mixer left" in election.reason
        assert [s.status for s in server.board.mix_stages(eid)] == ["rejected"]
    finally:
        nodes.stop()


def test_trustees_refuse_a_list_that_does_not_end_the_signed_cascade(server, tmp_path, monkeypatch):
    """A server that hides the accepted stages from the trustees (as one decrypting a list of its own making would
    have to): every real trustee node refuses with its reason, the refusals are on the board, nothing is
    decrypted."""
    from mixscope.client.voters import simulate_voters
    from mixscope.server.election import cascade, records

    async def hide(*_args, **_kwargs):  # ...and forwards no stage to the trustees during the mix
        return []

    monkeypatch.setattr(cascade, "forward_stage", hide)
    nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
    try:
        nodes.spawn("mixer", "mixer-1")
        for i in (1, 2):
            nodes.spawn("trustee", f"trustee-{i}")
        wait_for_nodes(server, {"mixer": 1, "trustee": 2})
        held = credentials.generate(3)
        eid = server.call("election.create", {"candidates": ["a", "b"], "threshold": 1, "trustees": 2,
                                              "credentials": [c.voter_id for c in held]}).result(10)[
            "election_id"]
        server.call("election.keygen", {}).result(60)
        simulate_voters(server.url, eid, [0, 1, 1], credentials=held)
        server.call("election.close", {}).result(10)
        server.call("election.mix", {}).result(60)
        honest = records.cascade_evidence
        monkeypatch.setattr(records, "cascade_evidence", lambda board, e: {**honest(board, e), "stages": []})
        with pytest.raises(Exception, match="valid partial decryptions arrived"):
            server.call("election.decrypt", {}).result(60)
        refusals = server.board.trustee_messages(eid, records.REFUSAL)
        assert sorted(m.trustee for m in refusals) == ["trustee-1", "trustee-2"]
        assert all("no accepted mix stage" in m.body["reason"] for m in refusals)
        assert server.board.decryption_shares(eid) == {}
        import urllib.request
        with urllib.request.urlopen(f"{server.url}/elections/{eid}/board", timeout=10) as page:
            html = page.read().decode()
        assert "Trustee refusals" in html and "trustee-1: " in html and "no accepted mix stage" in html
    finally:
        nodes.stop()

"""The voter simulator and `mixscope vote` against a real server: real encrypted ballots over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from client.vote import ApiError
from client.voters import IN_PROCESS_BELOW, SimulationError, SimulationFailed, simulate_voters, \
    simulate_voters_in_child
from mixnet import ballots
from web_election import voting_election

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_simulator_casts_every_ballot_exactly_once(server):
    election_id, public_key = voting_election(server.board)
    choices = [i % 3 for i in range(IN_PROCESS_BELOW + 20)]  # enough to use the process pool
    seen = []
    receipts = simulate_voters(server.url, election_id, choices, concurrency=3, voter_prefix="v",
                               progress=lambda done, total: seen.append((done, total)))
    stored = server.board.ballots(election_id)
    assert len(stored) == len(choices) == len(receipts)
    by_voter = {b.voter_id: b for b in stored}
    for i, receipt in enumerate(receipts):
        ballot = by_voter[f"v{i + 1}"]
        assert receipt["receipt"] == ballot.tracking_hash and receipt["position"] == ballot.position
    assert sorted(b.position for b in stored) == list(range(1, len(choices) + 1))
    assert seen[-1] == (len(choices), len(choices)) and len(seen) == len(choices)
    sample = by_voter["v5"]
    ballots.verify_ballot(public_key, election_id, "v5", ballots.Ballot.from_json(sample.ballot))


@pytest.mark.slow
def test_simulator_reports_refused_ballots(server):
    election_id, _ = voting_election(server.board)
    simulate_voters(server.url, election_id, [0, 1, 2], voter_prefix="w")
    with pytest.raises(SimulationError) as caught:  # same voters again: fresh randomness, so different ballots
        simulate_voters(server.url, election_id, [0, 1, 2], voter_prefix="w")
    assert sorted(caught.value.errors) == [0, 1, 2] and "already cast" in caught.value.errors[0]
    assert server.board.count_ballots(election_id) == 3


def test_simulator_refuses_an_election_that_is_not_voting(server):
    election_id, _ = voting_election(server.board, state="closed")
    with pytest.raises(ApiError, match="closed"):
        simulate_voters(server.url, election_id, [0])
    with pytest.raises(ApiError) as caught:
        simulate_voters(server.url, "missing", [0])
    assert caught.value.status == 404


@pytest.mark.slow
def test_simulator_in_a_child_process_casts_every_ballot_and_reports_progress(server):
    election_id, _ = voting_election(server.board)
    seen = []
    receipts = simulate_voters_in_child(server.url, election_id, [0, 1, 2, 1],
                                        progress=lambda done, total: seen.append((done, total)))
    stored = {b.voter_id: b.tracking_hash for b in server.board.ballots(election_id)}
    assert len(receipts) == len(stored) == 4
    assert sorted(r["receipt"] for r in receipts) == sorted(stored.values())
    assert seen and seen[-1] == (4, 4)


def test_simulator_in_a_child_process_says_why_it_failed(server):
    election_id, _ = voting_election(server.board, state="closed")
    with pytest.raises(SimulationFailed, match="closed"):
        simulate_voters_in_child(server.url, election_id, [0, 1])
    assert server.board.count_ballots(election_id) == 0


def run_vote(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mixscope", "vote", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_vote_command_prints_the_receipt(server):
    election_id, _ = voting_election(server.board)
    done = run_vote("--server", server.url, "--election", election_id, "--voter", "zoe", "--choice", "green")
    assert done.returncode == 0, done.stderr
    [stored] = server.board.ballots(election_id)
    assert done.stdout.strip() == f"receipt {stored.tracking_hash} (position 1)"
    assert stored.voter_id == "zoe"


def test_vote_command_errors_are_one_line(server):
    election_id, _ = voting_election(server.board)
    bad_choice = run_vote("--server", server.url, "--election", election_id, "--voter", "z", "--choice", "7")
    assert bad_choice.returncode == 2 and "neither an index nor a candidate" in bad_choice.stderr
    closed_id, _ = voting_election(server.board, state="closed")
    closed = run_vote("--server", server.url, "--election", closed_id, "--voter", "z", "--choice", "0")
    assert closed.returncode == 1 and "closed" in closed.stderr
    for done in (bad_choice, closed):
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert server.board.count_ballots(election_id) == server.board.count_ballots(closed_id) == 0


@pytest.mark.slow
def test_bench_voters_reports_a_rate_for_ballots_it_really_stored():
    from mixscope.bench_voters import measure

    report = measure(20, concurrency=2, workers=0)
    assert report["stored"] == report["receipts"] == 20
    assert report["ballots_per_second"] > 0 and report["server_only_ballots_per_second"] > 0

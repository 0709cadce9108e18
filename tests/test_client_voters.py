"""The voter simulator and `mixscope vote` against a real server: real encrypted ballots over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mixscope.client.http_api import ApiError
from mixscope.client.voters import (
    IN_PROCESS_BELOW,
    SimulationError,
    SimulationFailed,
    simulate_voters,
    simulate_voters_in_child,
)
from mixscope.mixnet import ballots
from mixscope.mixnet import credentials as credentials_mod
from web_election import credential, voting_election

ROOT = Path(__file__).resolve().parents[1]


def voters(election_id, count, prefix="v"):
    """The private credentials of `count` listed voters of a test election."""
    return [credential(election_id, f"{prefix}{i + 1}") for i in range(count)]


@pytest.mark.slow
def test_simulator_casts_every_ballot_exactly_once(server):
    election_id, public_key = voting_election(server.board)
    choices = [i % 3 for i in range(IN_PROCESS_BELOW + 20)]  # enough to use the process pool
    held = voters(election_id, len(choices))
    seen = []
    receipts = simulate_voters(server.url, election_id, choices, concurrency=3, credentials=held,
                               progress=lambda done, total: seen.append((done, total)))
    stored = server.board.ballots(election_id)
    assert len(stored) == len(choices) == len(receipts)
    by_voter = {b.voter_id: b for b in stored}
    for i, receipt in enumerate(receipts):
        ballot = by_voter[held[i].voter_id]  # each ballot is keyed by its voter's public credential
        assert receipt["receipt"] == ballot.tracking_hash and receipt["position"] == ballot.position
    assert sorted(b.position for b in stored) == list(range(1, len(choices) + 1))
    assert seen[-1] == (len(choices), len(choices)) and len(seen) == len(choices)
    sample = by_voter[held[4].voter_id]
    credentials_mod.verify(public_key, election_id, held[4].voter_id, ballots.Ballot.from_json(sample.ballot))


@pytest.mark.slow
def test_simulator_reports_refused_ballots(server):
    election_id, _ = voting_election(server.board)
    held = voters(election_id, 3, "w")
    simulate_voters(server.url, election_id, [0, 1, 2], credentials=held)
    with pytest.raises(SimulationError) as caught:  # same voters again: fresh randomness, so different ballots
        simulate_voters(server.url, election_id, [0, 1, 2], credentials=held)
    assert sorted(caught.value.errors) == [0, 1, 2] and "already cast" in caught.value.errors[0]
    assert server.board.count_ballots(election_id) == 3
    with pytest.raises(SimulationError) as caught:  # credentials the election does not list
        simulate_voters(server.url, election_id, [0, 1], credentials=credentials_mod.generate(2))
    assert "not one of this election's public credentials" in caught.value.errors[0]
    assert server.board.count_ballots(election_id) == 3


def test_simulator_refuses_an_election_that_is_not_voting(server):
    election_id, _ = voting_election(server.board, state="closed")
    with pytest.raises(ApiError, match="closed"):
        simulate_voters(server.url, election_id, [0], credentials=voters(election_id, 1))
    with pytest.raises(ApiError) as caught:
        simulate_voters(server.url, "missing", [0], credentials=voters(election_id, 1))
    assert caught.value.status == 404


@pytest.mark.slow
def test_simulator_in_a_child_process_casts_every_ballot_and_reports_progress(server):
    election_id, _ = voting_election(server.board)
    seen = []
    receipts = simulate_voters_in_child(server.url, election_id, [0, 1, 2, 1], credentials=voters(election_id, 4),
                                        progress=lambda done, total: seen.append((done, total)))
    stored = {b.voter_id: b.tracking_hash for b in server.board.ballots(election_id)}
    assert len(receipts) == len(stored) == 4
    assert sorted(r["receipt"] for r in receipts) == sorted(stored.values())
    assert seen and seen[-1] == (4, 4)


def test_simulator_in_a_child_process_says_why_it_failed(server):
    election_id, _ = voting_election(server.board, state="closed")
    with pytest.raises(SimulationFailed, match="closed"):
        simulate_voters_in_child(server.url, election_id, [0, 1], credentials=voters(election_id, 2))
    assert server.board.count_ballots(election_id) == 0


def run_vote(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mixscope", "vote", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def credential_file(tmp_path, election_id, name):
    """Voter `name`'s private credential file, as `mixscope election credentials` writes them."""
    from mixscope.client.credential_file import write_private

    path = tmp_path / f"{name}.json"
    write_private(path, name, credential(election_id, name))
    return str(path)


def test_vote_command_prints_the_receipt(server, tmp_path):
    election_id, public_key = voting_election(server.board)
    zoe = credential_file(tmp_path, election_id, "zoe")
    done = run_vote("--server", server.url, "--election", election_id, "--credential", zoe, "--choice", "green")
    assert done.returncode == 0, done.stderr
    [stored] = server.board.ballots(election_id)
    assert done.stdout.strip() == f"receipt {stored.tracking_hash} (position 1)"
    assert stored.voter_id == credential(election_id, "zoe").voter_id  # keyed by zoe's public credential
    credentials_mod.verify(public_key, election_id, stored.voter_id, ballots.Ballot.from_json(stored.ballot))
    again = run_vote("--server", server.url, "--election", election_id, "--credential", zoe, "--choice", "red")
    assert again.returncode == 1 and "already cast" in again.stderr


@pytest.mark.slow
def test_vote_command_errors_are_one_line(server, tmp_path):
    election_id, _ = voting_election(server.board)
    z = credential_file(tmp_path, election_id, "z")
    bad_choice = run_vote("--server", server.url, "--election", election_id, "--credential", z, "--choice", "7")
    assert bad_choice.returncode == 2 and "neither an index nor a candidate" in bad_choice.stderr
    closed_id, _ = voting_election(server.board, state="closed")
    closed = run_vote("--server", server.url, "--election", closed_id, "--credential", z, "--choice", "0")
    assert closed.returncode == 1 and "closed" in closed.stderr
    stranger = tmp_path / "stranger.txt"
    stranger.write_text(credentials_mod.new_code() + "\n")  # a bare code that is on no list
    unlisted = run_vote("--server", server.url, "--election", election_id, "--credential", str(stranger),
                        "--choice", "0")
    assert unlisted.returncode == 1 and "not one of this election's public credentials" in unlisted.stderr
    missing = run_vote("--server", server.url, "--election", election_id, "--credential", str(tmp_path / "nope"),
                       "--choice", "0")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    for done in (bad_choice, closed, unlisted, missing):
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert server.board.count_ballots(election_id) == server.board.count_ballots(closed_id) == 0


@pytest.mark.slow
def test_bench_voters_reports_a_rate_for_ballots_it_really_stored():
    from mixscope.bench_voters import measure

    report = measure(20, concurrency=2, workers=0)
    assert report["stored"] == report["receipts"] == 20
    assert report["ballots_per_second"] > 0 and report["server_only_ballots_per_second"] > 0

"""The batch form of the ballot API against a real server (its process pool checks the proofs): good ballots
stored exactly once in one commit, bad ones refused with their reason and nothing of them stored."""

from __future__ import annotations

import copy

import pytest

from mixnet import ballots
from server.ballot_batch import MAX_BATCH
from server.board import content_hash
from web_election import CANDIDATES, request, voting_election


@pytest.fixture
def election(server):
    return voting_election(server.board)


def cast(election_id, public_key, voter, choice=1):
    return ballots.cast(public_key, election_id, voter, len(CANDIDATES), choice).to_json()


def post(server, election_id, body=None, raw=None):
    headers = {"Content-Type": "application/json"} if raw is not None else None
    return request(server, "POST", f"/api/elections/{election_id}/ballots", body=body, raw=raw, headers=headers)


def test_good_batch_is_stored_exactly_once_and_resubmission_is_idempotent(server, election):
    election_id, public_key = election
    entries = [{"voter_id": f"v{i}", "ballot": cast(election_id, public_key, f"v{i}", i % 3)} for i in range(12)]
    status, reply = post(server, election_id, {"ballots": entries})
    assert status == 200, reply
    assert (reply["stored"], reply["refused"]) == (12, 0)
    results = reply["results"]
    assert [r["index"] for r in results] == list(range(12)) and {r["status"] for r in results} == {201}
    assert [r["receipt"] for r in results] == [content_hash(e["ballot"]) for e in entries]
    stored = server.board.ballots(election_id)
    assert [(b.voter_id, b.position, b.tracking_hash) for b in stored] == \
        [(r["voter_id"], r["position"], r["receipt"]) for r in results]

    status, again = post(server, election_id, {"ballots": entries})
    assert status == 200 and (again["stored"], again["refused"]) == (0, 0)
    assert [r["status"] for r in again["results"]] == [200] * 12
    assert [r["receipt"] for r in again["results"]] == [r["receipt"] for r in results]
    assert server.board.count_ballots(election_id) == 12


def test_mixed_batch_refuses_the_bad_ones_with_reasons_and_stores_only_the_good(server, election):
    election_id, public_key = election
    good = [cast(election_id, public_key, f"g{i}") for i in range(3)]
    tampered = copy.deepcopy(cast(election_id, public_key, "t"))
    tampered["randomness_proof"]["response"] = "00" * 32
    other = ballots.cast(public_key, "another-election", "o", len(CANDIDATES), 0).to_json()
    entries = [
        {"voter_id": "g0", "ballot": good[0]},
        {"voter_id": "t", "ballot": tampered},                    # a bad proof
        {"voter_id": "g1", "ballot": good[1]},
        {"voter_id": "o", "ballot": other},                       # cast for another election
        {"voter_id": "x", "ballot": {"ciphertext": ["ff" * 32, "00" * 32]}},  # malformed
        {"voter_id": "", "ballot": good[2]},                      # bad voter id
        "not an entry",
        {"voter_id": "g1", "ballot": cast(election_id, public_key, "g1", 2)},  # g1's second, different ballot
        {"voter_id": "g2", "ballot": good[0]},                    # g0's ballot under another name: its proofs fail
    ]
    status, reply = post(server, election_id, {"ballots": entries})
    assert status == 200, reply
    by_index = {r["index"]: r for r in reply["results"]}
    assert [by_index[i]["status"] for i in range(len(entries))] == [201, 422, 201, 422, 400, 400, 400, 409, 422]
    assert "proof of randomness" in by_index[1]["error"] and "proof" in by_index[3]["error"]
    assert "malformed ballot" in by_index[4]["error"] and "voter_id" in by_index[5]["error"]
    assert "already cast" in by_index[7]["error"]
    assert (reply["stored"], reply["refused"]) == (2, 7)
    assert [(b.voter_id, b.position) for b in server.board.ballots(election_id)] == [("g0", 1), ("g1", 2)]


@pytest.mark.parametrize("case, status, reason", [
    ("too many ballots", 413, f"at most {MAX_BATCH}"),
    ("empty batch", 400, "empty"),
    ("ballots not a list", 400, "a batch is"),
    ("extra field", 400, "a batch is"),
    ("big body that is no batch", 413, "at most"),
])
def test_unusable_batch_is_refused_whole(server, election, case, status, reason):
    election_id, public_key = election
    one = {"voter_id": "v", "ballot": cast(election_id, public_key, "v")}
    bodies = {
        "too many ballots": {"ballots": [one] * (MAX_BATCH + 1)},
        "empty batch": {"ballots": []},
        "ballots not a list": {"ballots": one},
        "extra field": {"ballots": [one], "voter_id": "v"},
        "big body that is no batch": {"voter_id": "v", "ballot": one["ballot"], "padding": "x" * 300_000},
    }
    got, reply = post(server, election_id, bodies[case])
    assert got == status and reason in reply["error"], reply
    assert server.board.count_ballots(election_id) == 0


def test_batch_for_a_closed_election_answers_stored_ballots_and_refuses_new_ones(server):
    election_id, public_key = voting_election(server.board)
    kept = {"voter_id": "a", "ballot": cast(election_id, public_key, "a")}
    assert post(server, election_id, {"ballots": [kept]})[1]["stored"] == 1
    server.board.set_state(election_id, "closed")
    late = {"voter_id": "b", "ballot": cast(election_id, public_key, "b")}
    status, reply = post(server, election_id, {"ballots": [kept, late]})
    assert status == 200 and [r["status"] for r in reply["results"]] == [200, 409]
    assert "not voting" in reply["results"][1]["error"] and server.board.count_ballots(election_id) == 1


def test_unknown_election_and_not_json(server, election):
    assert post(server, "nope", {"ballots": []})[0] == 404
    election_id, _ = election
    status, reply = post(server, election_id, raw=b'{"ballots": [' + b" " * 300_000)
    assert status == 400 and "not valid JSON" in reply["error"]

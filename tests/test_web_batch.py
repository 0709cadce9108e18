"""The batch form of the ballot API against a real server (its process pool checks the proofs): good ballots
stored exactly once in one commit, bad ones refused with their reason and nothing of them stored."""

from __future__ import annotations

import copy

import pytest

from mixscope.mixnet import credentials
from mixscope.server.ballot_batch import MAX_BATCH
from mixscope.server.board import content_hash
from web_election import CANDIDATES, request, signed_ballot, voter_id, voting_election


@pytest.fixture
def election(server):
    return voting_election(server.board)


def cast(election_id, public_key, voter, choice=1):
    """Voter `voter`'s signed ballot: the API keys it by their public credential (voter_id(...))."""
    return signed_ballot(election_id, public_key, voter, choice)


def post(server, election_id, body=None, raw=None):
    headers = {"Content-Type": "application/json"} if raw is not None else None
    return request(server, "POST", f"/api/elections/{election_id}/ballots", body=body, raw=raw, headers=headers)


def test_good_batch_is_stored_exactly_once_and_resubmission_is_idempotent(server, election):
    election_id, public_key = election
    entries = [
        {"voter_id": voter_id(election_id, f"v{i}"), "ballot": cast(election_id, public_key, f"v{i}", i % 3)}
        for i in range(12)
    ]
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
    other = signed_ballot(election_id, public_key, "o", 0, for_election="another-election")
    stranger = credentials.generate(1)[0]  # not on this election's list
    unsigned = {k: v for k, v in cast(election_id, public_key, "u").items() if k != "signature"}
    entries = [
        {"voter_id": voter_id(election_id, "g0"), "ballot": good[0]},
        {"voter_id": voter_id(election_id, "t"), "ballot": tampered},  # a bad proof
        {"voter_id": voter_id(election_id, "g1"), "ballot": good[1]},
        {"voter_id": voter_id(election_id, "o"), "ballot": other},  # cast for another election
        {"voter_id": voter_id(election_id, "x"), "ballot": {"ciphertext": ["ff" * 32, "00" * 32]}},  # malformed
        {"voter_id": "", "ballot": good[2]},  # bad voter id
        "not an entry",
        {
            "voter_id": voter_id(election_id, "g1"),
            "ballot": cast(election_id, public_key, "g1", 2),
        },  # g1's second, different ballot
        {"voter_id": voter_id(election_id, "g2"), "ballot": good[0]},  # g0's ballot under g2's credential
        {
            "voter_id": stranger.voter_id,  # a valid signature, an unlisted credential
            "ballot": credentials.cast(stranger, public_key, election_id, len(CANDIDATES), 0).to_json(),
        },
        {"voter_id": voter_id(election_id, "u"), "ballot": unsigned},  # no signature
    ]
    status, reply = post(server, election_id, {"ballots": entries})
    assert status == 200, reply
    by_index = {r["index"]: r for r in reply["results"]}
    # The signature covers the ciphertext and the proof, so a tampered or copied ballot fails it first (403).
    assert [by_index[i]["status"] for i in range(len(entries))] == [201, 403, 201, 403, 400, 400, 400, 409, 403,
                                                                    403, 403]
    assert "credential signature" in by_index[1]["error"] and "credential signature" in by_index[3]["error"]
    assert "malformed ballot" in by_index[4]["error"] and "voter_id" in by_index[5]["error"]
    assert "already cast" in by_index[7]["error"] and "credential signature" in by_index[8]["error"]
    assert "not one of this election's public credentials" in by_index[9]["error"]
    assert "not signed with a credential" in by_index[10]["error"]
    assert (reply["stored"], reply["refused"]) == (2, 9)
    assert [(b.voter_id, b.position) for b in server.board.ballots(election_id)] == \
        [(voter_id(election_id, "g0"), 1), (voter_id(election_id, "g1"), 2)]


@pytest.mark.parametrize("case, status, reason", [
    ("too many ballots", 413, f"at most {MAX_BATCH}"),
    ("empty batch", 400, "empty"),
    ("ballots not a list", 400, "a batch is"),
    ("extra field", 400, "a batch is"),
    ("big body that is no batch", 413, "at most"),
])
@pytest.mark.slow
def test_unusable_batch_is_refused_whole(server, election, case, status, reason):
    election_id, public_key = election
    one = {"voter_id": voter_id(election_id, "v"), "ballot": cast(election_id, public_key, "v")}
    bodies = {
        "too many ballots": {"ballots": [one] * (MAX_BATCH + 1)},
        "empty batch": {"ballots": []},
        "ballots not a list": {"ballots": one},
        "extra field": {"ballots": [one], "voter_id": "v"},
        "big body that is no batch": {
            "voter_id": voter_id(election_id, "v"),
            "ballot": one["ballot"],
            "padding": "x" * 300_000,
        },
    }
    got, reply = post(server, election_id, bodies[case])
    assert got == status and reason in reply["error"], reply
    assert server.board.count_ballots(election_id) == 0


@pytest.mark.slow
def test_batch_for_a_closed_election_answers_stored_ballots_and_refuses_new_ones(server):
    election_id, public_key = voting_election(server.board)
    kept = {"voter_id": voter_id(election_id, "a"), "ballot": cast(election_id, public_key, "a")}
    assert post(server, election_id, {"ballots": [kept]})[1]["stored"] == 1
    server.board.set_state(election_id, "closed")
    late = {"voter_id": voter_id(election_id, "b"), "ballot": cast(election_id, public_key, "b")}
    status, reply = post(server, election_id, {"ballots": [kept, late]})
    assert status == 200 and [r["status"] for r in reply["results"]] == [200, 409]
    assert "not voting" in reply["results"][1]["error"] and server.board.count_ballots(election_id) == 1


def test_unknown_election_and_not_json(server, election):
    assert post(server, "nope", {"ballots": []})[0] == 404
    election_id, _ = election
    status, reply = post(server, election_id, raw=b'{"ballots": [' + b" " * 300_000)
    assert status == 400 and "not valid JSON" in reply["error"]

"""Mixnet ballots: valid ballots verify, round-trip, and are bound to their voter, election, key and
candidate list; tampered or malformed ballots are rejected with a reason."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixnet import ballots, elgamal, group
from mixnet.errors import ProofError

KEY = elgamal.KeyPair.generate()
K = 3


@pytest.fixture(scope="module")
def ballot():
    return ballots.cast(KEY.public, "e1", "alice", K, 1)


@settings(max_examples=15, deadline=None)
@given(count=st.integers(min_value=1, max_value=4), data=st.data(), voter=st.text(max_size=12))
def test_cast_ballot_verifies_round_trips_and_decrypts(count, data, voter):
    choice = data.draw(st.integers(min_value=0, max_value=count - 1))
    b = ballots.cast(KEY.public, "e1", voter, count, choice)
    again = ballots.Ballot.from_json(b.to_json())
    assert again == b
    ballots.verify_ballot(KEY.public, "e1", voter, count, again)
    assert elgamal.decode_choice(elgamal.decrypt(KEY.secret, again.ciphertext), count) == choice


def test_ballot_copied_to_another_voter_is_rejected(ballot):
    with pytest.raises(ProofError, match="proof of randomness"):
        ballots.verify_ballot(KEY.public, "e1", "mallory", K, ballot)


def test_ballot_from_another_election_or_key_or_candidate_list_is_rejected(ballot):
    with pytest.raises(ProofError):
        ballots.verify_ballot(KEY.public, "e2", "alice", K, ballot)
    with pytest.raises(ProofError):
        ballots.verify_ballot(elgamal.KeyPair.generate().public, "e1", "alice", K, ballot)
    with pytest.raises(ProofError, match="valid choice"):
        ballots.verify_ballot(KEY.public, "e1", "alice", K + 1, ballot)
    ballots.verify_ballot(KEY.public, "e1", "alice", ["x", "y", "z"], ballot)  # a name list counts as K


def test_reencrypted_ballot_is_rejected(ballot):
    # Someone re-randomising alice's ciphertext cannot prove knowledge of the new randomness.
    moved = ballot._replace(ciphertext=elgamal.reencrypt(KEY.public, ballot.ciphertext))
    with pytest.raises(ProofError, match="proof of randomness"):
        ballots.verify_ballot(KEY.public, "e1", "alice", K, moved)


def test_out_of_range_choice_cannot_be_cast_or_proven():
    with pytest.raises(ValueError):
        ballots.cast(KEY.public, "e1", "alice", K, K)
    # A voter encrypting choice K and proving membership in 0..K−1 anyway fails verification.
    r = group.random_scalar()
    ct = elgamal.encrypt(KEY.public, elgamal.encode_choice(K), r)
    from mixnet import proofs

    fake = ballots.Ballot(
        ct,
        proofs.schnorr_prove(r, ballots._randomness_context(KEY.public, "e1", "alice", ct)),
        proofs.disjunctive_prove(KEY.public, ct.a, ct.b, r, ballots.candidate_messages(K), 0, ballots.ballot_context("e1", "alice", "choice")),
    )
    with pytest.raises(ProofError, match="valid choice"):
        ballots.verify_ballot(KEY.public, "e1", "alice", K, fake)


def _leaf_paths(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaf_paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaf_paths(v, path + (i,))
    else:
        yield path


def test_every_field_altered_is_rejected(ballot):
    doc = ballot.to_json()
    paths = list(_leaf_paths(doc))
    assert len(paths) == 2 + 2 + 4 * K
    for path in paths:
        variant = copy.deepcopy(doc)
        target = variant
        for step in path[:-1]:
            target = target[step]
        old = target[path[-1]]
        scalar = any(p in ("response", "challenges", "responses") for p in path)
        target[path[-1]] = group.scalar_hex(group.decode_scalar(old) + 1) if scalar else group.add(group.decode(old), group.GENERATOR).hex()
        with pytest.raises(ProofError):
            ballots.verify_ballot(KEY.public, "e1", "alice", K, ballots.Ballot.from_json(variant))


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda d: d.pop("choice_proof"), "lacks field"),
        (lambda d: d.__setitem__("ciphertext", ["00" * 32]), "pair"),
        (lambda d: d.__setitem__("ciphertext", ["ff" * 32, "00" * 32]), "canonical"),
        (lambda d: d["randomness_proof"].__setitem__("response", 7), "out of range|hex"),
        (lambda d: d.__setitem__("randomness_proof", None), "object"),
    ],
)
def test_malformed_ballot_json_is_a_typed_error(ballot, mutate, reason):
    doc = ballot.to_json()
    mutate(doc)
    with pytest.raises(ProofError, match=reason):
        ballots.Ballot.from_json(doc)

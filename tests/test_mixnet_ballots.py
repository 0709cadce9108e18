"""Mixnet ballots: valid ballots verify, round-trip, and are bound to their voter, election and key; tampered
or malformed ballots are rejected with a reason; a ballot of no candidate is well-formed (counted invalid later)."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixscope.mixnet import ballots, elgamal, group
from mixscope.mixnet.errors import ProofError

# Every test here runs under both backends of group.multi_mul (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

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
    ballots.verify_ballot(KEY.public, "e1", voter, again)
    assert elgamal.decode_choice(elgamal.decrypt(KEY.secret, again.ciphertext), count) == choice


def test_ballot_copied_to_another_voter_is_rejected(ballot):
    with pytest.raises(ProofError, match="proof of randomness"):
        ballots.verify_ballot(KEY.public, "e1", "mallory", ballot)


def test_ballot_from_another_election_or_key_is_rejected(ballot):
    with pytest.raises(ProofError, match="proof of randomness"):
        ballots.verify_ballot(KEY.public, "e2", "alice", ballot)
    with pytest.raises(ProofError, match="proof of randomness"):
        ballots.verify_ballot(elgamal.KeyPair.generate().public, "e1", "alice", ballot)


def test_reencrypted_ballot_is_rejected(ballot):
    # Someone re-randomising alice's ciphertext cannot prove knowledge of the new randomness.
    moved = ballot._replace(ciphertext=elgamal.reencrypt(KEY.public, ballot.ciphertext))
    with pytest.raises(ProofError, match="proof of randomness"):
        ballots.verify_ballot(KEY.public, "e1", "alice", moved)


def test_out_of_range_choice_cannot_be_cast():
    for choice in (K, -1, True, "1"):
        with pytest.raises(ValueError):
            ballots.cast(KEY.public, "e1", "alice", K, choice)
    cast = ballots.cast(KEY.public, "e1", "alice", ["x", "y", "z"], 2)  # a name list counts as K
    assert elgamal.decode_choice(elgamal.decrypt(KEY.secret, cast.ciphertext), K) == 2


def test_a_ballot_of_no_candidate_verifies_and_decrypts_to_no_choice():
    # No proof of a valid choice any more: the plaintext is checked after decryption (mixnet/tally.py).
    sealed = ballots.seal(KEY.public, "e1", "alice", elgamal.encode_choice(K))
    ballots.verify_ballot(KEY.public, "e1", "alice", sealed)
    with pytest.raises(ValueError, match="not a valid choice"):
        elgamal.decode_choice(elgamal.decrypt(KEY.secret, sealed.ciphertext), K)
    with pytest.raises(ProofError, match="proof of randomness"):
        ballots.verify_ballot(KEY.public, "e1", "bob", sealed)


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
    assert len(paths) == 2 + 2
    for path in paths:
        variant = copy.deepcopy(doc)
        target = variant
        for step in path[:-1]:
            target = target[step]
        old = target[path[-1]]
        scalar = path[-1] == "response"
        target[path[-1]] = (
            group.scalar_hex(group.decode_scalar(old) + 1)
            if scalar
            else group.add(group.decode(old), group.GENERATOR).hex()
        )
        with pytest.raises(ProofError):
            ballots.verify_ballot(KEY.public, "e1", "alice", ballots.Ballot.from_json(variant))


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda d: d.pop("randomness_proof"), r"lacks field\(s\) randomness_proof"),
        (lambda d: d.pop("ciphertext"), r"lacks field\(s\) ciphertext"),
        (lambda d: d.__setitem__("choice_proof", {}), r"unknown field\(s\) choice_proof"),  # a version-1 ballot
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

"""Homomorphic tally (exponential ElGamal, proven 0/1 marks summing to one, threshold decryption, table
discrete logs) and the count of decrypted mixnet outputs."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixscope.mixnet import elgamal, group, proofs, tally
from mixscope.mixnet import trustees as dkg
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError

# Every test here runs under both backends of group.multi_mul (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

CTX = proofs.election_context("h1")


@pytest.fixture(scope="module")
def ceremony():
    return dkg.run_key_generation(2, 3, CTX, dkg.labels_digest("Q?", ["a", "b", "c"]))


@settings(max_examples=6, deadline=None)
@given(votes=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=6))
def test_homomorphic_tally_equals_the_count(ceremony, votes):
    parties, dealings, public = ceremony
    cast = []
    for i, v in enumerate(votes):
        b = tally.HomomorphicBallot.from_json(tally.cast_homomorphic(public, "h1", f"v{i}", 3, v).to_json())
        tally.verify_homomorphic(public, "h1", f"v{i}", 3, b)
        cast.append(b)
    sums = tally.accumulate(cast, 3)
    partials = [p.partial_decrypt(sums) for p in parties[1:]]  # trustees 2 and 3 only
    for p in partials:
        dkg.verify_partial(dkg.verification_key(dealings, p.trustee), sums, p, CTX)
    counts = tally.counts_from_elements(dkg.combine(sums, partials, 2), len(votes))
    assert counts == tally.count_choices(votes, 3)
    assert sum(counts) == len(votes)


def _ballot_with_marks(public, marks, proven_bits=None):
    """A ballot whose per-candidate plaintexts are `marks`·G, each 'proven' as `proven_bits` claims."""
    rs = [group.random_scalar() for _ in marks]
    cts = [elgamal.encrypt(public, group.base_mul(m), r) for m, r in zip(marks, rs)]
    bits = [
        proofs.disjunctive_prove(public, ct.a, ct.b, r, tally.ZERO_ONE, b, tally._context("h1", "v", f"bit {i}"))
        for i, (ct, r, b) in enumerate(zip(cts, rs, proven_bits or marks))
    ]
    total = proofs.chaum_pedersen_prove(
        sum(rs) % group.ORDER, group.GENERATOR, public, tally._context("h1", "v", "sum")
    )
    return tally.HomomorphicBallot(tuple(cts), tuple(bits), total)


def test_two_marks_or_no_mark_or_a_two_are_rejected(ceremony):
    public = ceremony[2]
    with pytest.raises(ProofError, match="sum to one"):
        tally.verify_homomorphic(public, "h1", "v", 3, _ballot_with_marks(public, [1, 1, 0]))
    with pytest.raises(ProofError, match="sum to one"):
        tally.verify_homomorphic(public, "h1", "v", 3, _ballot_with_marks(public, [0, 0, 0]))
    with pytest.raises(ProofError, match="candidate 0 is not 0 or 1"):
        tally.verify_homomorphic(public, "h1", "v", 3, _ballot_with_marks(public, [2, 0, 0], proven_bits=[1, 0, 0]))
    tally.verify_homomorphic(public, "h1", "v", 3, _ballot_with_marks(public, [0, 1, 0]))


def test_homomorphic_ballot_is_bound_to_voter_and_length(ceremony):
    public = ceremony[2]
    b = tally.cast_homomorphic(public, "h1", "alice", 3, 2)
    with pytest.raises(ProofError):
        tally.verify_homomorphic(public, "h1", "bob", 3, b)
    with pytest.raises(ProofError, match="expected 4"):
        tally.verify_homomorphic(public, "h1", "alice", 4, b)
    with pytest.raises(ProofError):
        tally.HomomorphicBallot.from_json({"ciphertexts": [], "bit_proofs": [1], "sum_proof": {}})


def test_discrete_log_table_solves_small_values_and_refuses_large():
    table = tally.DiscreteLogTable(50)
    assert [table.solve(group.base_mul(m) if m else group.IDENTITY) for m in (0, 1, 37, 50)] == [0, 1, 37, 50]
    with pytest.raises(ValueError, match="above 50"):
        table.solve(group.base_mul(51))


def test_mixnet_outputs_decode_and_count():
    key = elgamal.KeyPair.generate()
    choices = [2, 0, 2, 1, 2]
    plaintexts = [elgamal.decrypt(key.secret, elgamal.encrypt(key.public, elgamal.encode_choice(c))) for c in choices]
    assert tally.decode_choices(plaintexts, 3) == choices
    assert tally.count_choices(choices, 3) == [1, 1, 3]
    assert tally.count_result(choices, 3) == {"counts": [1, 1, 3], "invalid": 0}


def test_outputs_that_encode_no_candidate_are_invalid_not_errors():
    # encode_choice(3) is a 4th candidate of 3; the identity and 1000·G encode none at all.
    outputs = [
        elgamal.encode_choice(0),
        elgamal.encode_choice(3),
        group.IDENTITY,
        group.base_mul(1000),
        elgamal.encode_choice(2),
    ]
    choices = tally.decode_choices(outputs, 3)
    assert choices == [0, None, None, None, 2]
    assert tally.count_choices(choices, 3) == [1, 0, 1]
    assert tally.count_result(choices, 3) == {"counts": [1, 0, 1], "invalid": 3}
    assert tally.count_result([], 2) == {"counts": [0, 0], "invalid": 0}


def test_add_ciphertexts_is_homomorphic():
    key = elgamal.KeyPair.generate()
    total = tally.add_ciphertexts([elgamal.encrypt(key.public, group.base_mul(m)) for m in (3, 4)])
    assert isinstance(total, Ciphertext) and elgamal.decrypt(key.secret, total) == group.base_mul(7)

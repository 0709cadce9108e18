"""t-of-n trustees: Feldman DKG with share checks, keys from commitments alone, proven partial decryption,
and threshold combination (any t decrypt, t−1 cannot)."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixscope.mixnet import elgamal, group, proofs
from mixscope.mixnet import trustees as dkg
from mixscope.mixnet.errors import ProofError

# Every test here runs under both backends of group.multi_mul (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

CTX = proofs.election_context("trustee-tests")
LABELS = dkg.labels_digest("Which one?", ["ann", "bob"])


@pytest.fixture(scope="module")
def ceremony():
    """3-of-5 trustees and four ciphertexts of known choices."""
    parties, dealings, public = dkg.run_key_generation(3, 5, CTX, LABELS)
    choices = [0, 2, 1, 2]
    cts = [elgamal.encrypt(public, elgamal.encode_choice(c)) for c in choices]
    partials = {p.index: p.partial_decrypt(cts) for p in parties}
    return parties, dealings, public, choices, cts, partials


def test_public_key_and_verification_keys_follow_from_commitments(ceremony):
    parties, dealings, public, *_ = ceremony
    secret = sum(p._coefficients[0] for p in parties) % group.ORDER  # only a test can see every dealer's a_i0
    assert public == group.base_mul(secret)
    for p in parties:
        assert dkg.verification_key(dealings, p.index) == group.base_mul(p.key_share)
    assert [dkg.Dealing.from_json(d.to_json()) for d in dealings] == dealings


def test_every_t_subset_decrypts_and_every_smaller_one_does_not(ceremony):
    parties, dealings, public, choices, cts, partials = ceremony
    expected = [elgamal.encode_choice(c) for c in choices]
    for subset in itertools.combinations(partials, 3):
        assert dkg.combine(cts, [partials[j] for j in subset], 3) == expected
    for subset in itertools.combinations(partials, 2):
        chosen = [partials[j] for j in subset]
        with pytest.raises(dkg.NotEnoughShares, match="2 trustees decrypted, 3 needed"):
            dkg.combine(cts, chosen, 3)
        # Interpolating through only t−1 points gives a wrong key, so a wrong plaintext at every position.
        wrong = dkg.combine_factors(cts, {p.trustee: p.factors for p in chosen})
        assert all(w != e for w, e in zip(wrong, expected))


def test_duplicate_trustee_shares_do_not_count_twice(ceremony):
    *_, cts, partials = ceremony
    with pytest.raises(dkg.NotEnoughShares):
        dkg.combine(cts, [partials[1], partials[1], partials[2]], 3)


def test_partial_decryptions_verify_and_round_trip(ceremony):
    parties, dealings, public, choices, cts, partials = ceremony
    for j, partial in partials.items():
        again = dkg.PartialDecryption.from_json(partial.to_json())
        dkg.verify_partial(dkg.verification_key(dealings, j), cts, again, CTX)


def test_forged_partial_decryption_is_rejected(ceremony):
    parties, dealings, public, choices, cts, partials = ceremony
    good = partials[2]
    vk = dkg.verification_key(dealings, 2)
    forged = dkg.PartialDecryption(2, (group.add(good.factors[0], group.GENERATOR),) + good.factors[1:], good.proof)
    with pytest.raises(ProofError, match="trustee 2: factors do not match its verification key"):
        dkg.verify_partial(vk, cts, forged, CTX)
    # Errors that cancel in a plain sum (+P at one position, −P at another) do not cancel in the weighted one.
    cancelling = (group.add(good.factors[0], group.GENERATOR), group.sub(good.factors[1], group.GENERATOR))
    with pytest.raises(ProofError):
        dkg.verify_partial(vk, cts, dkg.PartialDecryption(2, cancelling + good.factors[2:], good.proof), CTX)
    swapped = dkg.PartialDecryption(2, (good.factors[1], good.factors[0]) + good.factors[2:], good.proof)
    with pytest.raises(ProofError):  # every factor genuine, two of them at the wrong position
        dkg.verify_partial(vk, cts, swapped, CTX)
    with pytest.raises(ProofError):  # a share presented as another trustee's
        dkg.verify_partial(dkg.verification_key(dealings, 3), cts, good, CTX)
    with pytest.raises(ProofError, match="2 of 4"):
        dkg.verify_partial(vk, cts, dkg.PartialDecryption(2, good.factors[:2], good.proof), CTX)
    with pytest.raises(ProofError):  # other election
        dkg.verify_partial(vk, cts, good, proofs.election_context("other"))
    with pytest.raises(ProofError):  # another trustee's proof
        dkg.verify_partial(vk, cts, dkg.PartialDecryption(2, good.factors, partials[3].proof), CTX)


def test_undecodable_factor_is_named_when_parsed_lazily(ceremony):
    parties, dealings, public, choices, cts, partials = ceremony
    doc = partials[2].to_json()
    doc["factors"][3] = "ff" * 32  # 32 bytes, not a canonical encoding
    lazy = dkg.PartialDecryption.from_json(doc, validate=False)
    with pytest.raises(ProofError, match="factor 3"):
        dkg.verify_partial(dkg.verification_key(dealings, 2), cts, lazy, CTX)
    with pytest.raises(ProofError, match="decryption factor"):
        dkg.PartialDecryption.from_json(doc)
    doc["factors"][3] = "zz"
    with pytest.raises(ProofError, match="not hex"):
        dkg.PartialDecryption.from_json(doc, validate=False)


def test_bad_share_and_bad_dealing_are_caught():
    alice, bob = dkg.Trustee(1, 2, 2, CTX, LABELS), dkg.Trustee(2, 2, 2, CTX, LABELS)
    dealing, shares = alice.deal()
    bob.receive(dealing, shares[2])
    with pytest.raises(ProofError, match="does not match the commitments"):
        bob.receive(dealing, (shares[2] + 1) % group.ORDER)
    short = dkg.Dealing(1, dealing.commitments[:1], dealing.proof)
    with pytest.raises(ProofError, match="expected 2"):
        dkg.verify_dealing(short, 2, CTX, LABELS)
    stolen = dkg.Dealing(2, dealing.commitments, dealing.proof)  # the proof is bound to trustee 1
    with pytest.raises(ProofError, match="key proof"):
        dkg.verify_dealing(stolen, 2, CTX, LABELS)
    with pytest.raises(ValueError, match="holds 1 of 2"):
        bob.key_share


@pytest.mark.parametrize(
    "value",
    [None, {"index": 0, "commitments": ["00" * 32], "proof": {}}, {"index": 1, "commitments": [], "proof": {}},
     {"index": 1, "commitments": ["ff" * 32], "proof": {}}, {"index": True, "commitments": ["00" * 32], "proof": {}}],
)
def test_dealing_from_json_rejects_malformed(value):
    with pytest.raises(ProofError):
        dkg.Dealing.from_json(value)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(min_value=1, max_value=4), data=st.data())
def test_any_threshold_and_subset_decrypts(n, data):
    t = data.draw(st.integers(min_value=1, max_value=n))
    subset = data.draw(st.lists(st.integers(min_value=1, max_value=n), min_size=t, max_size=n, unique=True))
    parties, dealings, public = dkg.run_key_generation(t, n, CTX, LABELS)
    ct = elgamal.encrypt(public, elgamal.encode_choice(3))
    partials = [parties[j - 1].partial_decrypt([ct]) for j in subset]
    assert dkg.combine([ct], partials, t) == [elgamal.encode_choice(3)]


def test_trustees_sharing_a_lagrange_coefficient_still_combine():
    """With trustees 1..4 of 4, λ_1 = λ_3 = 4: the combination must not merge their factors."""
    assert dkg.lagrange_at_zero([1, 2, 3, 4])[1] == dkg.lagrange_at_zero([1, 2, 3, 4])[3]
    parties, dealings, public = dkg.run_key_generation(4, 4, CTX, LABELS)
    cts = [elgamal.encrypt(public, elgamal.encode_choice(c)) for c in (0, 3, 1)]
    partials = [p.partial_decrypt(cts) for p in parties]
    assert dkg.combine(cts, partials, 4) == [elgamal.encode_choice(c) for c in (0, 3, 1)]


@pytest.mark.parametrize("t, n", [(0, 3), (4, 3), (1, 0)])
def test_bad_parameters_are_refused(t, n):
    with pytest.raises(ValueError, match="threshold"):
        dkg.run_key_generation(t, n, CTX, LABELS)

"""Schnorr, Chaum–Pedersen and disjunctive Chaum–Pedersen proofs: completeness, soundness against every
altered field, context binding, and strict JSON parsing."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixscope.mixnet import elgamal, group, proofs, transcript
from mixscope.mixnet.errors import ProofError

# Every test here runs under both backends of group.multi_mul (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

SCALARS = st.integers(min_value=1, max_value=group.ORDER - 1)
CONTEXTS = st.binary(max_size=40)

SCALAR_FIELDS = {"response", "challenges", "responses"}


def tampered(doc):
    """Every variant of a proof's JSON with exactly one leaf changed to another well-formed value."""
    variants = []

    def walk(node, path, scalar):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [key], key in SCALAR_FIELDS)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + [i], scalar)
        else:
            if scalar:
                new = group.scalar_hex(group.decode_scalar(node) + 1)
            else:
                new = group.add(group.decode(node), group.GENERATOR).hex()
            variant = copy.deepcopy(doc)
            target = variant
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = new
            variants.append(("/".join(map(str, path)), variant))

    walk(doc, [], False)
    return variants


# --- Schnorr ---------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(secret=SCALARS, context=CONTEXTS)
def test_schnorr_proves_and_round_trips(secret, context):
    proof = proofs.schnorr_prove(secret, context)
    again = proofs.SchnorrProof.from_json(proof.to_json())
    assert again == proof
    proofs.schnorr_verify(group.base_mul(secret), again, context)


def test_schnorr_rejects_other_context_key_and_base():
    x = group.random_scalar()
    proof = proofs.schnorr_prove(x, b"ctx")
    with pytest.raises(ProofError, match="Schnorr"):
        proofs.schnorr_verify(group.base_mul(x), proof, b"ctx2")
    with pytest.raises(ProofError):
        proofs.schnorr_verify(group.base_mul(x + 1), proof, b"ctx")
    h = transcript.hash_to_element("test/base", b"")
    with pytest.raises(ProofError):
        proofs.schnorr_verify(group.mul(x, h), proof, b"ctx", base=h)
    proofs.schnorr_verify(group.mul(x, h), proofs.schnorr_prove(x, b"ctx", base=h), b"ctx", base=h)


def test_schnorr_every_field_altered_is_rejected():
    x = group.random_scalar()
    proof = proofs.schnorr_prove(x, b"ctx")
    variants = tampered(proof.to_json())
    assert {p for p, _ in variants} == {"commitment", "response"}
    for path, variant in variants:
        with pytest.raises(ProofError):
            proofs.schnorr_verify(group.base_mul(x), proofs.SchnorrProof.from_json(variant), b"ctx")


# --- Chaum–Pedersen --------------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(secret=SCALARS, k=SCALARS, context=CONTEXTS)
def test_chaum_pedersen_proves_equal_logs(secret, k, context):
    b2 = group.base_mul(k)
    proof = proofs.ChaumPedersenProof.from_json(
        proofs.chaum_pedersen_prove(secret, group.GENERATOR, b2, context).to_json()
    )
    proofs.chaum_pedersen_verify(group.GENERATOR, group.base_mul(secret), b2, group.mul(secret, b2), proof, context)


def test_chaum_pedersen_rejects_unequal_logs_and_every_altered_field():
    x, b2 = group.random_scalar(), group.base_mul(group.random_scalar())
    y1, y2 = group.base_mul(x), group.mul(x, b2)
    proof = proofs.chaum_pedersen_prove(x, group.GENERATOR, b2, b"c")
    with pytest.raises(ProofError, match="Chaum–Pedersen"):
        proofs.chaum_pedersen_verify(group.GENERATOR, y1, b2, group.mul(x + 1, b2), proof, b"c")
    with pytest.raises(ProofError):
        proofs.chaum_pedersen_verify(group.GENERATOR, y1, b2, y2, proof, b"other")
    variants = tampered(proof.to_json())
    assert len(variants) == 3
    for path, variant in variants:
        with pytest.raises(ProofError):
            proofs.chaum_pedersen_verify(
                group.GENERATOR, y1, b2, y2, proofs.ChaumPedersenProof.from_json(variant), b"c"
            )


# --- Disjunctive ----------------------------------------------------------------------------------------


def _encrypt(public, index, count):
    r = group.random_scalar()
    messages = [elgamal.encode_choice(i) for i in range(count)]
    ct = elgamal.encrypt(public, messages[index], r)
    return ct, r, messages


@settings(max_examples=20, deadline=None)
@given(count=st.integers(min_value=1, max_value=5), data=st.data())
def test_disjunctive_proves_membership_for_any_index(count, data):
    index = data.draw(st.integers(min_value=0, max_value=count - 1))
    key = elgamal.KeyPair.generate()
    ct, r, messages = _encrypt(key.public, index, count)
    proof = proofs.disjunctive_prove(key.public, ct.a, ct.b, r, messages, index, b"ctx")
    again = proofs.DisjunctiveProof.from_json(proof.to_json())
    proofs.disjunctive_verify(key.public, ct.a, ct.b, messages, again, b"ctx")


def test_disjunctive_cannot_prove_a_non_member():
    key = elgamal.KeyPair.generate()
    ct, r, messages = _encrypt(key.public, 3, 4)  # plaintext is choice 3, but claim the list is 0..2
    proof = proofs.disjunctive_prove(key.public, ct.a, ct.b, r, messages[:3], 0, b"ctx")
    with pytest.raises(ProofError, match="branch 0"):
        proofs.disjunctive_verify(key.public, ct.a, ct.b, messages[:3], proof, b"ctx")


def test_disjunctive_rejects_every_altered_field_and_statement_change():
    key = elgamal.KeyPair.generate()
    ct, r, messages = _encrypt(key.public, 1, 3)
    proof = proofs.disjunctive_prove(key.public, ct.a, ct.b, r, messages, 1, b"ctx")
    variants = tampered(proof.to_json())
    assert len(variants) == 3 * 4  # per branch: two commitments, a challenge, a response
    for path, variant in variants:
        with pytest.raises(ProofError):
            proofs.disjunctive_verify(
                key.public, ct.a, ct.b, messages, proofs.DisjunctiveProof.from_json(variant), b"ctx"
            )
    other = elgamal.KeyPair.generate().public
    for statement in [
        (other, ct.a, ct.b, messages),
        (key.public, ct.a, ct.b, messages[::-1]),
        (key.public, ct.a, ct.b, messages[:2]),
    ]:
        with pytest.raises(ProofError):
            proofs.disjunctive_verify(*statement, proof, b"ctx")
    with pytest.raises(ProofError):
        proofs.disjunctive_verify(key.public, ct.a, ct.b, messages, proof, b"ctx!")


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda d: d.pop("challenges"), "lacks field"),
        (lambda d: d["responses"].pop(), "differ in length"),
        (lambda d: d["commitments"][0].__setitem__(0, "zz" * 32), "not hex"),
        (lambda d: d["commitments"][0].__setitem__(0, "ff" * 32), "canonical"),
        (lambda d: d["challenges"].__setitem__(0, "ff" * 32), "out of range"),
        (lambda d: d["commitments"].__setitem__(0, "ab"), "pair"),
        (lambda d: d.__setitem__("responses", "x"), "lists"),
    ],
)
def test_disjunctive_from_json_rejects_malformed_input(mutate, reason):
    key = elgamal.KeyPair.generate()
    ct, r, messages = _encrypt(key.public, 0, 2)
    doc = proofs.disjunctive_prove(key.public, ct.a, ct.b, r, messages, 0, b"").to_json()
    mutate(doc)
    with pytest.raises(ProofError, match=reason):
        proofs.DisjunctiveProof.from_json(doc)


@pytest.mark.parametrize("value", [None, [], "x", {"commitment": "00" * 32}, {"commitment": 5, "response": "00" * 32}])
def test_schnorr_from_json_rejects_malformed_input(value):
    with pytest.raises(ProofError):
        proofs.SchnorrProof.from_json(value)


def test_context_encoding_is_injective():
    assert proofs.context_bytes("ab", "c") != proofs.context_bytes("a", "bc")
    assert proofs.context_bytes(1, 2) != proofs.context_bytes(2, 1)
    assert proofs.context_bytes("a", b"") != proofs.context_bytes("a")
    assert proofs.election_context("e1") != proofs.election_context("e2")
    with pytest.raises(TypeError):
        proofs.context_bytes(1.5)


def _doc_hash(tag: str, *parts: bytes) -> int:
    """H from docs/verifier.md §1.1, written from the document with hashlib alone."""
    import hashlib

    data = len(tag).to_bytes(4, "big") + tag.encode()
    for p in parts:
        data += len(p).to_bytes(4, "big") + p
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % group.ORDER


def test_challenges_follow_the_documented_hash_inputs():
    ctx = proofs.context_bytes(proofs.election_context("demo"), "dkg", 1)
    assert proofs.election_context("demo").hex() == "000000146d697873636f70652f76312f656c656374696f6e0000000464656d6f"
    x = group.random_scalar()
    y = group.base_mul(x)
    p = proofs.schnorr_prove(x, ctx)
    c = _doc_hash("mixscope/v1/schnorr", ctx, group.GENERATOR, y, p.commitment)
    assert group.base_mul(p.response) == group.add(p.commitment, group.mul(c, y))

    key = elgamal.KeyPair.generate()
    ct, r, messages = _encrypt(key.public, 1, 3)
    d = proofs.disjunctive_prove(key.public, ct.a, ct.b, r, messages, 1, ctx)
    flat = [e for pair in d.commitments for e in pair]
    c = _doc_hash(
        "mixscope/v1/disjunctive",
        ctx,
        group.GENERATOR,
        key.public,
        ct.a,
        ct.b,
        (3).to_bytes(4, "big"),
        *messages,
        *flat,
    )
    assert sum(d.challenges) % group.ORDER == c

    b2 = group.base_mul(group.random_scalar())
    cp = proofs.chaum_pedersen_prove(x, group.GENERATOR, b2, ctx)
    c = _doc_hash(
        "mixscope/v1/chaum-pedersen", ctx, group.GENERATOR, y, b2, group.mul(x, b2), cp.commitment1, cp.commitment2
    )
    assert group.mul(cp.response, b2) == group.add(cp.commitment2, group.mul(c, group.mul(x, b2)))

"""The Terelius–Wikström shuffle proof: honest shuffles verify at several sizes (also through a real process
pool), and every kind of tampering with the proof or the statement is rejected with a reason."""

import collections
import dataclasses
import functools
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixscope.mixnet import _shuffle_spec, elgamal, group, shuffle, transcript
from mixscope.mixnet.errors import ProofError, RecordError

# Every test here runs under both backends of group.multi_mul (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

CONTEXT = b"election-1/stage-0"


@pytest.fixture(scope="module")
def keys():
    return elgamal.KeyPair.generate()


def ballots(public, n, candidates=5):
    return [elgamal.encrypt(public, elgamal.encode_choice(i % candidates)) for i in range(n)]


def plaintexts(secret, cts):
    return sorted(elgamal.decrypt(secret, ct) for ct in cts)


@pytest.fixture(scope="module")
def small(keys):
    """A proven shuffle of 5 ciphertexts that the tamper tests alter one piece at a time."""
    inputs = ballots(keys.public, 5)
    outputs, proof = shuffle.shuffle_and_prove(keys.public, inputs, CONTEXT)
    shuffle.verify(keys.public, inputs, outputs, proof, CONTEXT)
    return inputs, outputs, proof


# ---------------------------------------------------------------------------------------------- honest runs


@pytest.mark.parametrize("n", [1, 2, 3, 10, 100])
def test_round_trip(keys, n):
    inputs = ballots(keys.public, n)
    outputs, witness = shuffle.shuffle(keys.public, inputs)
    assert len(outputs) == n
    assert sorted(witness.permutation) == list(range(n))
    for i, ct in enumerate(outputs):  # output i is a fresh re-encryption of input permutation[i]
        assert ct != inputs[witness.permutation[i]]
        assert elgamal.decrypt(keys.secret, ct) == elgamal.decrypt(keys.secret, inputs[witness.permutation[i]])
    proof = shuffle.prove(keys.public, inputs, outputs, witness, CONTEXT)
    shuffle.verify(keys.public, inputs, outputs, proof, CONTEXT)
    # The JSON form parses back to the same proof, which still verifies.
    parsed = shuffle.ShuffleProof.from_json(proof.to_json())
    assert parsed == proof
    shuffle.verify(keys.public, inputs, outputs, parsed, CONTEXT)


@settings(max_examples=15, deadline=None)
@given(choices=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=9), context=st.binary(max_size=16))
def test_property_any_small_shuffle_verifies_and_keeps_the_votes(keys, choices, context):
    inputs = [elgamal.encrypt(keys.public, elgamal.encode_choice(c)) for c in choices]
    outputs, proof = shuffle.shuffle_and_prove(keys.public, inputs, context)
    shuffle.verify(keys.public, inputs, outputs, proof, context)
    table = elgamal.choice_table(4)
    assert sorted(table[elgamal.decrypt(keys.secret, ct)] for ct in outputs) == sorted(choices)


def test_permutations_differ_between_runs(keys):
    inputs = ballots(keys.public, 30)
    perms = {tuple(shuffle.shuffle(keys.public, inputs)[1].permutation) for _ in range(3)}
    assert len(perms) == 3


def test_the_permutation_is_uniform():
    counts = collections.Counter(tuple(shuffle._random_permutation(3)) for _ in range(30_000))
    assert len(counts) == 6 and all(4_400 < c < 5_600 for c in counts.values())  # 5,000 each, σ ≈ 65


def test_a_word_from_the_biased_top_of_the_range_is_drawn_again(monkeypatch):
    redrawn = []
    monkeypatch.setattr(shuffle.secrets, "token_bytes", lambda size: b"\xff" * size)  # every word 2^64 - 1
    real = shuffle.secrets.randbits
    monkeypatch.setattr(shuffle.secrets, "randbits", lambda k: redrawn.append(k) or real(k))
    assert sorted(shuffle._random_permutation(7)) == list(range(7))
    assert redrawn and set(redrawn) == {64}  # for the bounds 3, 5, 6, 7 (2^64 - 1 is in their biased top)


@pytest.mark.slow
def test_process_pool_map_fn_gives_valid_proofs(keys):
    """The injected map_fn really runs the kernels in other processes, and the chunked results agree."""
    inputs = ballots(keys.public, 150)
    _shuffle_spec.clear_generator_cache()
    with ProcessPoolExecutor(max_workers=2) as pool:
        pool_map = partial(pool.map, chunksize=1)
        outputs, proof = shuffle.shuffle_and_prove(keys.public, inputs, CONTEXT, map_fn=pool_map)
        shuffle.verify(keys.public, inputs, outputs, proof, CONTEXT, map_fn=pool_map)
    shuffle.verify(keys.public, inputs, outputs, proof, CONTEXT)  # and in-process, with the same verdict
    assert plaintexts(keys.secret, outputs) == plaintexts(keys.secret, inputs)


def test_chained_stages(keys):
    """Three mix stages, each proven and verified against the previous stage's output."""
    stage = ballots(keys.public, 8)
    original = plaintexts(keys.secret, stage)
    for k in range(3):
        context = b"election-1/stage-%d" % k
        outputs, proof = shuffle.shuffle_and_prove(keys.public, stage, context)
        shuffle.verify(keys.public, stage, outputs, proof, context)
        stage = outputs
    assert plaintexts(keys.secret, stage) == original


# ---------------------------------------------------------------------------------------------- tampering


def other_element(value: bytes) -> bytes:
    return group.add(value, group.GENERATOR)


PROOF_FIELDS = [f.name for f in dataclasses.fields(shuffle.ShuffleProof)]


def tampered_proofs(proof):
    """One altered copy of the proof per field (and per position for the lists)."""
    for name in PROOF_FIELDS:
        value = getattr(proof, name)
        if isinstance(value, bytes):
            yield name, dataclasses.replace(proof, **{name: other_element(value)})
        elif isinstance(value, int):
            yield name, dataclasses.replace(proof, **{name: (value + 1) % group.ORDER})
        else:
            for pos in (0, len(value) - 1):
                items = list(value)
                items[pos] = (
                    other_element(items[pos]) if isinstance(items[pos], bytes) else (items[pos] + 1) % group.ORDER
                )
                yield f"{name}[{pos}]", dataclasses.replace(proof, **{name: items})


def test_every_field_of_the_proof_is_checked(keys, small):
    inputs, outputs, proof = small
    seen = set()
    for label, bad in tampered_proofs(proof):
        with pytest.raises(ProofError, match="check failed") as info:
            shuffle.verify(keys.public, inputs, outputs, bad, CONTEXT)
        assert str(info.value), label
        seen.add(label.split("[")[0])
    assert seen == set(PROOF_FIELDS)


def test_t_hat_tamper_names_the_position(keys, small):
    inputs, outputs, proof = small
    # Altering s_hat[3] leaves c unchanged (responses are not hashed), so only link 3 of the chain fails.
    s_hat = list(proof.s_hat)
    s_hat[3] = (s_hat[3] + 1) % group.ORDER
    with pytest.raises(ProofError, match="t_hat check failed at position 3"):
        shuffle.verify(keys.public, inputs, outputs, dataclasses.replace(proof, s_hat=s_hat), CONTEXT)


def expect_rejected(keys, inputs, outputs, proof, context=CONTEXT, public=None, match=None):
    with pytest.raises(ProofError, match=match) as info:
        shuffle.verify(public or keys.public, inputs, outputs, proof, context)
    assert str(info.value)


def test_two_outputs_swapped(keys, small):
    inputs, outputs, proof = small
    swapped = list(outputs)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    expect_rejected(keys, inputs, swapped, proof, match="check failed")


def test_one_output_replaced(keys, small):
    inputs, outputs, proof = small
    replaced = list(outputs)
    replaced[2] = elgamal.encrypt(keys.public, elgamal.encode_choice(4))
    expect_rejected(keys, inputs, replaced, proof, match="check failed")
    # Even by a valid re-encryption of the very ciphertext it replaces: the proof binds the exact outputs.
    replaced[2] = elgamal.reencrypt(keys.public, outputs[2])
    expect_rejected(keys, inputs, replaced, proof, match="check failed")


def test_one_output_dropped(keys, small):
    inputs, outputs, proof = small
    expect_rejected(keys, inputs, outputs[:-1], proof, match="5 inputs but 4 outputs")


def test_one_output_duplicated(keys, small):
    inputs, outputs, proof = small
    duplicated = list(outputs)
    duplicated[3] = duplicated[0]
    expect_rejected(keys, inputs, duplicated, proof, match="check failed")
    expect_rejected(keys, inputs, [*outputs, outputs[0]], proof, match="5 inputs but 6 outputs")


def test_public_key_substituted(keys, small):
    inputs, outputs, proof = small
    expect_rejected(keys, inputs, outputs, proof, public=elgamal.KeyPair.generate().public, match="check failed")


def test_context_changed(keys, small):
    inputs, outputs, proof = small
    expect_rejected(keys, inputs, outputs, proof, context=b"election-1/stage-1", match="check failed")
    expect_rejected(keys, inputs, outputs, proof, context=b"", match="check failed")


def test_inputs_altered(keys, small):
    inputs, outputs, proof = small
    altered = list(inputs)
    altered[4] = elgamal.reencrypt(keys.public, inputs[4])
    expect_rejected(keys, altered, outputs, proof, match="check failed")
    expect_rejected(keys, list(reversed(inputs)), outputs, proof, match="check failed")
    expect_rejected(keys, outputs, inputs, proof, match="check failed")


def test_cheating_mixer_cannot_prove(keys):
    """A mixer that swaps one vote for its own cannot produce a proof that verifies with the honest prover."""
    inputs = ballots(keys.public, 6)
    outputs, witness = shuffle.shuffle(keys.public, inputs)
    outputs[0] = elgamal.encrypt(keys.public, elgamal.encode_choice(4), r=witness.randomness[0])
    proof = shuffle.prove(keys.public, inputs, outputs, witness, CONTEXT)
    expect_rejected(keys, inputs, outputs, proof, match="t4 check failed")


def test_garbage_is_a_proof_error_not_a_traceback(keys, small):
    inputs, outputs, proof = small
    invalid = bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000")  # RFC 9496 A.2
    bad_out = list(outputs)
    bad_out[1] = elgamal.Ciphertext(invalid, outputs[1].b)
    expect_rejected(keys, inputs, bad_out, proof, match="not a group element")
    chain = list(proof.chain)
    chain[2] = invalid
    expect_rejected(keys, inputs, outputs, dataclasses.replace(proof, chain=chain), match="not a group element")
    expect_rejected(keys, inputs, outputs, proof, public=invalid, match="public key")
    expect_rejected(keys, inputs, [(b"short", b"x")] * 5, proof, match="malformed output")
    expect_rejected(keys, [None] * 5, outputs, proof, match="malformed input")
    expect_rejected(keys, inputs, outputs, dataclasses.replace(proof, s1=group.ORDER), match="out of range")
    expect_rejected(keys, inputs, outputs, dataclasses.replace(proof, s_hat=proof.s_hat[:-1]), match="not for 5")
    expect_rejected(keys, [], [], proof, match="empty")
    with pytest.raises(ProofError, match="not a shuffle proof"):
        shuffle.verify(keys.public, inputs, outputs, proof.to_json(), CONTEXT)


def test_from_json_validates_everything(small):
    _, _, proof = small
    good = proof.to_json()
    cases = [
        ("not a dict", RecordError),
        ({k: v for k, v in good.items() if k != "t1"}, RecordError),
        ({**good, "extra": 1}, RecordError),
        ({**good, "chain": good["chain"][:-1]}, RecordError),
        ({**good, "s_hat": "00"}, RecordError),
        ({**good, "t2": "zz"}, group.InvalidElement),
        ({**good, "commitments": ["01" + "00" * 31, *good["commitments"][1:]]}, group.InvalidElement),
        ({**good, "s3": group.ORDER.to_bytes(32, "little").hex()}, group.InvalidScalar),
        ({**good, "s_prime": [5, *good["s_prime"][1:]]}, group.InvalidScalar),
    ]
    for value, error in cases:
        with pytest.raises(error):
            shuffle.ShuffleProof.from_json(value)


def test_shuffle_rejects_empty_input(keys):
    with pytest.raises(ValueError):
        shuffle.shuffle(keys.public, [])


# ---------------------------------------------------------------------------------------------- the spec


def test_challenges_follow_the_documented_hash():
    digest = bytes(range(64))
    expected = [transcript.hash_to_scalar(_shuffle_spec.U_TAG, digest, i.to_bytes(4, "big")) for i in range(1, 6)]
    assert _shuffle_spec.challenges(digest, 5) == expected


def test_generators_follow_the_documented_derivation():
    _shuffle_spec.clear_generator_cache()
    gens = _shuffle_spec.generators(4)
    assert gens == transcript.generators(_shuffle_spec.GENERATORS_TAG, 4)
    assert _shuffle_spec.generators(2) == gens[:2]  # served from the cache, same values
    assert _shuffle_spec.generator_sum(3) == group.add(group.add(gens[1], gens[2]), gens[3])


def test_documented_known_answers():
    """The values quoted in docs/verifier.md."""
    _shuffle_spec.clear_generator_cache()
    assert [g.hex() for g in _shuffle_spec.generators(3)] == [
        "48cbbaa0b9763c39dd0561a466a9ae1cb3b049a7049f802133792f5af5bb9942",
        "6e49c622a48175b8e0a5161f09906b8cc98adf088a6f096d3a82afd2510aca3f",
        "aeae8553d49d14eab83638a8d5ca3cbcbe27b87bb98999733f72625ac8b3fd19",
    ]
    u1 = _shuffle_spec.challenges(bytes(range(64)), 1)[0]
    assert group.scalar_hex(u1) == "7436a302f9b05203e77a7a8c127cbbd09d86d370fdb2c60ccbd46f60d4811d0e"


def verify_from_the_document(public, inputs, outputs, proof_json, context) -> bool:
    """docs/verifier.md's checks written from the document alone, straight from JSON, with group.* only."""
    import hashlib

    def frame(x: bytes) -> bytes:
        return len(x).to_bytes(4, "big") + x

    def h_bytes(tag: str, *parts: bytes) -> bytes:
        return hashlib.sha512(frame(tag.encode()) + b"".join(frame(p) for p in parts)).digest()

    def hs(tag, *parts):
        return int.from_bytes(h_bytes(tag, *parts), "little") % group.ORDER

    p = {k: ([group.decode(x) for x in v] if k in ("commitments", "chain", "t_hat") else
             [group.decode_scalar(x) for x in v] if k in ("s_hat", "s_prime") else
             group.decode_scalar(v) if k.startswith("s") else group.decode(v))
         for k, v in proof_json.items()}
    n = len(inputs)
    gens = [
        group.from_uniform(h_bytes("mixscope/tw-shuffle/v1/generators", i.to_bytes(4, "big"))) for i in range(n + 1)
    ]
    h, hs_ = gens[0], gens[1:]
    cts = lambda es: b"".join(a + b for a, b in es)  # noqa: E731
    d = h_bytes("mixscope/tw-shuffle/v1/statement", b"ristretto255", group.GENERATOR,
                b"mixscope/tw-shuffle/v1/generators", n.to_bytes(8, "big"), public, context,
                cts(inputs), cts(outputs), b"".join(p["commitments"]))
    u = [hs("mixscope/tw-shuffle/v1/u", d, i.to_bytes(4, "big")) for i in range(1, n + 1)]
    c = hs("mixscope/tw-shuffle/v1/challenge", d, b"".join(p["chain"]), p["t1"], p["t2"], p["t3"], p["t4a"],
           p["t4b"], b"".join(p["t_hat"]))
    total = lambda pts: functools.reduce(group.add, pts, group.IDENTITY)  # noqa: E731
    big_u = functools.reduce(lambda x, y: x * y % group.ORDER, u, 1)
    G = group.GENERATOR
    ok = [
        p["t1"] == group.add(group.mul(c, group.sub(total(p["commitments"]), total(hs_))), group.mul(p["s1"], G)),
        p["t2"] == group.add(group.mul(c, group.sub(p["chain"][-1], group.mul(big_u, h))), group.mul(p["s2"], G)),
        p["t3"]
        == total(
            [
                *(group.mul(c * u[j], p["commitments"][j]) for j in range(n)),
                *(group.mul(p["s_prime"][i], hs_[i]) for i in range(n)),
                group.mul(p["s3"], G),
            ]
        ),
        p["t4a"]
        == total(
            [
                *(group.mul(c * u[j], inputs[j][0]) for j in range(n)),
                *(group.mul(p["s_prime"][i], outputs[i][0]) for i in range(n)),
                group.mul(-p["s4"], G),
            ]
        ),
        p["t4b"]
        == total(
            [
                *(group.mul(c * u[j], inputs[j][1]) for j in range(n)),
                *(group.mul(p["s_prime"][i], outputs[i][1]) for i in range(n)),
                group.mul(-p["s4"], public),
            ]
        ),
    ]
    chain = [h, *p["chain"]]
    ok += [p["t_hat"][i] == total([group.mul(c, chain[i + 1]), group.mul(p["s_hat"][i], G),
                                   group.mul(p["s_prime"][i], chain[i])]) for i in range(n)]
    return all(ok)


def test_an_independent_verifier_written_from_the_document_agrees(keys):
    inputs = ballots(keys.public, 7)
    outputs, proof = shuffle.shuffle_and_prove(keys.public, inputs, CONTEXT)
    assert verify_from_the_document(keys.public, inputs, outputs, proof.to_json(), CONTEXT)
    assert not verify_from_the_document(keys.public, inputs, outputs, proof.to_json(), CONTEXT + b"!")
    swapped = [outputs[1], outputs[0], *outputs[2:]]
    assert not verify_from_the_document(keys.public, inputs, swapped, proof.to_json(), CONTEXT)

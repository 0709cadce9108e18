"""The known-answer vectors docs/verifier.md points to (tests/data): each value recomputed from its inputs, the
framed hashes once more from the spec's own definition (hashlib only), and a small complete record whose check
list is pinned."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mixscope.mixnet import ballots, group, proofs, submission, trustees
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.verifier import verify_record

DATA = Path(__file__).parent / "data"
VECTORS = json.loads((DATA / "vectors.json").read_text())
ORDER = 2**252 + 27742317777372353535851937790883648493


def frame(tag: str, *parts: bytes) -> bytes:
    """docs/verifier.md §1.1, written from the text: u32be lengths before the tag and every part."""
    out = len(tag.encode()).to_bytes(4, "big") + tag.encode()
    for part in parts:
        out += len(part).to_bytes(4, "big") + part
    return out


def test_labels_digest():
    v = VECTORS["labels_digest"]
    spec = hashlib.sha512(frame("mixscope/v1/labels", v["question"].encode(), *(n.encode() for n in v["candidates"])))
    assert spec.hexdigest() == v["digest"] == trustees.labels_digest(v["question"], v["candidates"]).hex()


def test_election_contexts_with_and_without_the_nonce():
    v = VECTORS["election_context"]
    assert proofs.election_context(v["id"]).hex() == v["E"]
    assert proofs.election_context(v["id"], bytes.fromhex(v["nonce"])).hex() == v["E_n"]
    # ctx(q_1, ..., q_m) = u32be(len(r_k)) ‖ r_k ...; the v1 tag, the id, then the 32-byte nonce
    parts = [b"mixscope/v1/election", v["id"].encode(), bytes.fromhex(v["nonce"])]
    assert b"".join(len(p).to_bytes(4, "big") + p for p in parts).hex() == v["E_n"]


def test_ballot_context():
    v = VECTORS["ballot_context"]
    ct = Ciphertext(bytes.fromhex(v["a"]), bytes.fromhex(v["b"]))
    assert ballots._randomness_context(bytes.fromhex(v["Y"]), v["id"], v["voter"], ct).hex() == v["context"]
    # §1.2 from the text: ctx(ctx(E, "ballot", voter, "randomness"), Y, a, b), the voter a public credential's hex
    assert group.is_hex(v["voter"], 64)

    def ctx(*parts: bytes) -> bytes:
        return b"".join(len(p).to_bytes(4, "big") + p for p in parts)

    e = ctx(b"mixscope/v1/election", v["id"].encode())
    inner = ctx(e, b"ballot", v["voter"].encode(), b"randomness")
    assert ctx(inner, *(bytes.fromhex(v[k]) for k in ("Y", "a", "b"))).hex() == v["context"]


def test_decryption_batch_seed_and_weights():
    v = VECTORS["decryption_batch"]
    a = [bytes.fromhex(x) for x in v["a"]]
    factors = [bytes.fromhex(x) for x in v["factors"]]
    seed = hashlib.sha512(frame("mixscope/v1/decryption-batch", bytes.fromhex(v["context"]),
                                bytes.fromhex(v["verification_key"]), b"".join(a), b"".join(factors))).digest()
    assert (
        seed.hex()
        == v["seed"]
        == trustees.batch_seed(bytes.fromhex(v["context"]), bytes.fromhex(v["verification_key"]), a, factors).hex()
    )
    for p, weight in enumerate(v["weights"]):
        e = int.from_bytes(hashlib.sha512(frame("mixscope/v1/decryption-weight", seed, p.to_bytes(8, "big"))).digest(),
                           "little") % ORDER
        assert group.scalar_hex(e) == weight == group.scalar_hex(trustees.batch_weight(seed, p))


def test_one_chaum_pedersen_challenge():
    v = VECTORS["chaum_pedersen_challenge"]
    parts = [bytes.fromhex(v[k]) for k in ("B1", "Y1", "B2", "Y2", "t1", "t2")]
    c = int.from_bytes(hashlib.sha512(frame("mixscope/v1/chaum-pedersen", b"", *parts)).digest(), "little") % ORDER
    assert group.scalar_hex(c) == v["c"]


def test_a_signed_stage():
    v = VECTORS["signed_stage"]
    message = v["message"]
    body = {k: x for k, x in message.items() if k != "signed"}
    body["signed"] = {"key": message["signed"]["key"], "seq": message["signed"]["seq"]}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert (b"mixscope-node-message/1\x00" + canonical).hex() == v["signed_bytes_hex"]
    assert submission.verify(message) == message["signed"]["key"]
    assert submission.sign({k: x for k, x in message.items() if k != "signed"}, bytes.fromhex(v["seed"]),
                           message["signed"]["seq"]) == message  # Ed25519 is deterministic


def test_a_complete_small_record_and_its_checks():
    doc = json.loads((DATA / "record-small.json").read_text())
    expected = json.loads((DATA / "record-small.checks.json").read_text())
    assert [{"name": c.name, "ok": c.ok} for c in verify_record(doc)] == expected
    assert all(c["ok"] for c in expected)
    assert doc["mix"][1]["class"] == "malformed"  # its mixer labelled the stage 2


def test_a_complete_small_homomorphic_record_and_its_checks():
    """docs/verifier.md §5: a homomorphic record (four ballots, three candidates, 2 of 3 trustees) and its checks;
    its sums are re-derived here from the ballots, and its counts from the shares."""
    from mixscope.mixnet import homomorphic

    doc = json.loads((DATA / "record-homomorphic-small.json").read_text())
    expected = json.loads((DATA / "record-homomorphic-small.checks.json").read_text())
    assert [{"name": c.name, "ok": c.ok} for c in verify_record(doc)] == expected
    assert all(c["ok"] for c in expected)
    assert doc["election"]["tally"] == doc["manifest"]["tally"] == "homomorphic"
    assert doc["sums"] == homomorphic.sums_of_json(doc["ballots"], 3) == doc["decryption"]["ciphertexts"]
    assert doc["result"] == {"counts": [1, 2, 1], "invalid": 0}

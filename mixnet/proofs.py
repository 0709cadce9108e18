"""Sigma protocols made non-interactive with Fiat–Shamir: the small proofs every party publishes.

* Schnorr: knowledge of x with Y = x·B.
* Chaum–Pedersen: one x with Y1 = x·B1 and Y2 = x·B2 (proven decryption, proven sums).
* Disjunctive Chaum–Pedersen (Cramer–Damgård–Schoenmakers OR-proof): an ElGamal ciphertext (a, b) under Y
  encrypts one of the listed elements M_i, without saying which.

Every challenge is `hash_to_scalar(tag, context, <whole statement>, <all commitments>)`: the statement
(bases, public values, ciphertext, every candidate message) is hashed in full, never a subset, and the
caller's `context` (election id, voter id, ...) binds the proof to one place in one election. The exact
hash inputs are specified in docs/verifier.md. Proofs store their commitments, so every field a verifier
reads is checked by an equation.
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple, Sequence

from mixscope.mixnet import group
from mixscope.mixnet.errors import ProofError
from mixscope.mixnet.transcript import CHAUM_PEDERSEN_TAG, DISJUNCTIVE_TAG, ELECTION_TAG, SCHNORR_TAG, hash_to_scalar


def context_bytes(*parts: str | bytes | int) -> bytes:
    """A proof context from parts, each length-prefixed (4-byte big-endian). Every context has a fixed
    sequence of part types, and for a fixed sequence the encoding is injective. str is UTF-8; int is
    8-byte big-endian (non-negative); bytes as is."""
    chunks = []
    for part in parts:
        if isinstance(part, str):
            raw = part.encode()
        elif isinstance(part, int) and not isinstance(part, bool):
            raw = part.to_bytes(8, "big")
        elif isinstance(part, (bytes, bytearray)):
            raw = bytes(part)
        else:
            raise TypeError(f"context part of type {type(part).__name__}")
        chunks.append(len(raw).to_bytes(4, "big") + raw)
    return b"".join(chunks)


def election_context(election_id: str, nonce: bytes = b"") -> bytes:
    """The context every proof of one election starts from. `nonce`: the manifest's random nonce (record
    version 3), which enters the nodes' proof contexts (key proofs, mix stages, decryption shares) so that none
    can be replayed into another election with the same id. Ballot contexts use the id alone (they bind the
    election's public key, which the nonce-bound key proofs fix)."""
    if nonce:
        return context_bytes(ELECTION_TAG, election_id, bytes(nonce))
    return context_bytes(ELECTION_TAG, election_id)


def _decode_element(value: Any, field: str) -> bytes:
    try:
        return group.decode(value)
    except (group.InvalidElement, TypeError) as exc:
        raise ProofError(f"{field}: {exc}") from None


def _decode_scalar(value: object, field: str) -> int:
    if not isinstance(value, str):  # the record format has scalars only as 64-char little-endian hex
        raise ProofError(f"{field}: scalar must be hex text")
    try:
        return group.decode_scalar(value)
    except (group.InvalidScalar, TypeError) as exc:
        raise ProofError(f"{field}: {exc}") from None


def _times(k: int, base: bytes) -> bytes:
    """k·base, through libsodium's precomputed table when base is G (about 3x cheaper than a variable base)."""
    return group.base_mul(k) if base == group.GENERATOR else group.mul(k, base)


def _require_dict(value: object, keys: Sequence[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProofError(f"{what} must be an object")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ProofError(f"{what} lacks field(s) {', '.join(missing)}")
    extra = sorted(str(k) for k in value if k not in keys)
    if extra:  # one byte form: a closed set of fields
        raise ProofError(f"{what} has unexpected field(s) {', '.join(extra)}")
    return value


# --- Schnorr -------------------------------------------------------------------------------------------


class SchnorrProof(NamedTuple):
    commitment: bytes  # t = k·B
    response: int  # s = k + c·x

    def to_json(self) -> dict[str, Any]:
        return {"commitment": self.commitment.hex(), "response": group.scalar_hex(self.response)}

    @classmethod
    def from_json(cls, value: object) -> "SchnorrProof":
        value = _require_dict(value, ("commitment", "response"), "Schnorr proof")
        return cls(_decode_element(value["commitment"], "commitment"), _decode_scalar(value["response"], "response"))


def _schnorr_challenge(base: bytes, public: bytes, commitment: bytes, context: bytes) -> int:
    return hash_to_scalar(SCHNORR_TAG, context, base, public, commitment)


def schnorr_prove(secret: int, context: bytes, base: bytes = group.GENERATOR) -> SchnorrProof:
    """Prove knowledge of `secret` for public = secret·base."""
    public = _times(secret, base)
    k = group.random_scalar()
    commitment = _times(k, base)
    c = _schnorr_challenge(base, public, commitment, context)
    return SchnorrProof(commitment, (k + c * secret) % group.ORDER)


def schnorr_verify(public: bytes, proof: SchnorrProof, context: bytes, base: bytes = group.GENERATOR) -> None:
    c = _schnorr_challenge(base, public, proof.commitment, context)
    if not _holds(proof.response, base, proof.commitment, c, public):
        raise ProofError("Schnorr proof: s·B ≠ t + c·Y")


def _holds(s: int, base: bytes, commitment: bytes, c: int, public: bytes) -> bool:
    """s·B = t + c·Y, as one product of powers of public values: s·B − t − c·Y = 0. An element that does not
    decode cannot satisfy it: False (a ProofError for the caller), never an exception of another kind."""
    try:
        return group.multi_mul((s, group.ORDER - 1, group.ORDER - c), (base, commitment, public)) == group.IDENTITY
    except group.InvalidElement:
        return False


def schnorr_batch_holds(statements: Sequence[tuple[bytes, SchnorrProof, bytes]], base: bytes = group.GENERATOR) -> bool:
    """True when every (public, proof, context) Schnorr proof holds: Σ w_i·(s_i·B − t_i − c_i·Y_i) = 0 with
    fresh 128-bit random weights w_i, one product of powers for the lot (a failing proof passes with
    probability at most 2^-128). False: at least one fails or an element does not decode; schnorr_verify
    says which."""
    order = group.ORDER
    raw = secrets.token_bytes(16 * len(statements))
    scalars: list[int] = []
    points: list[bytes] = []
    base_coeff = 0
    for i, (public, proof, context) in enumerate(statements):
        w = int.from_bytes(raw[16 * i : 16 * i + 16], "little")
        c = _schnorr_challenge(base, public, proof.commitment, context)
        base_coeff += w * proof.response
        scalars += (order - w, -w * c % order)
        points += (proof.commitment, public)
    scalars.append(base_coeff % order)
    points.append(base)
    try:
        return group.multi_mul(scalars, points) == group.IDENTITY
    except group.InvalidElement:
        return False


# --- Chaum–Pedersen ------------------------------------------------------------------------------------


class ChaumPedersenProof(NamedTuple):
    commitment1: bytes  # k·B1
    commitment2: bytes  # k·B2
    response: int  # k + c·x

    def to_json(self) -> dict[str, Any]:
        return {
            "commitment1": self.commitment1.hex(),
            "commitment2": self.commitment2.hex(),
            "response": group.scalar_hex(self.response),
        }

    @classmethod
    def from_json(cls, value: object) -> "ChaumPedersenProof":
        value = _require_dict(value, ("commitment1", "commitment2", "response"), "Chaum–Pedersen proof")
        return cls(
            _decode_element(value["commitment1"], "commitment1"),
            _decode_element(value["commitment2"], "commitment2"),
            _decode_scalar(value["response"], "response"),
        )


def _cp_challenge(b1: bytes, y1: bytes, b2: bytes, y2: bytes, t1: bytes, t2: bytes, context: bytes) -> int:
    return hash_to_scalar(CHAUM_PEDERSEN_TAG, context, b1, y1, b2, y2, t1, t2)


def chaum_pedersen_prove(secret: int, b1: bytes, b2: bytes, context: bytes) -> ChaumPedersenProof:
    """Prove Y1 = secret·B1 and Y2 = secret·B2 for the same secret."""
    y1, y2 = _times(secret, b1), group.mul(secret, b2)
    k = group.random_scalar()
    t1, t2 = _times(k, b1), group.mul(k, b2)
    c = _cp_challenge(b1, y1, b2, y2, t1, t2, context)
    return ChaumPedersenProof(t1, t2, (k + c * secret) % group.ORDER)


def chaum_pedersen_verify(
    b1: bytes, y1: bytes, b2: bytes, y2: bytes, proof: ChaumPedersenProof, context: bytes
) -> None:
    c = _cp_challenge(b1, y1, b2, y2, proof.commitment1, proof.commitment2, context)
    if not _holds(proof.response, b1, proof.commitment1, c, y1):
        raise ProofError("Chaum–Pedersen proof: s·B1 ≠ t1 + c·Y1")
    if not _holds(proof.response, b2, proof.commitment2, c, y2):
        raise ProofError("Chaum–Pedersen proof: s·B2 ≠ t2 + c·Y2")


# --- Disjunctive Chaum–Pedersen ------------------------------------------------------------------------


class DisjunctiveProof(NamedTuple):
    """One branch per candidate message M_i: commitments (A_i, B_i), challenge c_i, response s_i.
    Valid when every branch satisfies s_i·G = A_i + c_i·a and s_i·Y = B_i + c_i·(b − M_i), and the
    challenges sum to the Fiat–Shamir hash."""

    commitments: tuple[tuple[bytes, bytes], ...]
    challenges: tuple[int, ...]
    responses: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "commitments": [[a.hex(), b.hex()] for a, b in self.commitments],
            "challenges": [group.scalar_hex(c) for c in self.challenges],
            "responses": [group.scalar_hex(s) for s in self.responses],
        }

    @classmethod
    def from_json(cls, value: object) -> "DisjunctiveProof":
        value = _require_dict(value, ("commitments", "challenges", "responses"), "disjunctive proof")
        commitments, challenges, responses = value["commitments"], value["challenges"], value["responses"]
        if not all(isinstance(x, list) for x in (commitments, challenges, responses)):
            raise ProofError("disjunctive proof fields must be lists")
        if not len(commitments) == len(challenges) == len(responses):
            raise ProofError("disjunctive proof lists differ in length")
        pairs = []
        for i, pair in enumerate(commitments):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ProofError(f"commitments[{i}] must be a pair")
            pairs.append(
                (_decode_element(pair[0], f"commitments[{i}][0]"), _decode_element(pair[1], f"commitments[{i}][1]"))
            )
        return cls(
            tuple(pairs),
            tuple(_decode_scalar(c, f"challenges[{i}]") for i, c in enumerate(challenges)),
            tuple(_decode_scalar(s, f"responses[{i}]") for i, s in enumerate(responses)),
        )


def _disjunctive_challenge(
    public: bytes,
    a: bytes,
    b: bytes,
    messages: Sequence[bytes],
    commitments: Sequence[tuple[bytes, bytes]],
    context: bytes,
) -> int:
    flat = [x for pair in commitments for x in pair]
    return hash_to_scalar(
        DISJUNCTIVE_TAG, context, group.GENERATOR, public, a, b, len(messages).to_bytes(4, "big"), *messages, *flat
    )


def disjunctive_prove(
    public: bytes, a: bytes, b: bytes, r: int, messages: Sequence[bytes], index: int, context: bytes
) -> DisjunctiveProof:
    """Prove (a, b) = (r·G, messages[index] + r·Y) without revealing index."""
    if not 0 <= index < len(messages):
        raise ValueError("index outside the message list")
    order = group.ORDER
    commitments: list[tuple[bytes, bytes]] = []
    challenges = [0] * len(messages)
    responses = [0] * len(messages)
    k = group.random_scalar()
    for i, message in enumerate(messages):
        if i == index:
            commitments.append((group.base_mul(k), group.mul(k, public)))
            continue
        # Simulated branch: pick c_i, s_i first and solve for the commitments.
        c_i, s_i = group.random_scalar(), group.random_scalar()
        challenges[i], responses[i] = c_i, s_i
        shifted = group.sub(b, message)
        commitments.append(
            (
                group.sub(group.base_mul(s_i), group.mul(c_i, a)),
                group.sub(group.mul(s_i, public), group.mul(c_i, shifted)),
            )
        )
    c = _disjunctive_challenge(public, a, b, messages, commitments, context)
    challenges[index] = (c - sum(challenges)) % order
    responses[index] = (k + challenges[index] * r) % order
    return DisjunctiveProof(tuple(commitments), tuple(challenges), tuple(responses))


def disjunctive_verify(
    public: bytes, a: bytes, b: bytes, messages: Sequence[bytes], proof: DisjunctiveProof, context: bytes
) -> None:
    if not len(proof.commitments) == len(proof.challenges) == len(proof.responses) == len(messages):
        raise ProofError(f"disjunctive proof has {len(proof.challenges)} branches, expected {len(messages)}")
    c = _disjunctive_challenge(public, a, b, messages, proof.commitments, context)
    if sum(proof.challenges) % group.ORDER != c:
        raise ProofError("disjunctive proof: challenges do not sum to the hash")
    for i, (message, (t_a, t_b), c_i, s_i) in enumerate(
        zip(messages, proof.commitments, proof.challenges, proof.responses)
    ):
        if group.base_mul(s_i) != group.add(t_a, group.mul(c_i, a)):
            raise ProofError(f"disjunctive proof branch {i}: s·G ≠ A + c·a")
        if group.mul(s_i, public) != group.add(t_b, group.mul(c_i, group.sub(b, message))):
            raise ProofError(f"disjunctive proof branch {i}: s·Y ≠ B + c·(b − M)")

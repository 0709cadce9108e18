"""t-of-n trustees: Pedersen/Feldman distributed key generation and proven threshold decryption.

Trustees are numbered 1..n (the index is the x-coordinate of their share). Trustee i deals a random
polynomial f_i of degree t−1, publishes Feldman commitments C_ik = a_ik·G and a Schnorr proof of knowledge
of a_i0, and privately hands s_ij = f_i(j) to trustee j, who checks s_ij·G = Σ_k j^k·C_ik. Trustee j's key
share is x_j = Σ_i s_ij. Everything public follows from the commitments alone:

    joint public key   Y   = Σ_i C_i0
    verification key   Y_j = Σ_i Σ_k j^k·C_ik   (= x_j·G)

Trustee j's partial decryption of a list (a_p, b_p) is the factors D_jp = x_j·a_p with ONE batched
Chaum–Pedersen proof: weights e_p hashed from everything (the key, every a_p and every D_jp) fold the list
into A = Σ e_p·a_p and D = Σ e_p·D_jp, and the proof shows log_G Y_j = log_A D. If any factor were wrong,
D − x_j·A = Σ e_p·(D_jp − x_j·a_p) would vanish only with probability 1/ℓ, so the batch proves every factor;
it costs the verifier two scalar multiplications per ciphertext instead of four, and the prover one less.
Any t trustees' factors recover M = b − Σ λ_j·D_j, λ_j the Lagrange coefficients at 0; fewer than t carry
no information about x, so `combine` refuses them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from mixscope.mixnet import group, proofs
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError
from mixscope.mixnet.transcript import BATCH_TAG, LABELS_TAG, WEIGHT_TAG, framed, hash_bytes, hash_to_scalar

DKG_LABEL = "dkg"
DECRYPT_LABEL = "decrypt"
SPAN_MIN, SPANS = 16, 32  # map_fn jobs per list: enough to balance a pool and to report progress


class NotEnoughShares(ValueError):
    """Fewer than t distinct trustees' partial decryptions: the plaintext is out of reach by design."""


def check_parameters(threshold: int, trustees: int) -> None:
    if not (isinstance(threshold, int) and isinstance(trustees, int)) or not 1 <= threshold <= trustees:
        raise ValueError(f"need 1 ≤ threshold ≤ trustees, got t={threshold}, n={trustees}")


def labels_digest(question: str, candidates: Sequence[str]) -> bytes:
    """SHA-512 over the question and the candidate names: each trustee's key proof covers it, so the trustees
    attest which name each choice index stands for (a relabelled record fails their proofs)."""
    return hash_bytes(LABELS_TAG, question.encode(), *(name.encode() for name in candidates))


def dkg_context(election_context: bytes, index: int, labels: bytes) -> bytes:
    return proofs.context_bytes(election_context, DKG_LABEL, index, labels)


def decrypt_context(election_context: bytes, index: int) -> bytes:
    return proofs.context_bytes(election_context, DECRYPT_LABEL, index)


@dataclass(frozen=True)
class Dealing:
    """The public half of trustee `index`'s deal."""

    index: int
    commitments: tuple[bytes, ...]  # C_i0 .. C_i,t−1
    proof: proofs.SchnorrProof  # knowledge of a_i0 behind C_i0

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "commitments": [c.hex() for c in self.commitments], "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, value: object) -> "Dealing":
        if not isinstance(value, dict) or not {"index", "commitments", "proof"} <= value.keys():
            raise ProofError("dealing must have index, commitments and proof")
        index, commitments = value["index"], value["commitments"]
        if isinstance(index, bool) or not isinstance(index, int) or index < 1:
            raise ProofError("dealing index must be a positive integer")
        if not isinstance(commitments, list) or not commitments:
            raise ProofError("dealing commitments must be a non-empty list")
        try:
            decoded = tuple(group.decode(c) for c in commitments)
        except (group.InvalidElement, TypeError) as exc:
            raise ProofError(f"dealing commitment: {exc}") from None
        return cls(index, decoded, proofs.SchnorrProof.from_json(value["proof"]))


@dataclass
class Trustee:
    """One trustee's private state across key generation and decryption."""

    index: int
    threshold: int
    trustees: int
    election_context: bytes
    labels: bytes  # labels_digest(question, candidates): what the key proof attests
    _coefficients: list[int] = field(repr=False, default_factory=list)
    _received: dict[int, int] = field(repr=False, default_factory=dict)
    dealing: Dealing | None = None

    def deal(self) -> tuple[Dealing, dict[int, int]]:
        """Fresh polynomial; returns the public dealing and the private share for every trustee j."""
        check_parameters(self.threshold, self.trustees)
        self._coefficients = [group.random_scalar() for _ in range(self.threshold)]
        commitments = tuple(group.base_mul(a) for a in self._coefficients)
        proof = proofs.schnorr_prove(self._coefficients[0], dkg_context(self.election_context, self.index, self.labels))
        self.dealing = Dealing(self.index, commitments, proof)
        shares = {j: _evaluate(self._coefficients, j) for j in range(1, self.trustees + 1)}
        return self.dealing, shares

    def receive(self, dealing: Dealing, share: int) -> None:
        """Accept dealer i's share for us after checking it against i's commitments and proof."""
        verify_dealing(dealing, self.threshold, self.election_context, self.labels)
        verify_share(dealing, self.index, share)
        self._received[dealing.index] = share

    @property
    def key_share(self) -> int:
        if len(self._received) != self.trustees:
            raise ValueError(f"trustee {self.index} holds {len(self._received)} of {self.trustees} shares")
        return sum(self._received.values()) % group.ORDER

    def partial_decrypt(
        self, ciphertexts: Sequence[Ciphertext], map_fn: Callable[..., Any] = map
    ) -> "PartialDecryption":
        return partial_decrypt(self.key_share, self.index, [ct.a for ct in ciphertexts], self.election_context, map_fn)


@dataclass(frozen=True)
class PartialDecryption:
    trustee: int
    factors: tuple[bytes, ...]  # D_jp = x_j·a_p per ciphertext
    proof: proofs.ChaumPedersenProof  # the batched proof over all of them

    def to_json(self) -> dict[str, Any]:
        return {"trustee": self.trustee, "factors": [f.hex() for f in self.factors], "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, value: object, validate: bool = True) -> "PartialDecryption":
        """Parse; with validate=False the factors are only checked to be 32 bytes of hex, and the verifier's
        span jobs decode them (so a pool does that work instead of the caller)."""
        if not isinstance(value, dict) or not {"trustee", "factors", "proof"} <= value.keys():
            raise ProofError("partial decryption must have trustee, factors and proof")
        trustee, factors = value["trustee"], value["factors"]
        if isinstance(trustee, bool) or not isinstance(trustee, int) or trustee < 1:
            raise ProofError("partial decryption trustee must be a positive integer")
        if not isinstance(factors, list):
            raise ProofError("factors must be a list")
        try:
            decoded = tuple(group.decode(f) if validate else group.from_hex(f) for f in factors)
        except (group.InvalidElement, TypeError) as exc:
            raise ProofError(f"decryption factor: {exc}") from None
        return cls(trustee, decoded, proofs.ChaumPedersenProof.from_json(value["proof"]))


def batch_seed(
    context: bytes, verification_key_j: bytes, first_parts: Sequence[bytes], factors: Sequence[bytes]
) -> bytes:
    """The hash every weight e_p derives from: it covers the key, the whole list and every factor."""
    return hash_bytes(BATCH_TAG, context, verification_key_j, b"".join(first_parts), b"".join(factors))


def batch_weight(seed: bytes, position: int) -> int:
    return hash_to_scalar(WEIGHT_TAG, seed, position.to_bytes(8, "big"))


def batch_weights(seed: bytes, count: int) -> list[int]:
    """[batch_weight(seed, p) for p in range(count)], hashing the common prefix once."""
    prefix = hashlib.sha512(framed(WEIGHT_TAG, (seed,)) + (8).to_bytes(4, "big"))
    weights = []
    for position in range(count):
        digest = prefix.copy()
        digest.update(position.to_bytes(8, "big"))
        weights.append(int.from_bytes(digest.digest(), "little") % group.ORDER)
    return weights


def decrypt_chunk(job: tuple[Any, ...]) -> list[bytes]:
    """Pool job: x·a for one span of first components."""
    key_share, first_parts = job
    return [group.mul(key_share, a) for a in first_parts]


def fold_chunk(job: tuple[Any, ...]) -> tuple[bytes, bytes | None]:
    """Pool job: (Σ e_p·a_p, Σ e_p·D_p) over one span, positions from `lo`; factors None sums only the a_p.
    A factor that is not a group element raises ProofError naming its position."""
    seed, lo, first_parts, factors = job
    sum_a, sum_d = group.IDENTITY, group.IDENTITY
    for offset, a in enumerate(first_parts):
        weight = batch_weight(seed, lo + offset)
        sum_a = group.add(sum_a, group.mul(weight, a))
        if factors is not None:
            try:
                factor = group.decode(factors[offset])
            except group.InvalidElement as exc:
                raise ProofError(f"factor {lo + offset}: {exc}") from None
            sum_d = group.add(sum_d, group.mul(weight, factor))
    return sum_a, (sum_d if factors is not None else None)


def _spans(n: int) -> list[tuple[int, int]]:
    size = max(SPAN_MIN, -(-n // SPANS))
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def partial_decrypt(key_share: int, index: int, first_parts: Sequence[bytes], election_context: bytes,
                    map_fn: Callable[..., Any] = map) -> PartialDecryption:
    """Trustee `index`'s factors for the list's first components a_p, with the batched proof."""
    spans = _spans(len(first_parts))
    factors = [f for part in map_fn(decrypt_chunk, [(key_share, first_parts[lo:hi]) for lo, hi in spans]) for f in part]
    key = group.base_mul(key_share)
    seed = batch_seed(decrypt_context(election_context, index), key, first_parts, factors)
    folded = group.IDENTITY
    for sum_a, _ in map_fn(fold_chunk, [(seed, lo, first_parts[lo:hi], None) for lo, hi in spans]):
        folded = group.add(folded, sum_a)
    proof = proofs.chaum_pedersen_prove(key_share, group.GENERATOR, folded, decrypt_context(election_context, index))
    return PartialDecryption(index, tuple(factors), proof)


def _evaluate(coefficients: Sequence[int], x: int) -> int:
    result = 0
    for a in reversed(coefficients):
        result = (result * x + a) % group.ORDER
    return result


def _commitment_at(commitments: Sequence[bytes], x: int) -> bytes:
    """Σ_k x^k·C_k: the public image of f(x)."""
    total, power = group.IDENTITY, 1
    for c in commitments:
        total = group.add(total, group.mul(power, c))
        power = power * x % group.ORDER
    return total


def verify_dealing(dealing: Dealing, threshold: int, election_context: bytes, labels: bytes) -> None:
    if len(dealing.commitments) != threshold:
        raise ProofError(
            f"trustee {dealing.index} committed to {len(dealing.commitments)} coefficients, expected {threshold}"
        )
    try:
        proofs.schnorr_verify(
            dealing.commitments[0], dealing.proof, dkg_context(election_context, dealing.index, labels)
        )
    except ProofError as exc:
        raise ProofError(f"trustee {dealing.index} key proof: {exc}") from None


def verify_share(dealing: Dealing, recipient: int, share: int) -> None:
    if group.base_mul(share) != _commitment_at(dealing.commitments, recipient):
        raise ProofError(f"share from trustee {dealing.index} to trustee {recipient} does not match the commitments")


def joint_public_key(dealings: Iterable[Dealing]) -> bytes:
    key = group.IDENTITY
    for d in dealings:
        key = group.add(key, d.commitments[0])
    return key


def verification_key(dealings: Iterable[Dealing], index: int) -> bytes:
    """Y_j = x_j·G computed from the public commitments only."""
    key = group.IDENTITY
    for d in dealings:
        key = group.add(key, _commitment_at(d.commitments, index))
    return key


def verify_partial(verification_key_j: bytes, ciphertexts: Sequence[Ciphertext], partial: PartialDecryption,
                   election_context: bytes, map_fn: Callable[..., Any] = map) -> None:
    """Check trustee j's batched proof over every factor; ProofError says why not."""
    verify_factors(verification_key_j, [ct.a for ct in ciphertexts], partial, election_context, map_fn)


def verify_factors(verification_key_j: bytes, first_parts: Sequence[bytes], partial: PartialDecryption,
                   election_context: bytes, map_fn: Callable[..., Any] = map) -> None:
    """`verify_partial` given only the list's first components a_p. The factors may still be undecoded
    32-byte strings (PartialDecryption.from_json(validate=False)): the span jobs validate them."""
    if len(partial.factors) != len(first_parts):
        raise ProofError(
            f"trustee {partial.trustee} decrypted {len(partial.factors)} of {len(first_parts)} ciphertexts"
        )
    context = decrypt_context(election_context, partial.trustee)
    seed = batch_seed(context, verification_key_j, first_parts, partial.factors)
    weights = batch_weights(seed, len(first_parts))
    try:
        # Σ e_p·a_p and Σ e_p·D_p: two products of many powers of public values
        try:
            folded_a = group.multi_mul(weights, first_parts, map_fn)
        except group.InvalidElement as exc:
            raise ProofError(f"ciphertext {exc.index}: {exc}") from None
        try:
            folded_d = group.multi_mul(weights, partial.factors, map_fn)
        except group.InvalidElement as exc:
            raise ProofError(f"factor {exc.index}: {exc}") from None
        proofs.chaum_pedersen_verify(group.GENERATOR, verification_key_j, folded_a, folded_d, partial.proof, context)
    except ProofError as exc:
        raise ProofError(f"trustee {partial.trustee}: factors do not match its verification key ({exc})") from None


def lagrange_at_zero(indices: Sequence[int]) -> dict[int, int]:
    """λ_j = Π_{m≠j} m / (m − j) mod ORDER for the given distinct x-coordinates."""
    if len(set(indices)) != len(indices):
        raise ValueError("trustee indices must be distinct")
    order = group.ORDER
    coefficients = {}
    for j in indices:
        num, den = 1, 1
        for m in indices:
            if m != j:
                num = num * m % order
                den = den * (m - j) % order
        coefficients[j] = num * pow(den, -1, order) % order
    return coefficients


def combine_factors(ciphertexts: Sequence[Ciphertext], partials: Mapping[int, Sequence[bytes]],
                    map_fn: Callable[..., Any] = map) -> list[bytes]:
    """M = b − Σ λ_j·D_j over exactly the given trustees. No threshold check: with fewer than t trustees the
    result is simply wrong (the tests show it); use `combine` for the checked version."""
    lam = lagrange_at_zero(list(partials))
    # (λ_j, factors) pairs, not a dict keyed by λ_j: two trustees can share a coefficient (1..4 of 4: λ_1 = λ_3)
    jobs = [([ct[1] for ct in ciphertexts[lo:hi]], [(lam[j], factors[lo:hi]) for j, factors in partials.items()])
            for lo, hi in _spans(len(ciphertexts))]
    return [m for part in map_fn(combine_chunk, jobs) for m in part]


def combination_holds(ciphertexts: Sequence[Ciphertext], partials: Mapping[int, Sequence[bytes]],
                      messages: Sequence[bytes], map_fn: Callable[..., Any] | None = None) -> bool:
    """True when b_p − Σ λ_j·D_jp = messages[p] for every p (what `combine_factors` would give), checked as
    one product of powers of public values with fresh 128-bit random weights w_p from the OS CSPRNG:
    Σ w_p·b_p − Σ_j λ_j·Σ w_p·D_jp − Σ w_p·M_p = 0 (a wrong row passes with probability at most 2^-128).
    False: some row differs, or a factor does not decode; combine_factors then says what each row is."""
    order = group.ORDER
    lam = lagrange_at_zero(list(partials))
    raw = secrets.token_bytes(16 * len(ciphertexts))
    weights = [int.from_bytes(raw[16 * i : 16 * i + 16], "little") for i in range(len(ciphertexts))]
    scalars, points = list(weights), [ct[1] for ct in ciphertexts]
    for j, factors in partials.items():
        scalars += [-lam[j] * w % order for w in weights]
        points += factors
    per_message: dict[bytes, int] = {}
    for w, message in zip(weights, messages):
        per_message[message] = per_message.get(message, 0) + w
    scalars += [-w % order for w in per_message.values()]
    points += per_message
    try:
        return group.multi_mul(scalars, points, map_fn) == group.IDENTITY
    except group.InvalidElement:
        return False


def combine_chunk(job: tuple[Any, ...]) -> list[bytes]:
    """Pool job: b − Σ λ_j·D_j for one span, given each trustee's (λ_j, factors)."""
    second_parts, weighted_factors = job
    # Public values only: one product of powers per ciphertext, b·1 + Σ D_j·(−λ_j), every factor validated.
    scalars = [1, *(-coefficient % group.ORDER for coefficient, _ in weighted_factors)]
    rows = [(b, *(factors[position] for _, factors in weighted_factors)) for position, b in enumerate(second_parts)]
    return group.multi_mul_rows(scalars, rows)


def combine(ciphertexts: Sequence[Ciphertext], partials: Iterable[PartialDecryption], threshold: int) -> list[bytes]:
    """Plaintexts from the first `threshold` distinct trustees' (already verified) partial decryptions."""
    chosen: dict[int, Sequence[bytes]] = {}
    for partial in partials:
        if partial.trustee not in chosen and len(chosen) < threshold:
            if len(partial.factors) != len(ciphertexts):
                raise ValueError(
                    f"trustee {partial.trustee} decrypted {len(partial.factors)} of {len(ciphertexts)} ciphertexts"
                )
            chosen[partial.trustee] = partial.factors
    if len(chosen) < threshold:
        raise NotEnoughShares(f"{len(chosen)} trustees decrypted, {threshold} needed")
    return combine_factors(ciphertexts, chosen)


def run_key_generation(threshold: int, trustees: int, election_context: bytes, labels: bytes
                       ) -> tuple[list[Trustee], list[Dealing], bytes]:
    """All n trustees in one process (simulation and tests): deal, exchange and check shares."""
    check_parameters(threshold, trustees)
    parties = [Trustee(i, threshold, trustees, election_context, labels) for i in range(1, trustees + 1)]
    deals = [p.deal() for p in parties]
    for dealing, shares in deals:
        for party in parties:
            party.receive(dealing, shares[party.index])
    dealings = [d for d, _ in deals]
    return parties, dealings, joint_public_key(dealings)

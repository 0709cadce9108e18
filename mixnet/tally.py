"""Counting: the homomorphic tally (exponential ElGamal) and the count of a mixnet's decrypted outputs.

Homomorphic ballot: for each of K candidates a ciphertext of m·G, m ∈ {0, 1}, with a disjunctive proof
that m ∈ {0, 1}, plus a Chaum–Pedersen proof that the K ciphertexts sum to an encryption of 1·G (exactly
one mark). Ciphertexts add component-wise, so the per-candidate sums encrypt count·G; after threshold
decryption the small discrete log `count` is read from a table of 0·G .. max·G.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence, TypedDict

from mixscope.mixnet import elgamal, group, proofs
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError

ZERO_ONE = (group.IDENTITY, group.GENERATOR)


def _context(election_id: str, voter_id: str, part: str) -> bytes:
    return proofs.context_bytes(proofs.election_context(election_id), "homomorphic-ballot", voter_id, part)


class HomomorphicBallot(NamedTuple):
    ciphertexts: tuple[Ciphertext, ...]  # one per candidate
    bit_proofs: tuple[proofs.DisjunctiveProof, ...]  # each plaintext is 0·G or 1·G
    sum_proof: proofs.ChaumPedersenProof  # Σ ciphertexts = (R·G, G + R·Y)
    signature: bytes | None = None  # the voter's credential signature, once signed (mixnet/credentials.py)

    def to_json(self) -> dict[str, Any]:
        out = {
            "ciphertexts": [c.to_json() for c in self.ciphertexts],
            "bit_proofs": [p.to_json() for p in self.bit_proofs],
            "sum_proof": self.sum_proof.to_json(),
        }
        if self.signature is not None:
            out["signature"] = self.signature.hex()
        return out

    def signed_parts(self) -> tuple[bytes, ...]:
        """What the credential signature covers after E and C (docs/verifier.md §5.1; mixnet/credentials.py
        frames them): every ciphertext, then each bit proof's commitments, challenges and responses, then the
        sum proof, elements as 32 bytes and scalars as 32 bytes little-endian."""
        parts: list[bytes] = []
        for ct in self.ciphertexts:
            parts += (ct.a, ct.b)
        for proof in self.bit_proofs:
            parts += [x for pair in proof.commitments for x in pair]
            parts += [group.scalar_bytes(c) for c in proof.challenges]
            parts += [group.scalar_bytes(s) for s in proof.responses]
        total = self.sum_proof
        return (*parts, total.commitment1, total.commitment2, group.scalar_bytes(total.response))

    @classmethod
    def from_json(cls, value: object) -> "HomomorphicBallot":
        if not isinstance(value, dict) or not {"ciphertexts", "bit_proofs", "sum_proof"} <= value.keys():
            raise ProofError("homomorphic ballot must have ciphertexts, bit_proofs and sum_proof")
        cts, bits = value["ciphertexts"], value["bit_proofs"]
        if not isinstance(cts, list) or not isinstance(bits, list) or len(cts) != len(bits):
            raise ProofError("ciphertexts and bit_proofs must be lists of equal length")
        try:
            parsed = tuple(Ciphertext.from_json(c) for c in cts)
        except (group.InvalidElement, TypeError) as exc:
            raise ProofError(f"ciphertext: {exc}") from None
        signature = None
        if "signature" in value:
            from mixscope.mixnet.ballots import _signature

            signature = _signature(value["signature"])
        return cls(parsed, tuple(proofs.DisjunctiveProof.from_json(p) for p in bits),
                   proofs.ChaumPedersenProof.from_json(value["sum_proof"]), signature)


def add_ciphertexts(cts: Sequence[Ciphertext]) -> Ciphertext:
    a, b = group.IDENTITY, group.IDENTITY
    for ct in cts:
        a, b = group.add(a, ct.a), group.add(b, ct.b)
    return Ciphertext(a, b)


def cast_homomorphic(
    public_key: bytes, election_id: str, voter_id: str, candidates: int, choice: int
) -> HomomorphicBallot:
    if not 0 <= choice < candidates:
        raise ValueError(f"choice must be 0..{candidates - 1}")
    rs = [group.random_scalar() for _ in range(candidates)]
    cts, bits = [], []
    for i, r in enumerate(rs):
        m = 1 if i == choice else 0
        ct = elgamal.encrypt(public_key, ZERO_ONE[m], r)
        cts.append(ct)
        bits.append(
            proofs.disjunctive_prove(
                public_key, ct.a, ct.b, r, ZERO_ONE, m, _context(election_id, voter_id, f"bit {i}")
            )
        )
    # (A, B − G) = (R·G, R·Y): the same R behind both, i.e. the sum encrypts exactly 1·G.
    sum_proof = proofs.chaum_pedersen_prove(
        sum(rs) % group.ORDER, group.GENERATOR, public_key, _context(election_id, voter_id, "sum")
    )
    return HomomorphicBallot(tuple(cts), tuple(bits), sum_proof)


def verify_homomorphic(
    public_key: bytes, election_id: str, voter_id: str, candidates: int, ballot: HomomorphicBallot
) -> None:
    if len(ballot.ciphertexts) != candidates or len(ballot.bit_proofs) != candidates:
        raise ProofError(f"ballot has {len(ballot.ciphertexts)} ciphertexts, expected {candidates}")
    for i, (ct, proof) in enumerate(zip(ballot.ciphertexts, ballot.bit_proofs)):
        try:
            proofs.disjunctive_verify(
                public_key, ct.a, ct.b, ZERO_ONE, proof, _context(election_id, voter_id, f"bit {i}")
            )
        except ProofError as exc:
            raise ProofError(f"candidate {i} is not 0 or 1: {exc}") from None
    total = add_ciphertexts(ballot.ciphertexts)
    try:
        proofs.chaum_pedersen_verify(
            group.GENERATOR,
            total.a,
            public_key,
            group.sub(total.b, group.GENERATOR),
            ballot.sum_proof,
            _context(election_id, voter_id, "sum"),
        )
    except ProofError as exc:
        raise ProofError(f"marks do not sum to one: {exc}") from None


def accumulate(ballots: Sequence[HomomorphicBallot], candidates: int) -> list[Ciphertext]:
    """Per-candidate sums of the (already verified) ballots."""
    return [add_ciphertexts([b.ciphertexts[i] for b in ballots]) for i in range(candidates)]


class DiscreteLogTable:
    """m·G → m for 0 ≤ m ≤ bound: one base multiplication's worth of additions per entry, built once."""

    def __init__(self, bound: int):
        self.bound = bound
        self._table: dict[bytes, int] = {}
        point = group.IDENTITY
        for m in range(bound + 1):
            self._table[point] = m
            point = group.add(point, group.GENERATOR)

    def solve(self, element: bytes) -> int:
        try:
            return self._table[element]
        except KeyError:
            raise ValueError(f"discrete log above {self.bound}") from None


def counts_from_elements(elements: Sequence[bytes], voters: int) -> list[int]:
    """Decrypted per-candidate sums (count·G) → counts, for at most `voters` ballots."""
    table = DiscreteLogTable(voters)
    return [table.solve(e) for e in elements]


def decode_choices(plaintexts: Sequence[bytes], candidates: int) -> list[int | None]:
    """Decrypted mix outputs (encode_choice(i)) → choice indices; None for an output that encodes no
    candidate (an invalid vote: ballots carry no proof of a valid choice, see mixnet/ballots.py)."""
    table = elgamal.choice_table(candidates)
    return [table.get(element) for element in plaintexts]


def count_choices(choices: Sequence[int | None], candidates: int) -> list[int]:
    """Votes per candidate; invalid choices (None) count for nobody."""
    counts = [0] * candidates
    for choice in choices:
        if choice is not None:
            counts[choice] += 1
    return counts


class CountResult(TypedDict):
    counts: list[int]
    invalid: int


def count_result(choices: Sequence[int | None], candidates: int) -> CountResult:
    """The result as the record states it: votes per candidate and the number of invalid outputs."""
    return {"counts": count_choices(choices, candidates), "invalid": sum(choice is None for choice in choices)}

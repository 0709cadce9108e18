"""Mixnet ballots: one ElGamal ciphertext of encode_choice(i), with two proofs.

* A Schnorr proof of knowledge of r behind a = r·G. Its context binds the election id and the voter id, so
  the ballot cannot be re-cast under another voter or in another election (and nobody can submit a
  transformed copy of someone else's ciphertext without knowing its randomness).
* A disjunctive Chaum–Pedersen proof that the plaintext is one of the K candidate encodings, so every mix
  output decodes to a valid choice.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from mixnet import elgamal, group, proofs
from mixnet.elgamal import Ciphertext
from mixnet.errors import ProofError

BALLOT_LABEL = "ballot"


def ballot_context(election_id: str, voter_id: str, part: str) -> bytes:
    return proofs.context_bytes(proofs.election_context(election_id), BALLOT_LABEL, voter_id, part)


def candidate_count(candidates: int | Sequence) -> int:
    count = candidates if isinstance(candidates, int) else len(candidates)
    if isinstance(count, bool) or count < 1:
        raise ValueError("an election needs at least one candidate")
    return count


def candidate_messages(candidates: int | Sequence) -> list[bytes]:
    return [elgamal.encode_choice(i) for i in range(candidate_count(candidates))]


class Ballot(NamedTuple):
    ciphertext: Ciphertext
    randomness_proof: proofs.SchnorrProof
    choice_proof: proofs.DisjunctiveProof

    def to_json(self) -> dict:
        return {
            "ciphertext": self.ciphertext.to_json(),
            "randomness_proof": self.randomness_proof.to_json(),
            "choice_proof": self.choice_proof.to_json(),
        }

    @classmethod
    def from_json(cls, value) -> "Ballot":
        """Parse and validate the encodings (not the proofs); ProofError says what is malformed."""
        if not isinstance(value, dict):
            raise ProofError("ballot must be an object")
        missing = [k for k in ("ciphertext", "randomness_proof", "choice_proof") if k not in value]
        if missing:
            raise ProofError(f"ballot lacks field(s) {', '.join(missing)}")
        try:
            ciphertext = Ciphertext.from_json(value["ciphertext"])
        except (group.InvalidElement, TypeError) as exc:
            raise ProofError(f"ballot ciphertext: {exc}") from None
        return cls(
            ciphertext,
            proofs.SchnorrProof.from_json(value["randomness_proof"]),
            proofs.DisjunctiveProof.from_json(value["choice_proof"]),
        )


def cast(public_key: bytes, election_id: str, voter_id: str, candidates: int | Sequence, choice: int) -> Ballot:
    messages = candidate_messages(candidates)
    if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < len(messages):
        raise ValueError(f"choice must be 0..{len(messages) - 1}")
    r = group.random_scalar()
    ct = elgamal.encrypt(public_key, messages[choice], r)
    return Ballot(
        ct,
        proofs.schnorr_prove(r, _randomness_context(public_key, election_id, voter_id, ct)),
        proofs.disjunctive_prove(public_key, ct.a, ct.b, r, messages, choice, ballot_context(election_id, voter_id, "choice")),
    )


def _randomness_context(public_key: bytes, election_id: str, voter_id: str, ct: Ciphertext) -> bytes:
    # The whole ciphertext and key go into the context: the proof of r is bound to this b as well as a.
    return proofs.context_bytes(ballot_context(election_id, voter_id, "randomness"), public_key, ct.a, ct.b)


def verify_ballot(public_key: bytes, election_id: str, voter_id: str, candidates: int | Sequence, ballot: Ballot) -> None:
    """Raise ProofError with a reason unless both proofs hold for this voter in this election."""
    ct = ballot.ciphertext
    try:
        proofs.schnorr_verify(ct.a, ballot.randomness_proof, _randomness_context(public_key, election_id, voter_id, ct))
    except ProofError as exc:
        raise ProofError(f"proof of randomness: {exc}") from None
    try:
        proofs.disjunctive_verify(
            public_key, ct.a, ct.b, candidate_messages(candidates), ballot.choice_proof, ballot_context(election_id, voter_id, "choice")
        )
    except ProofError as exc:
        raise ProofError(f"proof of valid choice: {exc}") from None

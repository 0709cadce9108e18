"""Mixnet ballots: one ElGamal ciphertext of encode_choice(i) and a Schnorr proof of knowledge of its randomness.

The proof of r behind a = r·G has a context binding the election id, the voter id, the key and the whole
ciphertext, so the ballot cannot be re-cast under another voter or in another election, and nobody can submit
a transformed copy of someone else's ciphertext without knowing its randomness.

There is no proof that the plaintext is a candidate (as in Zeus and in Belenios' mixnet mode): a mixnet
publishes every plaintext after decryption, so an output that encodes no candidate is plainly visible and
counted as invalid (mixnet/tally.py). Such a ballot only wastes its own voter's vote, and dropping the
disjunctive proof removes most of a ballot's cost, to make and to check (at submission and in the record).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from mixscope.mixnet import elgamal, group, proofs
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError

BALLOT_LABEL = "ballot"
FIELDS = ("ciphertext", "randomness_proof")
SIGNATURE = "signature"  # optional: the voter's credential signature (mixnet/credentials.py)


def ballot_context(election_id: str, voter_id: str, part: str) -> bytes:
    return proofs.context_bytes(proofs.election_context(election_id), BALLOT_LABEL, voter_id, part)


def candidate_count(candidates: int | Sequence[Any]) -> int:
    count = candidates if isinstance(candidates, int) else len(candidates)
    if isinstance(count, bool) or count < 1:
        raise ValueError("an election needs at least one candidate")
    return count


class Ballot(NamedTuple):
    ciphertext: Ciphertext
    randomness_proof: proofs.SchnorrProof
    signature: bytes | None = None  # the credential's Ed25519 signature, once signed

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ciphertext": self.ciphertext.to_json(),
            "randomness_proof": self.randomness_proof.to_json(),
        }
        if self.signature is not None:
            out[SIGNATURE] = self.signature.hex()
        return out

    @classmethod
    def from_json(cls, value: object) -> "Ballot":
        """Parse and validate the encodings (not the proof); ProofError says what is malformed.

        Unknown fields are refused, as in the API's bodies and the shuffle proof: a version-1 ballot's
        "choice_proof" gets a clear reason instead of being dropped unseen."""
        if not isinstance(value, dict):
            raise ProofError("ballot must be an object")
        missing = [k for k in FIELDS if k not in value]
        if missing:
            raise ProofError(f"ballot lacks field(s) {', '.join(missing)}")
        unknown = sorted(str(k) for k in value if k not in FIELDS and k != SIGNATURE)
        if unknown:
            raise ProofError(f"ballot has unknown field(s) {', '.join(unknown)}")
        try:
            ciphertext = Ciphertext.from_json(value["ciphertext"])
        except (group.InvalidElement, TypeError) as exc:
            raise ProofError(f"ballot ciphertext: {exc}") from None
        return cls(ciphertext, proofs.SchnorrProof.from_json(value["randomness_proof"]),
                   _signature(value[SIGNATURE]) if SIGNATURE in value else None)


def _signature(value: object) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or len(raw) != group.SIGNATURE_BYTES:
        raise ProofError("ballot signature must be 128 hex characters (64 bytes)")
    return raw


def cast(public_key: bytes, election_id: str, voter_id: str, candidates: int | Sequence[Any], choice: int) -> Ballot:
    count = candidate_count(candidates)
    if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < count:
        raise ValueError(f"choice must be 0..{count - 1}")
    return seal(public_key, election_id, voter_id, elgamal.encode_choice(choice))


def seal(public_key: bytes, election_id: str, voter_id: str, message: bytes) -> Ballot:
    """Encrypt any element as this voter's ballot. cast() seals a candidate's encoding; anything else is a
    well-formed ballot that decrypts to an invalid vote."""
    r = group.random_scalar()
    ct = elgamal.encrypt(public_key, message, r)
    return Ballot(ct, proofs.schnorr_prove(r, _randomness_context(public_key, election_id, voter_id, ct)))


def _randomness_context(public_key: bytes, election_id: str, voter_id: str, ct: Ciphertext) -> bytes:
    # The whole ciphertext and key go into the context: the proof of r is bound to this b as well as a.
    return proofs.context_bytes(ballot_context(election_id, voter_id, "randomness"), public_key, ct.a, ct.b)


def verify_ballot(public_key: bytes, election_id: str, voter_id: str, ballot: Ballot) -> None:
    """Raise ProofError with a reason unless the proof of randomness holds for this voter in this election."""
    ct = ballot.ciphertext
    if group.IDENTITY in (ct.a, ct.b):  # a = identity: randomness 0, so b is the vote in clear
        raise ProofError("ballot ciphertext has an identity component")
    try:
        proofs.schnorr_verify(ct.a, ballot.randomness_proof, _randomness_context(public_key, election_id, voter_id, ct))
    except ProofError as exc:
        raise ProofError(f"proof of randomness: {exc}") from None


def ballots_hold(public_key: bytes, election_id: str, items: Sequence[tuple[str, Ballot]]) -> bool:
    """True when every (voter id, ballot)'s proof of randomness holds, checked as one randomly weighted
    product of powers. False: at least one does not; verify_ballot on each says which and why."""
    if any(group.IDENTITY in (ballot.ciphertext.a, ballot.ciphertext.b) for _, ballot in items):
        return False  # a valid proof does not make such a ballot acceptable: verify_ballot refuses it
    statements = [(ballot.ciphertext.a, ballot.randomness_proof,
                   _randomness_context(public_key, election_id, voter_id, ballot.ciphertext))
                  for voter_id, ballot in items]
    return proofs.schnorr_batch_holds(statements)

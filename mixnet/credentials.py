"""Voter credentials (the Belenios pattern): who may vote is public, and every ballot proves it came from
one of them.

A credential authority, separate from the server, makes one credential per voter: a short text code with
120 bits from `secrets`, from which an Ed25519 signing key is derived (the KDF below). The voter keeps the
code (or a file holding it); the server and the election record get only the public keys. A ballot is keyed
by its credential's public key: that hex string is the ballot's voter id, both on the board and inside the
ballot's proof of randomness, so no free-form voter id exists that could let anyone vote as anyone.

The signature covers, framed as in docs/verifier.md §1.1 (`transcript.framed`, not hashed):

    frame("mixscope/v1/ballot-signature", E, C, a, b, t, s)

with E the election context (the id alone, as ballot contexts use it), C the credential's 32-byte public key,
(a, b) the ciphertext and (t, s) the proof of randomness (t's 32 bytes, s as 32 bytes little-endian).
docs/verifier.md §2 specifies it and the checks; tests/data/credential_vector.json is a worked example.
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple, Sequence, TypeVar

from mixscope.mixnet import ballots, group, proofs, transcript
from mixscope.mixnet.ballots import Ballot
from mixscope.mixnet.errors import ProofError
from mixscope.mixnet.tally import HomomorphicBallot

# Either kind of ballot a credential signs (a mixnet ballot, or a homomorphic one: mixnet/tally.py).
SignedBallot = TypeVar("SignedBallot", Ballot, HomomorphicBallot)

SIGNATURE_TAG = transcript.BALLOT_SIGNATURE_TAG
SEED_TAG = transcript.CREDENTIAL_SEED_TAG
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
CODE_SYMBOLS = 24  # × 5 bits = 120 bits of entropy
GROUP_SIZE = 4  # shown as 6 groups of 4, e.g. "7K2M-QX4B-..."
_READ_AS = {"O": "0", "I": "1", "L": "1"}  # what a person may type for 0 and 1


class Credential(NamedTuple):
    """A voter's private credential: the code, and the key pair derived from it."""

    code: str
    public_key: bytes
    secret_key: bytes  # libsodium's 64-byte form: the seed, then the public key

    @property
    def voter_id(self) -> str:
        """The public credential as hex: the ballot's key on the board and in the record."""
        return self.public_key.hex()


def new_code() -> str:
    """A fresh credential code: CODE_SYMBOLS symbols of ALPHABET from `secrets`, grouped with dashes."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
    return "-".join(raw[i:i + GROUP_SIZE] for i in range(0, CODE_SYMBOLS, GROUP_SIZE))


def normalise_code(text: object) -> str:
    """The code's canonical form (upper case, grouped); ValueError when it is not a credential code.
    Spaces and dashes are ignored; O is read as 0 and I, L as 1."""
    if not isinstance(text, str):
        raise ValueError("a credential code is text")
    raw = "".join(_READ_AS.get(ch, ch) for ch in text.upper() if ch not in " -\t\r\n")
    if len(raw) != CODE_SYMBOLS or any(ch not in ALPHABET for ch in raw):
        raise ValueError(f"a credential code is {CODE_SYMBOLS} letters and digits (dashes optional)")
    return "-".join(raw[i:i + GROUP_SIZE] for i in range(0, CODE_SYMBOLS, GROUP_SIZE))


def seed_of(code: str) -> bytes:
    """The KDF: the first 32 bytes of SHA-512(frame(SEED_TAG, canonical code without dashes, ASCII)).

    The code carries 120 bits from a CSPRNG, so a fast hash is enough: there is nothing to stretch."""
    return _seed(normalise_code(code))


def _seed(canonical: str) -> bytes:
    return transcript.hash_bytes(SEED_TAG, canonical.replace("-", "").encode("ascii"))[:group.SIGNING_SEED_BYTES]


def from_code(code: object) -> Credential:
    """The credential a code stands for (ValueError for text that is no code)."""
    canonical = normalise_code(code)
    public_key, secret_key = group.signing_keypair(_seed(canonical))
    return Credential(canonical, public_key, secret_key)


def from_secret_key(secret_key: bytes, code: str = "") -> Credential:
    """A credential from its 64-byte secret key (seed, then public key), as a process hands it to another
    without deriving it again; `code` is kept only for display."""
    if len(secret_key) != 64:
        raise ValueError("a credential's secret key is 64 bytes")
    return Credential(code, bytes(secret_key[32:]), bytes(secret_key))


def generate(count: int) -> list[Credential]:
    """`count` fresh credentials with distinct public keys."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("credential count must be a positive integer")
    made: dict[bytes, Credential] = {}
    while len(made) < count:  # a repeat has probability ~count²/2^121; the loop only makes it impossible
        credential = from_code(new_code())
        made.setdefault(credential.public_key, credential)
    return list(made.values())


def decode_public(value: object) -> bytes:
    """A public credential from outside (64 hex characters); ValueError unless it is a valid Ed25519 key."""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) and len(value) == 64 else None
    except ValueError:
        raw = None
    if raw is None:
        raise ValueError("a public credential is 64 hex characters")
    if not group.is_signing_key(raw):
        raise ValueError("a public credential must be a valid Ed25519 public key")
    return raw


def check_list(values: object) -> list[str]:
    """The public credential list of an election, validated: a non-empty list of distinct valid keys, as
    lowercase hex, sorted (the order carries no link to the voters). ValueError names the first problem."""
    if not isinstance(values, list) or not values:
        raise ValueError("the credential list must be a non-empty list of public credentials")
    keys = []
    for i, value in enumerate(values):
        try:
            keys.append(decode_public(value).hex())
        except ValueError as exc:
            raise ValueError(f"credential {i}: {exc}") from None
    if len(set(keys)) != len(keys):
        raise ValueError("the credential list holds the same credential twice")
    return sorted(keys)


def signed_bytes(election_id: str, public_key: bytes, ballot: Ballot | HomomorphicBallot) -> bytes:
    """Exactly the bytes a ballot's signature covers (module docstring)."""
    if not isinstance(ballot, Ballot):  # a homomorphic ballot (mixnet/tally.py): its parts, under its own tag
        return transcript.framed(transcript.HOMOMORPHIC_SIGNATURE_TAG,
                                 (proofs.election_context(election_id), public_key, *ballot.signed_parts()))
    ct, proof = ballot.ciphertext, ballot.randomness_proof
    return transcript.framed(SIGNATURE_TAG, (proofs.election_context(election_id), public_key, ct.a, ct.b,
                                             proof.commitment, group.scalar_bytes(proof.response)))


def sign(credential: Credential, election_id: str, ballot: SignedBallot) -> SignedBallot:
    """The ballot with this credential's signature."""
    message = signed_bytes(election_id, credential.public_key, ballot)
    return ballot._replace(signature=group.sign(credential.secret_key, message))


def cast(
    credential: Credential, public_key: bytes, election_id: str, candidates: int | Sequence[Any], choice: int
) -> Ballot:
    """Encrypt `choice` as this credential's ballot (its voter id is the public credential) and sign it."""
    ballot = ballots.cast(public_key, election_id, credential.voter_id, candidates, choice)
    return sign(credential, election_id, ballot)


def seal(credential: Credential, public_key: bytes, election_id: str, message: bytes) -> Ballot:
    """Any element as this credential's signed ballot (ballots.seal; an invalid vote when no candidate's)."""
    return sign(credential, election_id, ballots.seal(public_key, election_id, credential.voter_id, message))


def verify_signature(election_id: str, voter_id: str, ballot: Ballot | HomomorphicBallot) -> None:
    """ProofError with a reason unless `ballot` carries a valid signature by the credential `voter_id`
    (the public credential's hex)."""
    if ballot.signature is None:
        raise ProofError("the ballot is not signed with a credential")
    # The one byte form: the text the proof of randomness binds is the lowercase hex, nothing else. No separate
    # point check: libsodium's verification refuses a key that is no valid credential.
    if not group.is_hex(voter_id, 64):
        raise ProofError("a public credential is 64 hex characters, in lower case")
    public_key = bytes.fromhex(voter_id)
    try:
        group.verify_signature(public_key, signed_bytes(election_id, public_key, ballot), ballot.signature)
    except group.InvalidSignature as exc:
        raise ProofError(f"credential signature: {exc}") from None


def verify(public_key: bytes, election_id: str, voter_id: str, ballot: Ballot) -> None:
    """Both checks the server and the verifier make of one ballot: the credential's signature, then the
    proof of randomness (ProofError names the failing one)."""
    verify_signature(election_id, voter_id, ballot)
    ballots.verify_ballot(public_key, election_id, voter_id, ballot)

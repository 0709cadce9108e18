"""Every Fiat–Shamir domain tag and the hashes built on them, in one place (docs/verifier.md §1.1).

`framed(tag, p_1, …, p_m)` = u32be(len(tag)) ‖ tag ‖ u32be(len(p_1)) ‖ p_1 ‖ …: length prefixes make the encoding
injective. `hash_bytes` is SHA-512 over it, `hash_to_scalar` that digest read little-endian mod ℓ, and
`hash_to_element` the RFC 9496 one-way map of it (through mixnet.group, the only module touching libsodium).
Changing any byte here changes every proof: the known-answer vectors in tests/data pin them.
"""

from __future__ import annotations

import hashlib

from mixscope.mixnet import group

# Sigma proofs (mixnet/proofs.py)
SCHNORR_TAG = "mixscope/v1/schnorr"
CHAUM_PEDERSEN_TAG = "mixscope/v1/chaum-pedersen"
DISJUNCTIVE_TAG = "mixscope/v1/disjunctive"
# Contexts (mixnet/proofs.py election_context)
ELECTION_TAG = "mixscope/v1/election"
# Trustees (mixnet/trustees.py)
LABELS_TAG = "mixscope/v1/labels"
BATCH_TAG = "mixscope/v1/decryption-batch"
WEIGHT_TAG = "mixscope/v1/decryption-weight"
# The Terelius–Wikström shuffle (mixnet/_shuffle_spec.py)
GENERATORS_TAG = "mixscope/tw-shuffle/v1/generators"
STATEMENT_TAG = "mixscope/tw-shuffle/v1/statement"
U_TAG = "mixscope/tw-shuffle/v1/u"
CHALLENGE_TAG = "mixscope/tw-shuffle/v1/challenge"
# Voter credentials (mixnet/credentials.py): the KDF from a code, and what a ballot's signature covers
CREDENTIAL_SEED_TAG = "mixscope/v1/credential-seed"
BALLOT_SIGNATURE_TAG = "mixscope/v1/ballot-signature"
HOMOMORPHIC_SIGNATURE_TAG = "mixscope/v1/homomorphic-ballot-signature"  # a homomorphic ballot's (mixnet/homomorphic.py)


def framed(domain: str, parts: tuple[bytes, ...]) -> bytes:
    # Length prefixes make the encoding injective: no two different part lists hash the same input.
    tag = domain.encode()
    chunks = [len(tag).to_bytes(4, "big"), tag]
    for part in parts:
        chunks.append(len(part).to_bytes(4, "big"))
        chunks.append(part)
    return b"".join(chunks)


def hash_bytes(domain: str, *parts: bytes) -> bytes:
    """The 64-byte SHA-512 digest over a domain tag and length-prefixed parts."""
    return hashlib.sha512(framed(domain, parts)).digest()


def hash_to_scalar(domain: str, *parts: bytes) -> int:
    """A scalar from SHA-512 over a domain tag and length-prefixed parts, reduced mod ORDER."""
    return int.from_bytes(hash_bytes(domain, *parts), "little") % group.ORDER


def hash_to_element(domain: str, *parts: bytes) -> bytes:
    """An element nobody knows the discrete log of: the one-way map of hash_bytes(domain, *parts)."""
    return group.from_uniform(hash_bytes(domain, *parts))


def generators(domain: str, count: int) -> list[bytes]:
    """`count` independent generators: hash_to_element(domain, i as 4-byte big-endian)."""
    return [hash_to_element(domain, i.to_bytes(4, "big")) for i in range(count)]

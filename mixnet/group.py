"""ristretto255, the prime-order group every proof works in, through libsodium (rbcl's bundled copy).

This is the only module that touches the binding. Elements are their canonical 32-byte encodings (`bytes`);
scalars are Python ints in [0, ORDER). Anything that arrives from outside goes through `decode`, which
rejects non-canonical and invalid encodings; internal results are trusted and never re-validated, because
every libsodium call already decodes its inputs.

A faster backend (unencoded points, multi-scalar multiplication) can replace this module without touching
the proofs, as long as it keeps these functions.
"""

from __future__ import annotations

import ctypes
import hashlib
import secrets

import rbcl

_sodium = rbcl._sodium  # the ctypes handle: calling it directly skips rbcl's per-call argument checks

ORDER = 2**252 + 27742317777372353535851937790883648493  # ℓ, the group order
ELEMENT_BYTES = 32
IDENTITY = bytes(32)
GENERATOR = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
GROUP_NAME = "ristretto255"


class InvalidElement(ValueError):
    """Bytes that are not the canonical encoding of a ristretto255 element."""


class InvalidScalar(ValueError):
    """A number that is not a scalar in [0, ORDER)."""


def decode(data: bytes | str) -> bytes:
    """Validate an element that came from outside (bytes, or hex text) and return its 32 bytes."""
    data = from_hex(data)
    if not _sodium.crypto_core_ristretto255_is_valid_point(data):
        raise InvalidElement("not a canonical ristretto255 encoding")
    return data


def from_hex(data: str | bytes) -> bytes:
    """32 bytes from hex (or bytes), NOT checked to be a group element: only for values that a libsodium call
    decodes, and so validates, before anything depends on them (the shuffle verifier's kernels). Skipping the
    separate check keeps that cost off a caller's single thread."""
    if isinstance(data, str):
        try:
            data = bytes.fromhex(data)
        except ValueError:
            raise InvalidElement("element is not hex") from None
    if not isinstance(data, (bytes, bytearray)) or len(data) != ELEMENT_BYTES:
        raise InvalidElement("element must be 32 bytes")
    return bytes(data)


def decode_scalar(value: int | str) -> int:
    """Validate a scalar that came from outside (int, or 64-char little-endian hex text)."""
    if isinstance(value, str):
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise InvalidScalar("scalar is not hex") from None
        if len(raw) != 32:
            raise InvalidScalar("scalar must be 32 bytes")
        value = int.from_bytes(raw, "little")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < ORDER:
        raise InvalidScalar("scalar out of range")
    return value


def scalar_hex(k: int) -> str:
    return (k % ORDER).to_bytes(32, "little").hex()


def _scalar_bytes(k: int) -> bytes:
    return (k % ORDER).to_bytes(32, "little")


def mul(k: int, element: bytes) -> bytes:
    """k·P for a variable base P."""
    out = ctypes.create_string_buffer(32)
    # libsodium returns -1 (and writes zeros) when the result is the identity: k ≡ 0 or P = identity.
    _sodium.crypto_scalarmult_ristretto255(out, _scalar_bytes(k), element)
    return out.raw


def base_mul(k: int) -> bytes:
    """k·G for the standard generator."""
    out = ctypes.create_string_buffer(32)
    _sodium.crypto_scalarmult_ristretto255_base(out, _scalar_bytes(k))
    return out.raw


def add(a: bytes, b: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    if _sodium.crypto_core_ristretto255_add(out, a, b) != 0:
        raise InvalidElement("not a ristretto255 element")
    return out.raw


def sub(a: bytes, b: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    if _sodium.crypto_core_ristretto255_sub(out, a, b) != 0:
        raise InvalidElement("not a ristretto255 element")
    return out.raw


def neg(a: bytes) -> bytes:
    return sub(IDENTITY, a)


def from_uniform(data64: bytes) -> bytes:
    """The RFC 9496 one-way map from 64 uniform bytes to an element (libsodium's `from_hash`)."""
    out = ctypes.create_string_buffer(32)
    _sodium.crypto_core_ristretto255_from_hash(out, bytes(data64))
    return out.raw


def hash_to_element(domain: str, *parts: bytes) -> bytes:
    """An element nobody knows the discrete log of: SHA-512 over a domain tag and length-prefixed parts."""
    return from_uniform(hashlib.sha512(_framed(domain, parts)).digest())


def hash_to_scalar(domain: str, *parts: bytes) -> int:
    """A scalar from SHA-512 over a domain tag and length-prefixed parts, reduced mod ORDER."""
    return int.from_bytes(hash_bytes(domain, *parts), "little") % ORDER


def hash_bytes(domain: str, *parts: bytes) -> bytes:
    """The 64-byte SHA-512 digest over a domain tag and length-prefixed parts."""
    return hashlib.sha512(_framed(domain, parts)).digest()


def generators(domain: str, count: int) -> list[bytes]:
    """`count` independent generators: hash_to_element(domain, i as 4-byte big-endian)."""
    return [hash_to_element(domain, i.to_bytes(4, "big")) for i in range(count)]


def random_scalar() -> int:
    """A uniform non-zero scalar from the OS CSPRNG."""
    return 1 + secrets.randbelow(ORDER - 1)


def _framed(domain: str, parts: tuple[bytes, ...]) -> bytes:
    # Length prefixes make the encoding injective: no two different part lists hash the same input.
    tag = domain.encode()
    chunks = [len(tag).to_bytes(4, "big"), tag]
    for part in parts:
        chunks.append(len(part).to_bytes(4, "big"))
        chunks.append(part)
    return b"".join(chunks)

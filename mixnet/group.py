"""ristretto255, the prime-order group every proof works in, through libsodium (rbcl's bundled copy).

This is the only module that touches the binding (and, for the voters' Ed25519 credentials at the end,
PyNaCl's copy of libsodium). Elements are their canonical 32-byte encodings (`bytes`);
scalars are Python ints in [0, ORDER). Anything that arrives from outside goes through `decode`, which
rejects non-canonical and invalid encodings; internal results are trusted and never re-validated, because
every libsodium call already decodes its inputs.

Products of many powers of PUBLIC values (Σ k_i·P_i in proof checks) go through `multi_mul`, which runs on
one of two backends: "native", the optional C extension mixnet._native (unencoded points, Straus and
Pippenger multi-scalar multiplication, variable-time), or "sodium", the same sum from libsodium's calls.
Both accept exactly the same encodings and give the same result. Everything that touches a secret (mul,
base_mul and the shuffle kernels on a witness or a key) stays on libsodium's constant-time code whatever the
backend: the native module is reached only from `multi_mul`, `multi_mul_rows` and `decode` (validating a
public encoding). MIXSCOPE_BACKEND=native|sodium chooses; the default is native when it was built.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import tempfile
from typing import Any, Callable, Sequence

import nacl.bindings
import nacl.exceptions
import nacl.signing
import rbcl

_sodium = rbcl._sodium  # the ctypes handle: calling it directly skips rbcl's per-call argument checks


def _remove_loaded_copy(path: str) -> None:
    """rbcl writes its bundled libsodium to a new temporary file on every import and never deletes it (2.7 MB per
    process). The loaded library stays mapped once its file is unlinked, so the file can go at once. Only a copy
    in the temporary directory is removed; where unlinking a loaded library fails (Windows), it stays."""
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(tempfile.gettempdir()):
        with contextlib.suppress(OSError):
            os.unlink(path)


_remove_loaded_copy(_sodium._name)

try:
    from mixscope.mixnet import _native  # optional: built at install when a C compiler is present
except ImportError:  # pragma: no cover - depends on the install
    _native = None  # type: ignore[assignment]

BACKENDS = ("native", "sodium")

ORDER = 2**252 + 27742317777372353535851937790883648493  # ℓ, the group order
ELEMENT_BYTES = 32
IDENTITY = bytes(32)
GENERATOR = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
GROUP_NAME = "ristretto255"


class InvalidElement(ValueError):
    """Bytes that are not the canonical encoding of a ristretto255 element."""

    index: int | None = None  # multi_mul: the position of the first bad point


class InvalidScalar(ValueError):
    """A number that is not a scalar in [0, ORDER)."""


def decode(data: bytes | str) -> bytes:
    """Validate an element that came from outside (bytes, or hex text) and return its 32 bytes."""
    data = from_hex(data)
    # Validating a public encoding is public-data work: the native decoder accepts exactly what libsodium does.
    valid = _native.is_valid(data) if _backend == "native" else _sodium_valid(data)
    if not valid:
        raise InvalidElement("not a canonical ristretto255 encoding")
    return data


def _sodium_valid(data: bytes) -> bool:
    # The bundled libsodium ignores the top bit of an encoding; RFC 9496 (and the native decoder) refuse it.
    return data[31] < 0x80 and _sodium.crypto_core_ristretto255_is_valid_point(data) == 1


def from_hex(data: str | bytes) -> bytes:
    """32 bytes from hex (or bytes), NOT checked to be a group element: only for values that a libsodium call
    decodes, and so validates, before anything depends on them (the shuffle verifier's kernels). Skipping the
    separate check keeps that cost off a caller's single thread."""
    if isinstance(data, str):
        raw = hex_bytes(data, 2 * ELEMENT_BYTES)
        if raw is None:
            raise InvalidElement(_hex_fault("element", data))
        data = raw
    if not isinstance(data, (bytes, bytearray)) or len(data) != ELEMENT_BYTES:
        raise InvalidElement("element must be 32 bytes")
    return bytes(data)


def from_hex_list(values: list[Any]) -> list[bytes]:
    """[from_hex(v) for v in values], the same result and the same error for the first bad value, for a long list
    of hex texts at a fraction of the cost: one check of the joined text and one bytes.fromhex."""
    joined = _joined_hex(values)
    if joined is None:
        return [from_hex(v) for v in values]
    return [joined[i:i + ELEMENT_BYTES] for i in range(0, len(joined), ELEMENT_BYTES)]


def decode_scalar_list(values: list[Any]) -> list[int]:
    """[decode_scalar(v) for v in values] for hex texts (another value raises as that does), batched likewise."""
    joined = _joined_hex(values)
    if joined is None:
        return [decode_scalar(v) for v in values]
    scalars = [int.from_bytes(joined[i:i + 32], "little") for i in range(0, len(joined), 32)]
    if max(scalars, default=0) >= ORDER:
        raise InvalidScalar("scalar out of range")
    return scalars


def _joined_hex(values: list[Any]) -> bytes | None:
    """The bytes of a list of 64-digit lowercase hex texts, joined; None when any value is not one."""
    # (type and length sets: one pass each at C speed, where a generator costs the verifier's one thread)
    if set(map(type, values)) - {str} or set(map(len, values)) - {2 * ELEMENT_BYTES}:
        return None
    text = "".join(values)
    try:
        joined = bytes.fromhex(text)
    except ValueError:
        return None
    # fromhex also takes capitals and spaces; only the record's byte form gives the same text back
    return joined if joined.hex() == text else None


def decode_scalar(value: int | str) -> int:
    """Validate a scalar that came from outside (int, or 64-char little-endian hex text)."""
    if isinstance(value, str):
        raw = hex_bytes(value, 64)
        if raw is None:
            raise InvalidScalar(_hex_fault("scalar", value))
        value = int.from_bytes(raw, "little")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < ORDER:
        raise InvalidScalar("scalar out of range")
    return value


_HEX_DIGITS = frozenset("0123456789abcdef")


def is_hex(value: object, length: int) -> bool:
    """The record's one byte form: exactly `length` lowercase hex digits, nothing else (no spaces, no 0x)."""
    if length % 2:
        return isinstance(value, str) and len(value) == length and _HEX_DIGITS.issuperset(value)
    return hex_bytes(value, length) is not None


def hex_bytes(value: object, length: int) -> bytes | None:
    """The bytes `value` spells when it is exactly `length` (even) lowercase hex digits, else None. The round
    trip is the check: `bytes.fromhex` refuses anything but hex digits and spaces, and only a string of
    lowercase digits alone comes back from `.hex()` unchanged (C speed, where a digit-set test is not)."""
    if not isinstance(value, str) or len(value) != length:
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if raw.hex() == value else None


def _hex_fault(what: str, text: str) -> str:
    if not _HEX_DIGITS.issuperset(text):
        return f"{what} is not hex (64 lowercase hex characters, no spaces)"
    return f"{what} must be 32 bytes (64 lowercase hex characters)"


def scalar_hex(k: int) -> str:
    return (k % ORDER).to_bytes(32, "little").hex()


def _scalar_bytes(k: int) -> bytes:
    return (k % ORDER).to_bytes(32, "little")


# Buffer-level calls (the shuffle kernels' hot loops reuse their output buffers). libsodium returns -1 both for
# an input that is no element and, in scalar multiplication, for an identity result (k ≡ 0 or P the identity):
# the first raises InvalidElement, the second is the identity, as docs/verifier.md §1 defines k·P.

Buffer = ctypes.Array[ctypes.c_char]  # a reused 32-byte output buffer (ctypes.create_string_buffer)
PointBytes = bytes | Buffer  # an encoded element, as bytes or in such a buffer

def mul_into(out: Buffer, k: int, point: PointBytes) -> None:
    """out = k·point, k in [0, ORDER); raises InvalidElement if `point` is no element (never a silent identity)."""
    if _sodium.crypto_scalarmult_ristretto255(out, k.to_bytes(32, "little"), point) != 0:
        if not _sodium.crypto_core_ristretto255_is_valid_point(point):
            raise InvalidElement("not a ristretto255 element")
        ctypes.memset(out, 0, 32)


def base_into(out: Buffer, k: int) -> None:
    """out = k·G, k in [0, ORDER)."""
    if _sodium.crypto_scalarmult_ristretto255_base(out, k.to_bytes(32, "little")) != 0:
        ctypes.memset(out, 0, 32)  # -1 only for k ≡ 0: the identity


def add_into(out: Buffer, p: PointBytes, q: PointBytes) -> None:
    if _sodium.crypto_core_ristretto255_add(out, p, q) != 0:
        raise InvalidElement("not a ristretto255 element")


scalar_bytes = _scalar_bytes  # a scalar's 32-byte little-endian encoding


def mul(k: int, element: bytes) -> bytes:
    """k·P for a variable base P; InvalidElement if P is no element."""
    out = ctypes.create_string_buffer(32)
    mul_into(out, k % ORDER, element)
    return out.raw


def base_mul(k: int) -> bytes:
    """k·G for the standard generator."""
    out = ctypes.create_string_buffer(32)
    base_into(out, k % ORDER)
    return out.raw


def add(a: bytes, b: bytes) -> bytes:
    out = ctypes.create_string_buffer(32)
    add_into(out, a, b)
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
    data64 = bytes(data64)
    if len(data64) != 64:
        raise ValueError("from_uniform needs 64 bytes")
    out = ctypes.create_string_buffer(32)
    if _sodium.crypto_core_ristretto255_from_hash(out, data64) != 0:
        raise InvalidElement("libsodium refused to map the bytes to an element")
    return out.raw


def random_scalar() -> int:
    """A uniform non-zero scalar from the OS CSPRNG."""
    return 1 + secrets.randbelow(ORDER - 1)


# --- products of many powers of public values ----------------------------------------------------------

_MULTI_MUL_MIN_PART = 4096  # terms per map_fn job: below this, shipping a part costs more than it saves
_MULTI_MUL_PARTS = 4  # few parts: Pippenger's cost per term grows as a product is split


def native_available() -> bool:
    return _native is not None


def _initial_backend() -> str:
    wanted = os.environ.get("MIXSCOPE_BACKEND", "").strip().lower()
    if wanted not in ("", *BACKENDS):
        raise ValueError(f"MIXSCOPE_BACKEND must be one of {', '.join(BACKENDS)}, not {wanted!r}")
    if wanted == "sodium" or _native is None:
        return "sodium"  # native asked for but not built: libsodium, and backend() says so
    return "native"


_backend = _initial_backend()


def backend() -> str:
    """The backend `multi_mul` runs on: "native" or "sodium"."""
    return _backend


def use_backend(name: str) -> None:
    """Switch `multi_mul`'s backend in this process (pool workers get the name with each job)."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {name!r}")
    if name == "native" and _native is None:
        raise ValueError("the native backend is not built in this install (no C compiler at install time?)")
    _backend = name


def multi_mul(scalars: Sequence[int], points: Sequence[bytes], map_fn: Callable[..., Any] | None = None) -> bytes:
    """Σ k_i·P_i for PUBLIC scalars and points only (proof checks): the native backend is variable-time.

    Every point is decoded and validated (InvalidElement, with `.index` the first bad position, exactly as
    `decode` would refuse it); scalars are any ints, taken mod ORDER. map_fn, if given, spreads long
    products over a pool in parts."""
    if len(scalars) != len(points):
        raise ValueError("multi_mul needs as many scalars as points")
    n = len(points)
    if map_fn is not None and map_fn is not map and n >= 2 * _MULTI_MUL_MIN_PART:
        size = max(_MULTI_MUL_MIN_PART, -(-n // _MULTI_MUL_PARTS))
        jobs = [(_backend, lo, scalars[lo:lo + size], points[lo:lo + size]) for lo in range(0, n, size)]
        total = IDENTITY
        for part in map_fn(multi_mul_part, jobs):
            total = add(total, part)
        return total
    return multi_mul_part((_backend, 0, scalars, points))


def multi_mul_rows(scalars: Sequence[int], rows: Sequence[Sequence[bytes]]) -> list[bytes]:
    """[Σ_j k_j·P_ij for every row i]: one product of powers per row with the SAME public scalars (the
    combination b − Σ λ_j·D_j of decryption shares). Points are validated as in multi_mul (`.index` counts
    across the rows). The native backend encodes all the rows with one field inversion."""
    width = len(scalars)
    if any(len(row) != width for row in rows):
        raise ValueError("every row needs one point per scalar")
    if _backend == "native" and _native is not None and rows:
        if all(isinstance(p, bytes) and len(p) == ELEMENT_BYTES for row in rows for p in row):
            flat = b"".join(p for row in rows for p in row)  # (a malformed point: the sodium path names it)
            halves = b"".join((k * _HALF % ORDER).to_bytes(32, "little") for k in scalars)
            try:
                raw = _native.double_rows(halves, flat)
            except _native.InvalidPoint as exc:
                raise _invalid(exc.args[1]) from None
            return [raw[i : i + 32] for i in range(0, len(raw), 32)]
    return [_sodium_multi_mul(i * width, scalars, row) for i, row in enumerate(rows)]


_HALF = pow(2, -1, ORDER)  # the native rows are computed halved, then doubled as they are encoded


def multi_mul_part(job: tuple[str, int, Sequence[int], Sequence[bytes]]) -> bytes:
    """Pool job: (backend, offset of the first term, scalars, points) -> their Σ k_i·P_i."""
    name, offset, scalars, points = job
    if name == "native" and _native is not None:
        return _native_multi_mul(offset, scalars, points)
    return _sodium_multi_mul(offset, scalars, points)


def _invalid(index: int) -> InvalidElement:
    exc = InvalidElement("not a canonical ristretto255 encoding")
    exc.index = index
    return exc


_NATIVE_MAX_TERMS = 1 << 18  # per call: bounds the extension's working memory (about 300 bytes a term)


def _native_multi_mul(offset: int, scalars: Sequence[int], points: Sequence[bytes]) -> bytes:
    if len(points) > _NATIVE_MAX_TERMS:
        total = IDENTITY
        for lo in range(0, len(points), _NATIVE_MAX_TERMS):
            hi = lo + _NATIVE_MAX_TERMS
            total = add(total, _native_multi_mul(offset + lo, scalars[lo:hi], points[lo:hi]))
        return total
    order = ORDER
    try:
        return _native.msm(b"".join([(k % order).to_bytes(32, "little") for k in scalars]), b"".join(points))
    except _native.InvalidPoint as exc:
        raise _invalid(offset + exc.args[1]) from None
    except (TypeError, ValueError):
        # a point of the wrong type or length: find it the way the sodium path would
        for i, p in enumerate(points):
            if not isinstance(p, (bytes, bytearray)) or len(p) != ELEMENT_BYTES:
                raise _invalid(offset + i) from None
        raise


def _sodium_multi_mul(offset: int, scalars: Sequence[int], points: Sequence[bytes]) -> bytes:
    """The same sum from libsodium calls, in order, so the first invalid point is the one reported."""
    order, minus_one = ORDER, ORDER - 1
    acc = ctypes.create_string_buffer(IDENTITY, 32)
    term = ctypes.create_string_buffer(32)
    for i, (k, p) in enumerate(zip(scalars, points)):
        if not isinstance(p, (bytes, bytearray)) or len(p) != ELEMENT_BYTES or p[31] >= 0x80:
            raise _invalid(offset + i)  # (libsodium would read a set top bit as if it were clear)
        k %= order
        if k == 1 or k == minus_one:  # ±P: one addition, which also validates P
            step = _sodium.crypto_core_ristretto255_add if k == 1 else _sodium.crypto_core_ristretto255_sub
            if step(acc, acc, bytes(p)) != 0:
                raise _invalid(offset + i)
            continue
        if p == GENERATOR:
            _sodium.crypto_scalarmult_ristretto255_base(term, k.to_bytes(32, "little"))  # -1 only for k = 0
        elif k == 0 or _sodium.crypto_scalarmult_ristretto255(term, k.to_bytes(32, "little"), bytes(p)) != 0:
            # -1: an undecodable P, or the identity as result
            if not _sodium_valid(bytes(p)):
                raise _invalid(offset + i)
            continue
        _sodium.crypto_core_ristretto255_add(acc, acc, term)
    return acc.raw


# --- Ed25519 (RFC 8032), the nodes' signatures: the record's verifier checks them through these two --------

SIGNATURE_BYTES = 64
SIGNING_KEY_BYTES = 32


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True iff `signature` is a valid Ed25519 signature of `message` under `public_key` (32 bytes)."""
    if len(public_key) != SIGNING_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.signing.VerifyKey(bytes(public_key)).verify(bytes(message), bytes(signature))
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        return False
    return True


def ed25519_sign(seed: bytes, message: bytes) -> tuple[bytes, bytes]:
    """(public key, signature) of `message` under the Ed25519 key with this 32-byte seed."""
    key = nacl.signing.SigningKey(bytes(seed))
    return key.verify_key.encode(), key.sign(bytes(message)).signature


# --- Ed25519: the voters' credentials (mixnet/credentials.py) ----------------------------------------------

SIGNING_SEED_BYTES = 32


class InvalidSignature(ValueError):
    """An Ed25519 signature that does not verify, or a public key that is no valid Ed25519 point."""


def signing_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """(32-byte Ed25519 public key, 64-byte secret key) for a 32-byte seed (RFC 8032 key generation)."""
    if len(seed) != SIGNING_SEED_BYTES:
        raise ValueError("an Ed25519 seed is 32 bytes")
    return nacl.bindings.crypto_sign_seed_keypair(bytes(seed))


def sign(secret_key: bytes, message: bytes) -> bytes:
    """The 64-byte Ed25519 signature (RFC 8032, deterministic) of `message` under a signing_keypair secret key."""
    return nacl.bindings.crypto_sign(bytes(message), secret_key)[:SIGNATURE_BYTES]


def is_signing_key(public_key: bytes) -> bool:
    """True for a canonical encoding of an Ed25519 point of large order (libsodium's own check)."""
    return (isinstance(public_key, (bytes, bytearray)) and len(public_key) == 32
            and bool(nacl.bindings.crypto_core_ed25519_is_valid_point(bytes(public_key))))


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise InvalidSignature unless `signature` is a valid Ed25519 signature of `message` by `public_key`.
    libsodium's check refuses a non-canonical S (≥ ℓ), a small-order or non-canonical R, and a small-order or
    non-canonical public key, so no separate key check is needed here."""
    if len(public_key) != 32 or len(signature) != SIGNATURE_BYTES:
        raise InvalidSignature("a credential is 32 bytes and a signature 64")
    try:
        nacl.bindings.crypto_sign_open(bytes(signature) + bytes(message), bytes(public_key))
    except nacl.exceptions.BadSignatureError:
        raise InvalidSignature("the signature does not verify") from None

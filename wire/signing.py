"""Signed node messages (docs/protocol.md, "Node identity and signatures"). Pure: PyNaCl, no I/O.

A node signs the whole message object with its Ed25519 key: the signature covers
b"mixscope-node-message/1\\x00" + canonical_json(message with "signed" = {"key", "seq"}) (wire/canonical.py: the
form the board stores), so no field, not even the key or the sequence number, can be changed without breaking
it. `seq` rises with every message (time.time_ns()); `ReplayGuard` is the receiving side's check that it does.

The one exception is `join_token` (UNSIGNED_FIELDS): a secret that travels next to the signed body, not in
it, so the server can store a node's signed hello on the board (without the token) and it still verifies.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import nacl.exceptions
import nacl.signing

from mixscope.wire.canonical import canonical_json

SIGNING_DOMAIN = b"mixscope-node-message/1\x00"
KEY_HEX_CHARS = 64
SIG_HEX_CHARS = 128
UNSIGNED_FIELDS = frozenset({"signed", "join_token"})  # outside the signature (the token is a secret at rest)


class SignatureError(ValueError):
    """A message that is unsigned, malformed, badly signed or replayed. `reason` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def signed_body(message: dict[str, Any]) -> dict[str, Any]:
    """The part of a message the signature covers (and the board stores): everything but UNSIGNED_FIELDS."""
    return {k: v for k, v in message.items() if k not in UNSIGNED_FIELDS}


def _signed_bytes(message: dict[str, Any], key_hex: str, seq: int) -> bytes:
    body = signed_body(message)
    body["signed"] = {"key": key_hex, "seq": seq}
    return SIGNING_DOMAIN + canonical_json(body).encode("utf-8")


def public_key_hex(signing_key: nacl.signing.SigningKey) -> str:
    return signing_key.verify_key.encode().hex()


def sign(message: dict[str, Any], signing_key: nacl.signing.SigningKey, seq: int) -> dict[str, Any]:
    """A copy of `message` with a "signed" field {key, seq, sig} added (any old one replaced); a `join_token`
    is kept in the copy but not signed."""
    if type(seq) is not int or seq < 0:
        raise ValueError("seq must be a non-negative integer")
    body = {k: v for k, v in message.items() if k != "signed"}
    key_hex = public_key_hex(signing_key)
    signature = signing_key.sign(_signed_bytes(body, key_hex, seq)).signature
    body["signed"] = {"key": key_hex, "seq": seq, "sig": signature.hex()}
    return body


def sign_encoded(message: dict[str, Any], signing_key: nacl.signing.SigningKey, seq: int) -> tuple[dict[str, Any], str]:
    """sign(message, signing_key, seq) and a frame text for it made from the text the signature covers: that
    canonical text with `sig` added to its `signed` object, which is the canonical JSON of the signed message
    (keys key < seq < sig stay sorted). A megabyte answer is then encoded once, not once to sign and once to
    send. A message with a join token (not signed, but sent) is encoded the usual way."""
    if type(seq) is not int or seq < 0:
        raise ValueError("seq must be a non-negative integer")
    signed = {k: v for k, v in message.items() if k != "signed"}
    key_hex = public_key_hex(signing_key)
    text = canonical_json({**signed_body(signed), "signed": {"key": key_hex, "seq": seq}})  # = _signed_bytes
    signature = signing_key.sign(SIGNING_DOMAIN + text.encode("utf-8")).signature.hex()
    signed["signed"] = {"key": key_hex, "seq": seq, "sig": signature}
    marker = f'"signed":{{"key":"{key_hex}","seq":{seq}}}'
    if "join_token" in signed or text.count(marker) != 1:
        return signed, json.dumps(signed, separators=(",", ":"))
    return signed, text.replace(marker, f'{marker[:-1]},"sig":"{signature}"}}')


def signer(message: dict[str, Any]) -> tuple[str, int]:
    """The (key hex, seq) a message claims, checked for shape only (no signature check)."""
    signed = message.get("signed")
    if not isinstance(signed, dict):
        raise SignatureError("message is not signed (no 'signed' object)")
    key, seq, sig = signed.get("key"), signed.get("seq"), signed.get("sig")
    if not isinstance(key, str) or not _is_hex(key, KEY_HEX_CHARS):
        raise SignatureError("signed.key must be 64 lowercase hex digits")
    if type(seq) is not int or seq < 0:
        raise SignatureError("signed.seq must be a non-negative integer")
    if not _is_hex(sig, SIG_HEX_CHARS):
        raise SignatureError("signed.sig must be 128 lowercase hex digits")
    if set(signed) != {"key", "seq", "sig"}:
        raise SignatureError("signed may only hold key, seq and sig")
    return key, seq


def verify(message: dict[str, Any], covered: str | None = None) -> str:
    """Check the message's signature; return the signer's public key hex or raise SignatureError. `covered`: the
    canonical text the signature covers (canonical_json of the signed body with "signed" = {key, seq}), when the
    caller made it already (server/signed_text.py, from the members of the body it logs). It must be made from
    `message` itself: the signature is checked over `covered`, not over the message."""
    key_hex, seq = signer(message)
    try:
        verify_key = nacl.signing.VerifyKey(bytes.fromhex(key_hex))
        data = _signed_bytes(message, key_hex, seq) if covered is None else SIGNING_DOMAIN + covered.encode("utf-8")
        verify_key.verify(data, bytes.fromhex(message["signed"]["sig"]))
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        raise SignatureError("bad signature") from None
    except (TypeError, ValueError):  # no canonical form (NaN, a lone surrogate, ...)
        raise SignatureError("message cannot be canonicalised for signing") from None
    return key_hex


def verify_signed_by(message: dict[str, Any], key_hex: str, covered: str | None = None) -> None:
    """Check the signature and that `key_hex` (the key its sender joined with) made it; SignatureError if not.
    `covered`: as for `verify`."""
    if verify(message, covered) != key_hex:
        raise SignatureError("signed by another key than the one this node joined with")


class ReplayGuard:
    """Remembers the last accepted seq per key; `check_and_record` refuses one that does not rise.

    In memory, thread-safe. The server's durable guard is the board's signed-message log; this one is for
    a single connection or process (nodes use it on server messages they choose to sign in future).
    """

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()

    def check_and_record(self, key_hex: str, seq: int) -> None:
        with self._lock:
            last = self._last.get(key_hex)
            if last is not None and seq <= last:
                raise SignatureError(f"replayed or stale seq {seq} (last accepted {last})")
            self._last[key_hex] = seq

    def last(self, key_hex: str) -> int | None:
        return self._last.get(key_hex)


def _is_hex(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and not value.strip("0123456789abcdef")

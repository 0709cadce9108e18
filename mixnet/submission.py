"""Signed submissions: what a node contributes to an election, as the record carries it (docs/verifier.md §6).

A node signs each message it sends with its Ed25519 key (docs/protocol.md, "Node identity and signatures"):
the signature covers `NODE_MESSAGE_DOMAIN ‖ canonical(message)`, where the message's `signed` object holds
only `key` and `seq` (not `sig`) and a `join_token` is left out. The record carries those messages exactly as
signed, so anyone can re-check who contributed what. `canonical` is RFC 8785 (JSON Canonicalization Scheme)
restricted to objects (ASCII keys), arrays, strings and integers: keys sorted, no whitespace, UTF-8, integers
in plain decimal digits however large (RFC 8785 would round beyond 2^53: `seq` is larger); anything else
(floats, booleans, null) has no canonical form here and is refused.

Pure: the Ed25519 check goes through mixnet.group, the only module that touches libsodium.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from mixscope.mixnet import group

NODE_MESSAGE_DOMAIN = b"mixscope-node-message/1\x00"
KEY_HEX, SIG_HEX = 64, 128
UNSIGNED_FIELDS = ("signed", "join_token")


class SubmissionError(ValueError):
    """A signed message that is malformed, outside the canonical subset, or whose signature does not hold."""


def check_canonical_subset(value: Any, where: str = "message") -> None:
    """Raise SubmissionError unless `value` is built from objects (string keys), arrays, strings and integers."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool)):
            continue
        if isinstance(item, list):
            if _flat(item):
                continue  # nothing in it to refuse: the same verdict as item by item, at C speed
            stack.extend((v, path) for v in item)
        elif isinstance(item, dict):
            for k, v in item.items():
                if not isinstance(k, str) or not k.isascii():
                    # ASCII keys: sorting by code point (here) and by UTF-16 unit (RFC 8785) then agree
                    raise SubmissionError(f"{path}: object keys must be ASCII strings")
                stack.append((v, f"{path}.{k}"))
        else:
            raise SubmissionError(f"{path}: {type(item).__name__} values have no canonical form (strings and "
                                  "integers only)")


_PLAIN_TYPES = frozenset({str, int})  # exactly these: bool is an int subclass, and not allowed


def _flat(items: list[Any]) -> bool:
    """True when `items` holds only strings and integers, or only lists of them (a list of ciphertexts)."""
    kinds = set(map(type, items))
    if kinds <= _PLAIN_TYPES:
        return True
    return kinds == {list} and set(map(type, itertools.chain.from_iterable(items))) <= _PLAIN_TYPES


def canonical(value: Any) -> bytes:
    """The one byte string a JSON value signs as (see the module docstring)."""
    check_canonical_subset(value)
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise SubmissionError("a string is not valid Unicode (lone surrogate)") from None


def signed_bytes(message: dict[str, Any], key_hex: str, seq: int) -> bytes:
    body = {k: v for k, v in message.items() if k not in UNSIGNED_FIELDS}
    body["signed"] = {"key": key_hex, "seq": seq}
    return NODE_MESSAGE_DOMAIN + canonical(body)


def signer(message: Any) -> str:
    """The key a message claims, after checking the shape of its `signed` object (not the signature)."""
    if not isinstance(message, dict):
        raise SubmissionError("a signed submission must be an object")
    signed = message.get("signed")
    if not isinstance(signed, dict) or set(signed) != {"key", "seq", "sig"}:
        raise SubmissionError("signed must be an object with exactly key, seq and sig")
    if not group.is_hex(signed["key"], KEY_HEX):
        raise SubmissionError("signed.key must be 64 lowercase hex characters")
    if type(signed["seq"]) is not int or signed["seq"] < 0:
        raise SubmissionError("signed.seq must be a non-negative integer")
    if not group.is_hex(signed["sig"], SIG_HEX):
        raise SubmissionError("signed.sig must be 128 lowercase hex characters")
    key: str = signed["key"]
    return key


def verify(message: Any) -> str:
    """Check a node's signature on `message`; return the signer's key (hex) or raise SubmissionError."""
    key = signer(message)
    if "join_token" in message:
        raise SubmissionError("a published submission must not carry a join token")
    data = signed_bytes(message, key, message["signed"]["seq"])
    if not group.ed25519_verify(bytes.fromhex(key), data, bytes.fromhex(message["signed"]["sig"])):
        raise SubmissionError("signature does not verify")
    return key


def sign(message: dict[str, Any], seed: bytes, seq: int) -> dict[str, Any]:
    """`message` signed with the Ed25519 key of this seed (in-process elections: mixnet/simulate.py)."""
    body = {k: v for k, v in message.items() if k not in UNSIGNED_FIELDS}
    public, _ = group.ed25519_sign(seed, b"")
    _, sig = group.ed25519_sign(seed, signed_bytes(body, public.hex(), seq))
    body["signed"] = {"key": public.hex(), "seq": seq, "sig": sig.hex()}
    return body

"""Canonical JSON text (the one form: wire/canonical.py) and content hashes: what the board stores and hashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mixscope.server.board.errors import BoardInputError
from mixscope.wire.canonical import canonical_json


def _json_text(value: Any) -> str:
    """canonical_json(value) (wire/canonical.py), with the board's error for a value that has no JSON form."""
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise BoardInputError(f"not JSON-serialisable: {exc}") from None


HASH_SPAN = 500  # list items canonicalised per json.dumps call by content_hash


def content_hash(value: Any) -> str:
    """SHA-256 (hex) of canonical_json(value): ballot tracking hashes, mix stage input/output hashes.

    A long list is canonicalised a span of items at a time (the same text: "[" + items joined by "," + "]"), so
    hashing 10,000 ciphertexts never holds the GIL, which the panel's GUI thread shares, in one long call."""
    if not isinstance(value, list) or len(value) <= HASH_SPAN:
        return hashlib.sha256(_json_text(value).encode("utf-8")).hexdigest()
    digest = hashlib.sha256(b"[")
    for start in range(0, len(value), HASH_SPAN):
        if start:
            digest.update(b",")
        digest.update(_json_text(value[start:start + HASH_SPAN])[1:-1].encode("utf-8"))
    digest.update(b"]")
    return digest.hexdigest()


def text_hash(text: str) -> str:
    """SHA-256 (hex) of a text's UTF-8, a slice at a time: no UTF-8 copy of a whole stage's outputs at once."""
    digest = hashlib.sha256()
    for start in range(0, len(text), _TEXT_HASH_SLICE):
        digest.update(text[start:start + _TEXT_HASH_SLICE].encode("utf-8"))
    return digest.hexdigest()


_TEXT_HASH_SLICE = 1 << 20


class CanonicalJSON(str):
    """A JSON text already in canonical_json's form (made by a pool worker, server/signed_text.py). The board
    stores and hashes it as it is: it is never parsed or serialised again in the server process."""


def _as_json_value(value: Any, what: str) -> Any:
    """Accept a JSON-able value or a JSON text of one; return the value."""
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise BoardInputError(f"{what} is not valid JSON: {exc}") from None
    return value


def _json_and_text(value: Any, what: str) -> tuple[Any, str]:
    """(value, canonical text) of a JSON-able value or a JSON text of one; a CanonicalJSON is (itself, itself)."""
    if isinstance(value, CanonicalJSON):
        return value, value  # stored as it is: no copy of megabytes
    value = _as_json_value(value, what)
    return value, _json_text(value)

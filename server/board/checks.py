"""Argument checks shared by the stores: ids, texts, integers, hex digests, nonces, ballots."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from mixscope.server.board.canonical import _as_json_value, _json_text
from mixscope.server.board.errors import BoardInputError

NODE_ROLES = frozenset({"mixer", "trustee", "voter", "observer"})

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_HEX32 = re.compile(r"[0-9a-f]{64}")  # an Ed25519 / ristretto255 public key, a SHA-256 digest
_HEX64 = re.compile(r"[0-9a-f]{128}")  # an Ed25519 signature


def _ballot_entry(voter_id: Any, ballot: Any) -> tuple[str, str, str]:
    """(voter id, canonical ballot text, tracking hash) after the input checks add_ballot(s) share."""
    _check_text(voter_id, "voter id", 256)
    ballot = _as_json_value(ballot, "ballot")
    if not isinstance(ballot, dict):
        raise BoardInputError("a ballot must be a JSON object")
    text = _json_text(ballot)
    return voter_id, text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BoardInputError(f"{what} must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def _check_text(value: Any, what: str, max_len: int = 1000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise BoardInputError(f"{what} must be a non-empty string of at most {max_len} characters")
    return value


def _check_int(value: Any, what: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BoardInputError(f"{what} must be an integer >= {minimum}")
    return value


def _check_hex(value: Any, pattern: re.Pattern[str], what: str) -> str:
    """Hex text of the length `pattern` fixes, returned lower-cased (so one key has one spelling)."""
    if isinstance(value, str):
        value = value.lower()
        if pattern.fullmatch(value):
            return value
    digits = 64 if pattern is _HEX32 else 128
    raise BoardInputError(f"{what} must be {digits} hex digits")


def _check_nonce(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise BoardInputError("nonce must be a string of 1-128 characters or an integer")
    return value

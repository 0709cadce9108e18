"""Canonical JSON: the one text form of a JSON value that signatures cover and the board stores and hashes.

Sorted keys, no whitespace, UTF-8 (non-ASCII characters as they are), NaN and ±Infinity refused (they are not
JSON). A node signs `canonical_json(body)` (wire/signing.py) and the board stores that same text, so what was
signed and what is kept are one form.

The record verifier's `mixnet.submission.canonical` is this form restricted to the values RFC 8785 and Python's
encoder write alike (objects with ASCII keys, arrays, strings, integers): on those it gives the same bytes
(tests/test_signing.py pins it). It stays in mixnet because the verifier must not depend on anything above it.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    """The canonical text of `value`; ValueError or TypeError when it has none (NaN, a set, a bytes value, ...)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

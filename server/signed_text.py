"""Checking a long signed node message in the runner's process pool, from the text it arrived as.

A mixer's mix.response is megabytes of JSON. In the server process, canonicalising it to check its signature,
serialising its body again for the board's signed-message log and its outputs and proof again for the mix stage
would each hold the GIL, which the panel's GUI thread shares, for tens of ms. So the hub hands the reassembled
text (a str: pickling it is one copy) to `check`, which parses it, checks the signature with wire/signing.py
and returns the canonical body the board logs, with where in it the canonical JSON of each field the board stores
on its own lies (the stage's outputs and proof are slices of the body: they are not sent back twice). The
server still parses the text once for the coordinator, and serialises none of it.

Pool children import this module: no Tornado here, and no board file is opened.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mixscope.server import board
from mixscope.wire import chunks, protocol, signing
from mixscope.wire.canonical import canonical_json

POOL_ABOVE = 256 * 1024  # characters: a reassembled text longer than this is checked in the pool
STORED_FIELDS = {"mix.response": ("outputs", "proof")}  # fields the board stores on their own, as canonical JSON


class Checked(NamedTuple):
    """What `check` made of one text. `key` None: nothing was checked (not a signed message of a joined node:
    the hub's usual path handles it). Otherwise the signature was checked against `key`: `signature_error` is
    the SignatureError reason, or None when it holds; then `body` is the canonical signed body to log and
    `spans` the (start, end) in `body` of the canonical JSON of each of the type's STORED_FIELDS (either left
    out when it cannot be made: the board then refuses the value itself, as it would have)."""

    key: str | None
    signature_error: str | None = None
    body: str | None = None
    spans: dict[str, tuple[int, int]] = {}


def check(text: str, key: str | None) -> Checked:
    """Pool job: parse `text` as a node message (ProtocolError as protocol.parse_message raises it) and, if it is
    an election message with a signature and its sender joined with `key`, check that `key` signed it."""
    message = protocol.parse_message(text, max_bytes=chunks.MAX_TRANSFER_BYTES)
    kind = message["type"]
    if key is None or kind not in protocol.SIGNED_NODE_TYPES or "sig" not in message["signed"]:
        return Checked(None)
    body = signing.signed_body(message)
    try:
        members = {k: f"{canonical_json(k)}:{canonical_json(v)}" for k, v in body.items()}  # each encoded once
        key_hex, seq = signing.signer(message)
        members["signed"] = '"signed":' + canonical_json({"key": key_hex, "seq": seq})
    except (TypeError, ValueError):  # no canonical form or a malformed `signed`: verify says which, as it would
        members = None
    try:
        # the text the signature covers: canonical_json of the body with "signed" = {key, seq}, member by member
        covered = None if members is None else "{" + ",".join(members[k] for k in sorted(members)) + "}"
        signing.verify_signed_by(message, key, covered)
    except signing.SignatureError as exc:
        return Checked(key, exc.reason)
    if members is None:
        return Checked(key, None, None, {})
    del members["signed"]  # the board logs the body without it
    body_text, spans = _joined(members, STORED_FIELDS.get(kind, ()))
    return Checked(key, None, body_text, spans)


Spans = dict[str, tuple[int, int]]


def _joined(members: dict[str, str], fields: tuple[str, ...]) -> tuple[str, Spans]:
    """The canonical JSON of an object from its members' texts (`"key":value`: "{", the members in key order
    joined by ",", "}"), and where each of `fields`' value texts lies in it."""
    spans: Spans = {}
    position = 1
    for i, key in enumerate(sorted(members)):
        member = members[key]
        position += 1 if i else 0
        if key in fields:
            start = position + len(canonical_json(key)) + 1
            spans[key] = (start, position + len(member))
        position += len(member)
    return "{" + ",".join(members[k] for k in sorted(members)) + "}", spans


class Received(dict):
    """A signed node message parsed from a long text, with the canonical body `check` made (as logged) and where
    its STORED_FIELDS lie in it, so the board stores those slices instead of serialising the values again."""

    def __init__(self, message: dict[str, Any], body: str, spans: dict[str, tuple[int, int]]):
        super().__init__(message)
        self.body, self.spans = body, spans

    def encoded(self) -> protocol.RawJSON | None:
        """The message's canonical text with its signature: what the node signed and sent, made from the logged
        body (which leaves the `signed` object out) without encoding the message again, for passing it on (a
        forwarded mix stage). None for a message with a join token (never passed on) or without a member that
        sorts before `signed`."""
        if "join_token" in self or not isinstance(self.get("signed"), dict):
            return None
        keys = sorted(k for k in self if k != "signed")
        later = [k for k in keys if k > "signed"]  # small fields (stage, type): encoded again to find the place
        if len(later) == len(keys):
            return None
        tail = "".join(f",{canonical_json(k)}:{canonical_json(self[k])}" for k in later) + "}"
        if not self.body.endswith(tail):
            return None
        at = len(self.body) - len(tail)
        return protocol.RawJSON(f'{self.body[:at]},"signed":{canonical_json(self["signed"])}{self.body[at:]}')


class EncodedList(list):
    """A list field of a Received message with its canonical text (`text`), which a message that passes the list
    on (the next mix request) carries as it is."""

    def __init__(self, items: list[Any], text: protocol.RawJSON):
        super().__init__(items)
        self.text = text


def with_text(message: dict[str, Any], field: str) -> Any:
    """`message[field]`, as an EncodedList when it is a list whose canonical text the pool made."""
    stored = stored_form(message, field)
    if isinstance(stored, board.CanonicalJSON) and isinstance(message[field], list):
        return EncodedList(message[field], protocol.RawJSON(stored))
    return message[field]


def stored_form(message: dict[str, Any], field: str) -> Any:
    """What to give the board for `message[field]`: its canonical text when the pool made one, else the value."""
    if not isinstance(message, Received) or field not in message.spans:
        return message[field]
    start, end = message.spans[field]
    return board.CanonicalJSON(message.body[start:end])

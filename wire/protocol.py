"""The wire protocol between the server and its nodes: JSON text frames, each an object with a `type`.

Pure Python (no Tornado, no Flask): the client imports this module too, and the import-linter contract
forbids the client reaching Tornado or Flask even indirectly.

Node -> server: hello {name, role}, roll_call.reply {request_id, ...}, error {reason}, and the election messages of
docs/protocol.md (progress, keygen.*, mix.response, decrypt.response), signed (wire/signing.py).
Server -> node: welcome {client_id}, roll_call {request_id}, error {reason, detail}, keygen.request,
keygen.shares, mix.request, decrypt.request. Either side may send a long message as `chunk` frames
(wire/chunks.py); the reassembled text is parsed again as one message.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

# Largest frame the protocol accepts. Tornado's own limit (TRANSPORT_MAX_BYTES) sits above it, so a frame
# between the two gets a typed `error` reply and the connection stays open; only a frame beyond the
# transport limit is closed by Tornado with code 1009 ("message too big").
MAX_MESSAGE_BYTES = 1 << 20
TRANSPORT_MAX_BYTES = 4 << 20

ROLES = ("mixer", "trustee", "voter", "observer")
# How a mixer may spoil its stage in the lab (client/mixer.py says what each does and how the stage is judged):
# its own `--cheat`, or the server's `lab_cheat` in a mix.request, obeyed only by a node run with --lab-cheats.
MIXER_CHEATS = ("drop", "replace", "swap", "wrong_stage", "identity", "malformed", "silent")
# What each does, and the class its stage is rejected with (mixnet/stages.py): the panel shows these.
MIXER_CHEAT_EFFECTS = {
    "drop": "one output removed: malformed",
    "replace": "one output replaced by a fresh encryption: proof_fails",
    "swap": "two outputs exchanged after proving: proof_fails",
    "wrong_stage": "an honest stage labelled with the next stage's index: malformed",
    "identity": "one output is its input unchanged: not_rerandomised",
    "malformed": "a signed reply that is no stage at all: malformed",
    "silent": "no reply (the stage times out): no_answer",
}
MAX_NAME_CHARS = 64

# What each side may send, and the fields each type requires (name -> type).
# A chunk frame (docs/protocol.md, Transport); both sides send them.
CHUNK_FIELDS: dict[str, type] = {"transfer": str, "index": int, "count": int, "sha256": str, "data": str}
# Node messages that must carry a valid signature; `signed` is checked by wire/signing.py.
SIGNED_NODE_TYPES = frozenset(
    {"progress", "seat", "keygen.commitment", "keygen.done", "keygen.complaint", "mix.response", "decrypt.response",
     "cascade.checked"}
)
NODE_TYPES: dict[str, dict[str, type]] = {
    "hello": {"name": str, "role": str},  # mixers/trustees add public_key, join_token, signed
    "roll_call.reply": {"request_id": str},
    "error": {"reason": str},
    "chunk": CHUNK_FIELDS,
    "progress": {"election_id": str, "task": str, "phase": str, "done": int, "total": int, "signed": dict},
    "seat": {"election_id": str, "manifest_hash": str, "signed": dict},
    "keygen.commitment": {"election_id": str, "index": int, "commitments": list, "proof": dict, "shares": dict,
                          "signed": dict},
    "keygen.done": {"election_id": str, "index": int, "verification_key": str, "signed": dict},
    "keygen.complaint": {"election_id": str, "index": int, "against": int, "reason": str, "signed": dict},
    # Only what routing needs: the rest is judged by the cascade (mixnet/stages.py), so a malformed stage is
    # recorded with its signed evidence instead of being dropped here.
    "mix.response": {"election_id": str, "signed": dict},
    "decrypt.response": {"election_id": str, "index": int, "partials": list, "proof": dict, "signed": dict},
    "cascade.checked": {"election_id": str, "stage": int, "list_hash": str, "signed": dict},
}
SERVER_TYPES: dict[str, dict[str, type]] = {
    "welcome": {"client_id": str},
    "roll_call": {"request_id": str},
    "error": {"reason": str},
    "chunk": CHUNK_FIELDS,
    "seat.request": {"election_id": str, "manifest": dict},
    "keygen.request": {"election_id": str, "index": int, "threshold": int, "trustees": list, "question": str,
                       "candidates": list, "nonce": str},
    "keygen.shares": {"election_id": str, "commitments": dict, "shares": dict},
    "mix.request": {"election_id": str, "stage": int, "public_key": str, "context": str, "ciphertexts": list,
                    "list_hash": str},
    "decrypt.request": {"election_id": str, "ciphertexts": list, "list_hash": str, "cascade": dict},
    # an accepted stage forwarded to a trustee during the mix (the first also carries "start": manifest, cast)
    "cascade.stage": {"election_id": str, "response": dict},
}

# Error reasons a reply can carry.
NOT_JSON = "not_json"
BAD_SHAPE = "bad_shape"
UNKNOWN_TYPE = "unknown_type"
TOO_BIG = "too_big"
BINARY = "binary_not_supported"
RATE_LIMITED = "rate_limited"

PROTOCOL_HINT = 'send JSON text frames like {"type": "hello", "name": "...", "role": "mixer"}'


class ProtocolError(ValueError):
    """A frame that breaks the protocol. `reason` is one of the constants above; str(error) explains."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[ProtocolError], tuple[str, str]]:
        # picklable, so a pool job (server/signed_text.py) can raise it to the server
        return type(self), (self.reason, self.detail)


def parse_message(
    frame: str | bytes, allowed: dict[str, dict[str, type]] = NODE_TYPES, max_bytes: int = MAX_MESSAGE_BYTES
) -> dict[str, Any]:
    """Decode and validate one frame against `allowed` types; raise ProtocolError saying what is wrong.

    `max_bytes`: a text reassembled from chunks (wire/chunks.py) is parsed with that module's larger limit.
    """
    if isinstance(frame, bytes):
        raise ProtocolError(BINARY, f"binary frames are not part of the protocol; {PROTOCOL_HINT}")
    size = len(frame.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ProtocolError(TOO_BIG, f"frame of {size} bytes is over the {max_bytes}-byte limit")
    try:
        message = json.loads(frame)
    except ValueError:
        raise ProtocolError(NOT_JSON, f"frame is not JSON; {PROTOCOL_HINT}") from None
    except RecursionError:  # [[[[...: deeper than the parser's recursion limit
        raise ProtocolError(NOT_JSON, "frame is JSON nested too deeply") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(BAD_SHAPE, 'a message must be a JSON object with a string "type" field')
    kind = message["type"]
    if kind not in allowed:
        raise ProtocolError(UNKNOWN_TYPE, f"unknown type {kind[:40]!r}; expected one of {sorted(allowed)}")
    for name, expected in allowed[kind].items():
        value = message.get(name)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ProtocolError(BAD_SHAPE, f"{kind!r} needs a {expected.__name__} field {name!r}")
    if kind == "hello":
        _check_hello(message)
    return message


def _check_hello(message: dict[str, Any]) -> None:
    if message["role"] not in ROLES:
        raise ProtocolError(BAD_SHAPE, f"role must be one of {list(ROLES)}")
    if not 0 < len(message["name"]) <= MAX_NAME_CHARS:
        raise ProtocolError(BAD_SHAPE, f"name must be 1..{MAX_NAME_CHARS} characters")


def error_reply(reason: str, detail: str = "", ref: str | None = None) -> dict[str, Any]:
    """An `error` message; `ref` names the type of the message it answers, when known."""
    reply = {"type": "error", "reason": reason, "detail": detail}
    if ref is not None:
        reply["ref"] = ref
    return reply


ENCODE_SPAN = 500  # items of a long list field encoded per json.dumps call


class RawJSON(str):
    """A field value given as its JSON text already (the canonical text a node signed and sent, or a slice of it):
    `encode` puts it into the frame as it is, so a megabyte value passed on is not encoded again."""


def encode(message: dict[str, Any]) -> str:
    """The frame text of a message. A long list field (10,000 ciphertexts) is encoded a span of items at a time:
    the same text as one json.dumps, but no single call over megabytes holds the GIL (the panel shares it). A
    top-level RawJSON value goes in as the text it is."""
    if not any(isinstance(v, RawJSON) or isinstance(v, list) and len(v) > ENCODE_SPAN for v in message.values()):
        return json.dumps(message, separators=(",", ":"))
    return "{" + ",".join(f"{json.dumps(k)}:{_encode_value(v)}" for k, v in message.items()) + "}"


def _encode_value(value: Any) -> str:
    if isinstance(value, RawJSON):
        return value
    if not isinstance(value, list) or len(value) <= ENCODE_SPAN:
        return json.dumps(value, separators=(",", ":"))
    spans = (json.dumps(value[i:i + ENCODE_SPAN], separators=(",", ":"))[1:-1]
             for i in range(0, len(value), ENCODE_SPAN))
    return "[" + ",".join(spans) + "]"


_SECRET_NAME = re.compile(r"token|secret|password", re.IGNORECASE)


def masked(value: Any) -> Any:
    """A copy of plain JSON data with the value of every secret-looking key replaced by "***"."""
    if isinstance(value, dict):
        return {k: "***" if isinstance(k, str) and _SECRET_NAME.search(k) else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each (non-empty) secret replaced by "***"."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# A JSON string field whose name looks secret ("token", "join_token", "password", ...): its value is masked.
_SECRET_FIELD = re.compile(r'("[^"]*(?:token|secret|password)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
MAX_LOGGED_CHARS = 2000


def loggable(frame: str | bytes, secrets: Iterable[str] = ()) -> str:
    """The frame as it may appear in events and logs: secret-looking fields and every known secret (the
    server's tokens, wherever they appear in the text) masked, long frames cut."""
    if isinstance(frame, bytes):
        return f"<{len(frame)} binary bytes>"
    text = redact(frame, secrets)
    # The field regex costs ~8 ms per 256 KB chunk frame, all of it holding the GIL the panel shares: skip it
    # when it cannot match. Exact for ASCII text (every encoded frame): a match needs one of these words.
    lowered = text.lower() if text.isascii() else None
    if lowered is None or any(word in lowered for word in ("token", "secret", "password")):
        text = _SECRET_FIELD.sub(r'\1"***"', text)  # mask before cutting: no half secret survives
    if len(text) > MAX_LOGGED_CHARS:
        text = text[:MAX_LOGGED_CHARS] + f"… ({len(frame)} chars)"
    return text

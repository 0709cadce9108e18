"""The mixer role: answer a `mix.request` with a shuffled, re-encrypted list and its proof of shuffle.

Request (docs/protocol.md, Mixing): {election_id, stage, public_key (hex), context (hex of the proof
context bytes, i.e. mixnet.record.mix_context(...).hex()), ciphertexts [[a, b], …], list_hash}.
Reply: an unsigned `mix.response` {election_id, stage, outputs, proof, list_hash of the outputs}; the node
signs and, if large, chunks it.

Cheat modes (demos and tests), one or more per rejection class (mixnet/stages.py):
  drop         one output removed                                                    malformed
  replace      one output replaced by a fresh encryption of a valid choice            proof_fails
  swap         two outputs exchanged after proving (the proof committed to the other)  proof_fails
  wrong_stage  an honest stage labelled with the next stage's index                   malformed
  identity     one output is its input unchanged                                      not_rerandomised
  malformed    a signed reply that is no stage at all                                 malformed
  silent       no reply                                                               no_answer
"""

from __future__ import annotations

import secrets
from typing import Any, Callable

from mixscope.client import generator_cache
from mixscope.mixnet import elgamal, group, shuffle, stages
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.wire.protocol import MIXER_CHEATS

SPOILS = ("drop", "replace", "swap")
CHEATS = MIXER_CHEATS


class Silent(Exception):
    """The `silent` cheat: the node sends nothing at all for this request."""
MAX_CIPHERTEXTS = 1_000_000
BAD_REQUEST = "bad_request"


class RequestError(ValueError):
    """A server request the node cannot act on; `reason` goes in the error reply, the node carries on."""

    def __init__(self, detail: str, reason: str = BAD_REQUEST):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def decode_ciphertexts(value: Any, list_hash: str | None = None, validate: bool = True) -> list[Ciphertext]:
    """Wire ciphertexts as group elements, checked against `list_hash` when given.

    validate=False (the mixer) checks only the shape, hex and the top bit: re-encryption adds to every
    input point with libsodium, which refuses one that does not decode (`mix` reports that as a bad
    ciphertext), so a separate decoding pass would only repeat that work."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_CIPHERTEXTS:
        raise RequestError(f"ciphertexts must be a list of 1..{MAX_CIPHERTEXTS} pairs")
    try:
        decoded = Ciphertext.list_from_json(value, validate)
    except (group.InvalidElement, TypeError, ValueError) as exc:
        raise RequestError(f"bad ciphertext: {exc}") from None
    if not validate and any(ct.a[31] >= 0x80 or ct.b[31] >= 0x80 for ct in decoded):
        raise RequestError("bad ciphertext: not a canonical ristretto255 encoding")  # libsodium would ignore the bit
    if list_hash is not None and stages.list_hash(decoded) != list_hash:
        raise RequestError("list_hash does not match the ciphertexts")
    return decoded


def decode_public_key(value: Any) -> bytes:
    try:
        return group.decode(value)
    except (group.InvalidElement, TypeError, ValueError) as exc:
        raise RequestError(f"bad public_key: {exc}") from None


def decode_context(value: Any) -> bytes:
    try:
        context = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise RequestError("context must be hex text") from None
    if not context:
        raise RequestError("context must not be empty")
    return context


def mix(request: dict[str, Any], cheat: str | None = None, map_fn: Callable = map,
        generator_dir: Any = False) -> dict[str, Any]:
    """The mix.response for a parsed mix.request (raises RequestError for a request it cannot mix).

    generator_dir: a node data directory (None: the default one) whose generator cache to use; False: none."""
    if cheat is not None and cheat not in CHEATS:
        raise ValueError(f"cheat must be one of {CHEATS}")
    if cheat == "malformed":
        return {"type": "mix.response", "election_id": request["election_id"], "stage": request["stage"],
                "outputs": "not a list", "proof": {}}
    if request["stage"] < 0:
        raise RequestError("stage must be >= 0")
    public = decode_public_key(request["public_key"])
    context = decode_context(request["context"])
    inputs = decode_ciphertexts(request["ciphertexts"], request["list_hash"], validate=False)
    on_disk = generator_cache.load(generator_dir) if generator_dir is not False else None
    try:
        outputs, proof = shuffle.shuffle_and_prove(public, inputs, context, map_fn)
    except group.InvalidElement as exc:  # an input point that libsodium's addition refused
        raise RequestError(f"bad ciphertext: {exc}") from None
    if on_disk is not None:
        generator_cache.store(generator_dir, on_disk)
    if cheat in SPOILS:
        outputs = spoil(cheat, public, outputs)
    elif cheat == "identity":
        outputs = [inputs[0], *outputs[1:]]  # one ballot passes through unchanged: linkable
    elif cheat == "silent":
        raise Silent()
    return {
        "type": "mix.response",
        "election_id": request["election_id"],
        "stage": request["stage"] + (cheat == "wrong_stage"),
        "input_hash": request["list_hash"],  # checked above: the stage says which list it shuffled
        "outputs": [ct.to_json() for ct in outputs],
        "proof": proof.to_json(),
        "list_hash": stages.list_hash(outputs),
    }


def spoil(cheat: str, public: bytes, outputs: list[Ciphertext]) -> list[Ciphertext]:
    """`outputs` with the cheat applied (a new list)."""
    spoiled = list(outputs)
    where = secrets.randbelow(len(spoiled))
    if cheat == "drop":
        del spoiled[where]
    elif cheat == "swap" and len(spoiled) >= 2:
        other = (where + 1 + secrets.randbelow(len(spoiled) - 1)) % len(spoiled)
        spoiled[where], spoiled[other] = spoiled[other], spoiled[where]
    else:  # replace, and swap on a one-element list (nothing to swap with)
        spoiled[where] = elgamal.encrypt(public, elgamal.encode_choice(0))
    return spoiled

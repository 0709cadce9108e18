"""Judging one mix stage: accepted, or rejected with one class of a closed set (docs/verifier.md §4.1).

The server that runs the cascade and the verifier that re-checks the record call the same `judge`, so they
always agree on a stage's fate. The classes, checked in this order:

  no_answer         nothing signed arrived (timeout, disconnect, an error reply): `response` is null
  malformed         the signed response is not a stage for this statement: other fields than the closed set,
                    another type, election, stage index or input list (`input_hash`), outputs that are not
                    len(inputs) canonical ciphertexts, or a `list_hash` that is not theirs
  not_rerandomised  some output ciphertext equals some input ciphertext (a stage that does not mix: anyone
                    could link that vote through it)
  proof_fails       the statement is right but the proof of shuffle does not verify

Pure; the proof check fans out over `map_fn` like the rest of the verifier.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, NamedTuple, Sequence

from mixscope.mixnet import group, shuffle
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError

NO_ANSWER = "no_answer"
MALFORMED = "malformed"
NOT_RERANDOMISED = "not_rerandomised"
PROOF_FAILS = "proof_fails"
CLASSES = (NO_ANSWER, MALFORMED, NOT_RERANDOMISED, PROOF_FAILS)

RESPONSE_TYPE = "mix.response"
RESPONSE_FIELDS = frozenset({"type", "election_id", "stage", "input_hash", "outputs", "proof", "list_hash", "signed"})

_DECODE_SLICES = 16  # map_fn jobs per ciphertext list: enough to keep every worker busy
_DECODE_MIN_SLICE = 256  # ...but no job so small that shipping it costs more than decoding it


class Verdict(NamedTuple):
    rejected_as: str | None  # None: accepted
    reason: str
    outputs: list[Ciphertext] | None = None  # decoded, when the statement was right


def list_hash(ciphertexts: Sequence[Sequence[str | bytes]]) -> str:
    """docs/protocol.md's `list_hash`: SHA-256 hex of the concatenated 64-byte a‖b encodings of a ciphertext list.

    The one definition: the server (mix and decrypt requests), the mixers, the trustees and this module's judgement
    of a stage all call it. Takes pairs of 32-byte values as bytes (a mixnet Ciphertext) or as hex text (the wire
    form); raises ValueError for anything else.
    """
    whole = _concatenated(ciphertexts)
    if whole is not None:
        return hashlib.sha256(whole).hexdigest()
    digest = hashlib.sha256()  # item by item: the first malformed one raises
    for pair in ciphertexts:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError("a ciphertext is a pair [a, b]")
        for part in pair:
            raw = bytes.fromhex(part) if isinstance(part, str) else part
            if not isinstance(raw, bytes) or len(raw) != 32:
                raise ValueError("each half of a ciphertext is 32 bytes (64 hex digits)")
            digest.update(raw)
    return digest.hexdigest()


def _all_pairs(items: Sequence[Any]) -> bool:
    """Every item a list or tuple of two: by the sets of types and lengths (C speed) when the items are plain
    lists, tuples or Ciphertexts, else item by item."""
    if set(map(type, items)) <= {list, tuple, Ciphertext}:
        return set(map(len, items)) <= {2}
    return all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in items)


def _concatenated(ciphertexts: Sequence[Sequence[str | bytes]]) -> bytes | None:
    """The a‖b encodings of a whole list at once when every half is 64 hex digits or 32 bytes, else None."""
    if not isinstance(ciphertexts, (list, tuple)) or not _all_pairs(ciphertexts):
        return None
    halves = [part for pair in ciphertexts for part in pair]
    if not halves:
        return None
    if all(isinstance(part, bytes) for part in halves):
        return b"".join(halves) if set(map(len, halves)) == {32} else None
    try:
        text = "".join(halves)  # TypeError: a half that is not text
        raw = bytes.fromhex(text)
    except (TypeError, ValueError):
        return None
    # Every half 64 characters and 32 bytes each in all: no half held a space, so each is 32 bytes of its own.
    return raw if set(map(len, halves)) == {64} and len(raw) == 32 * len(halves) else None


def decode_list(value: Any, what: str, map_fn: Callable[..., Any] = map) -> list[Ciphertext]:
    """Decode a JSON list of ciphertexts (lowercase hex, canonical elements) over map_fn jobs; ValueError names
    the first bad position, exactly as one sequential pass would."""
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of ciphertexts")
    size = max(_DECODE_MIN_SLICE, -(-len(value) // _DECODE_SLICES))
    jobs = [(what, lo, value[lo:lo + size]) for lo in range(0, len(value), size)]
    out: list[Ciphertext] = []
    for decoded, error in map_fn(decode_slice, jobs):
        if error is not None:
            raise ValueError(error)
        out.extend(decoded)
    return out


def decode_slice(job: tuple[Any, ...]) -> tuple[list[Ciphertext], str | None]:
    """Pool job: the slice's ciphertexts, or the reason for its first bad one."""
    what, offset, items = job
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Ciphertext.from_json(item))
        except (group.InvalidElement, TypeError) as exc:
            return [], f"{what}[{offset + i}]: {exc}"
    return out, None


def statement_fault(
    response: dict[str, Any], election_id: str, stage: int, inputs_json: list[Any], map_fn: Callable[..., Any] = map,
    inputs_hash: str | None = None,
) -> tuple[str | None, list[Ciphertext] | None]:
    """(why `response` is not a stage for this statement, None) or (None, its decoded outputs). `inputs_hash`:
    list_hash(inputs_json), when the caller has it already."""
    if set(response) != RESPONSE_FIELDS:
        extra, missing = sorted(set(response) - RESPONSE_FIELDS), sorted(RESPONSE_FIELDS - set(response))
        return f"response fields: extra {extra}, missing {missing}", None
    if response["type"] != RESPONSE_TYPE:
        return f"response type is {str(response['type'])[:40]!r}, not {RESPONSE_TYPE!r}", None
    if response["election_id"] != election_id:
        return f"answered for election {str(response['election_id'])[:40]!r}, not {election_id!r}", None
    if type(response["stage"]) is not int or response["stage"] != stage:
        return f"answered for stage {str(response['stage'])[:20]}, not {stage}", None
    if response["input_hash"] != (list_hash(inputs_json) if inputs_hash is None else inputs_hash):
        return "input_hash is not the hash of this stage's input list", None
    try:
        outputs = decode_list(response["outputs"], "outputs", map_fn)
    except ValueError as exc:
        return str(exc), None
    if len(outputs) != len(inputs_json):
        return f"{len(outputs)} outputs for {len(inputs_json)} inputs", None
    if response["list_hash"] != list_hash(response["outputs"]):
        return "list_hash is not the hash of the outputs", None
    return None, outputs


def judge(
    response: Any,
    *,
    election_id: str,
    stage: int,
    inputs_json: list[Any],
    inputs: list[Ciphertext],
    public_key: bytes | None,
    context: bytes,
    map_fn: Callable[..., Any] = map,
    check_proof: bool = True,
    inputs_hash: str | None = None,
) -> Verdict:
    """The stage's fate. check_proof=False leaves the proof unchecked (the server publishing what it checked
    on arrival): a statement that holds is then reported as accepted. `inputs_hash`: list_hash(inputs_json),
    when the caller computed it already (it is then not hashed again)."""
    if response is None:
        return Verdict(NO_ANSWER, "no signed response")
    if not isinstance(response, dict):
        return Verdict(MALFORMED, "response is not an object")
    combined_failed = False
    if check_proof and public_key is not None:
        outputs, combined_failed = _accepted_outputs(response, election_id, stage, inputs_json, inputs, public_key,
                                                     context, map_fn, inputs_hash)
        if outputs is not None:
            return Verdict(None, "proof verifies", outputs)
    fault, outputs = statement_fault(response, election_id, stage, inputs_json, map_fn, inputs_hash)
    if fault is not None:
        return Verdict(MALFORMED, fault)
    seen = {tuple(ct) for ct in inputs_json}
    for position, ct in enumerate(response["outputs"]):
        if tuple(ct) in seen:
            return Verdict(NOT_RERANDOMISED, f"output {position} equals an input ciphertext", outputs)
    if not check_proof:
        return Verdict(None, "statement holds; proof not re-checked", outputs)
    if public_key is None:
        raise ValueError("no public key to check the proof against")
    assert outputs is not None  # statement_fault returns the outputs whenever it finds no fault
    try:
        proof = shuffle.ShuffleProof.from_json(response["proof"], validate=False)
        shuffle.verify(public_key, inputs, outputs, proof, context, map_fn=map_fn, combined=not combined_failed)
    except (ProofError, ValueError, TypeError, KeyError) as exc:
        return Verdict(PROOF_FAILS, str(exc) or type(exc).__name__, outputs)
    return Verdict(None, "proof verifies", outputs)


def _accepted_outputs(
    response: dict[str, Any], election_id: str, stage: int, inputs_json: list[Any], inputs: list[Ciphertext],
    public_key: bytes, context: bytes, map_fn: Callable[..., Any], inputs_hash: str | None,
) -> tuple[list[Ciphertext] | None, bool]:
    """A stage that is accepted in one pass: (its outputs, False) when the statement is right, no output repeats
    an input and the proof holds, each output decoded once, in the proof's product of powers (which validates
    every point exactly as `decode_list` would), instead of once to read it and again in the proof.
    Otherwise (None, whether the proof's combined check ran and failed): `judge` then goes the usual way, which
    gives the verdict and reason it always gave, skipping that combined check if it failed already."""
    try:
        if (set(response) != RESPONSE_FIELDS or response["type"] != RESPONSE_TYPE
                or response["election_id"] != election_id or type(response["stage"]) is not int
                or response["stage"] != stage):
            return None, False
        if response["input_hash"] != (list_hash(inputs_json) if inputs_hash is None else inputs_hash):
            return None, False
        raw = response["outputs"]
        if not isinstance(raw, list) or len(raw) != len(inputs_json) or response["list_hash"] != list_hash(raw):
            return None, False
        outputs = Ciphertext.list_from_json(raw, validate=False)
        seen = {tuple(ct) for ct in inputs_json}
        if any(tuple(ct) in seen for ct in raw):
            return None, False
        proof = shuffle.ShuffleProof.from_json(response["proof"], validate=False)
    except (ProofError, ValueError, TypeError, KeyError):  # (group.InvalidElement and RecordError are ValueErrors)
        return None, False
    if shuffle.holds(public_key, inputs, outputs, proof, context, map_fn):
        return outputs, False
    return None, True

"""Checking a batch of ballots in the runner's process pool, from the request's raw JSON text.

The Flask thread hands every pool job the same raw body (a str: pickling it is one copy) and a part number;
the child parses it, checks the batch's shape, and verifies the credential signatures and proofs of its share of the
ballots (whether each credential is listed is a set lookup, left to the server process). The
server process thus never builds the batch's object graph: it gets back plain tuples of strings to store.
No Flask, no board here: this module is imported by pool children.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from mixscope.mixnet import credentials
from mixscope.mixnet.errors import ProofError
from mixscope.server import ballot_kinds

MAX_BATCH = 1000  # ballots per request
MAX_VOTER_ID = 256


class BatchRefused(Exception):
    """The whole body is unusable (not a batch, too many ballots); `status` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str, not_a_batch: bool = False):
        super().__init__(status, reason, not_a_batch)
        self.status, self.reason, self.not_a_batch = status, reason, not_a_batch


class Checked(NamedTuple):
    """One ballot of the batch: `status` 0 when its proof holds, else the
    HTTP status that refuses it and the reason. `ballot` is the normalised JSON of a good one."""

    entry_index: int  # its place in the batch (not `index`, which would hide tuple.index)
    voter_id: str | None
    ballot: dict | None
    status: int
    reason: str


def parse_batch(text: str) -> list:
    """The list of entries of a batch body; BatchRefused when it is not {"ballots": [...]} of at most MAX_BATCH."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise BatchRefused(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # a RuntimeError: unanswered, it would pass for the pool shutting down
        raise BatchRefused(400, "the body is JSON nested too deeply") from None
    if not isinstance(body, dict) or set(body) != {"ballots"} or not isinstance(body["ballots"], list):
        raise BatchRefused(400, 'a batch is a JSON object {"ballots": [{voter_id, ballot}, ...]} and nothing else',
                           not_a_batch=True)
    entries = body["ballots"]
    if not entries:
        raise BatchRefused(400, "the batch is empty")
    if len(entries) > MAX_BATCH:
        raise BatchRefused(413, f"a batch may hold at most {MAX_BATCH} ballots, got {len(entries)}")
    return entries


def check_part(job: tuple) -> list[Checked] | BatchRefused:
    """Pool job: parse the batch text and check ballots part, part+parts, ... of it (interleaved, so each part
    gets the same mix of work). `public_key` None: the election is not voting, parse only (the board answers
    resubmissions and refuses the rest)."""
    text, part, parts, election_id, public_key, *kind = job
    mode, candidates = kind or (ballot_kinds.MIXNET, 0)  # the election's tally mode and candidate count
    try:
        entries = parse_batch(text)
    except BatchRefused as exc:
        return exc
    checked = [check_entry(i, entries[i], election_id, None, mode, candidates)
               for i in range(part, len(entries), parts)]
    if public_key is None:
        return checked
    return _verify_proofs(checked, election_id, public_key, mode, candidates)


def _verify_proofs(checked: list[Checked], election_id: str, public_key: bytes, mode: str = ballot_kinds.MIXNET,
                   candidates: int = 0) -> list[Checked]:
    """Each well-formed ballot's credential signature, one by one (403 without a valid one), then the proofs
    of the signed ones, checked together as one randomly weighted product of powers (ballots.ballots_hold);
    only if that fails is each proof checked on its own, to say which are refused."""
    out = list(checked)
    good = []
    for i, c in enumerate(checked):
        if c.status or c.voter_id is None:  # a well-formed entry has its voter_id
            continue
        voter_id = c.voter_id
        ballot = ballot_kinds.parse(mode, c.ballot, candidates)
        try:
            credentials.verify_signature(election_id, voter_id, ballot)
        except ProofError as exc:
            out[i] = Checked(c.entry_index, c.voter_id, None, 403, f"ballot refused: {exc}")
            continue
        good.append((i, voter_id, c, ballot))
    if not good or ballot_kinds.hold(mode, public_key, election_id, [(v, b) for _, v, _, b in good]):
        return out
    for i, voter_id, c, ballot in good:
        try:
            ballot_kinds.verify(mode, public_key, election_id, voter_id, ballot, candidates)
        except ProofError as exc:
            out[i] = Checked(c.entry_index, c.voter_id, None, 422, f"ballot refused: {exc}")
    return out


def check_entry(index: int, entry: Any, election_id: str, public_key: bytes | None, mode: str = ballot_kinds.MIXNET,
                candidates: int = 0) -> Checked:
    if not isinstance(entry, dict) or set(entry) != {"voter_id", "ballot"}:
        return Checked(index, None, None, 400, "each entry must be an object {voter_id, ballot} and nothing else")
    voter_id = entry["voter_id"]
    if not isinstance(voter_id, str) or not voter_id.strip() or len(voter_id) > MAX_VOTER_ID:
        return Checked(index, None, None, 400,
                       f"voter_id must be a non-empty string of at most {MAX_VOTER_ID} characters")
    try:
        ballot = ballot_kinds.parse(mode, entry["ballot"], candidates)
    except ProofError as exc:
        return Checked(index, voter_id, None, 400, f"malformed ballot: {exc}")
    if public_key is not None:
        refused = refusal(public_key, election_id, voter_id, ballot, mode, candidates)
        if refused is not None:
            return Checked(index, voter_id, None, *refused)
    return Checked(index, voter_id, ballot.to_json(), 0, "")


def refusal(public_key: bytes, election_id: str, voter_id: str, ballot, mode: str = ballot_kinds.MIXNET,
            candidates: int = 0) -> tuple[int, str] | None:
    """(HTTP status, reason) refusing a ballot, or None: the credential's signature first (403 without a valid
    one; it is the cheaper check), then the ballot's proofs for the election's tally mode (422). Single ballots
    use it too."""
    try:
        credentials.verify_signature(election_id, voter_id, ballot)
    except ProofError as exc:
        return 403, f"ballot refused: {exc}"
    try:
        ballot_kinds.verify(mode, public_key, election_id, voter_id, ballot, candidates)
    except ProofError as exc:
        return 422, f"ballot refused: {exc}"
    return None

"""Ballot intake shared by the JSON API and the demo vote form: check, verify, store, announce.

A ballot is acknowledged only once the board has committed it (Board.add_ballot returns after the commit).
Every refusal is an HttpError with a 4xx status and a reason; nothing is stored on any refusal path.
The "election.ballot" event is throttled (at most ~5/s per election, the latest count always sent last).
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from mixscope.mixnet import group
from mixscope.mixnet.errors import ProofError
from mixscope.server import ballot_batch, ballot_kinds
from mixscope.server import board as board_mod
from mixscope.server.election import lab, states
from mixscope.server.views import HttpError, context

MAX_VOTER_ID = 256
EVENT_INTERVAL = 0.2  # seconds between "election.ballot" events of one election
BATCH_PARTS = 4  # pool jobs per batch: each parses the body and checks every 4th ballot


@dataclass(frozen=True)
class Intake:
    receipt: board_mod.Receipt
    created: bool  # False: an identical resubmission, answered with the original receipt


def current_board() -> board_mod.Board:
    board = getattr(context(), "board", None)
    if board is None:
        raise HttpError(503, "this server has no bulletin board")
    return board


def election_or_404(board: board_mod.Board, election_id: str) -> board_mod.Election:
    try:
        return board.get_election(election_id)
    except board_mod.NotFoundError:
        raise HttpError(404, f"no election {election_id!r}") from None
    except board_mod.BoardInputError as exc:  # an id with characters no election id has
        raise HttpError(404, f"no election: {exc}") from None


def public_key_of(election: board_mod.Election) -> bytes:
    if election.public_key is None:
        raise HttpError(409, f"election {election.id!r} has no public key yet (state {election.state})")
    return group.decode(election.public_key)


def check_voter_id(voter_id: Any) -> str:
    if not isinstance(voter_id, str) or not voter_id.strip() or len(voter_id) > MAX_VOTER_ID:
        raise HttpError(400, f"voter_id must be a non-empty string of at most {MAX_VOTER_ID} characters")
    return voter_id


def unlisted_reason(board: board_mod.Board, election_id: str, voter_id: str) -> str | None:
    """Why `voter_id` may not vote in this election, or None: a ballot is keyed by its public credential,
    which must be on the election's credential list (mixnet/credentials.py)."""
    listed = board.credentials(election_id)
    if voter_id in listed:
        return None
    if not listed:
        return f"election {election_id!r} has no credential list: it accepts no ballots"
    return "voter_id is not one of this election's public credentials"


def check_listed(board: board_mod.Board, election_id: str, voter_id: str) -> None:
    reason = unlisted_reason(board, election_id, voter_id)
    if reason is not None:
        raise HttpError(403, reason)
def tally_mode(board: board_mod.Board, election_id: str) -> str:
    """The election's tally mode (mixnet or homomorphic), which says what a ballot is."""
    return lab.load(board.path.parent, election_id).tally


def submit_ballot(election_id: str, voter_id: Any, ballot_json: Any) -> Intake:
    """Verify the voter's ballot for this election and store it; HttpError(4xx, reason) when refused.
    `voter_id` is the voter's public credential (hex): it must be listed, and the ballot signed with it."""
    board = current_board()
    election = election_or_404(board, election_id)
    voter_id = check_voter_id(voter_id)
    mode = tally_mode(board, election_id)
    try:
        ballot = ballot_kinds.parse(mode, ballot_json, len(election.candidates))
    except ProofError as exc:
        raise HttpError(400, f"malformed ballot: {exc}") from None
    normalised = ballot.to_json()  # one spelling per ballot, so the tracking hash is the record's
    check_listed(board, election_id, voter_id)

    # A resubmission is answered from the board without redoing the proof (it was verified when stored).
    stored = board.receipt(election_id, voter_id)
    if stored is not None:
        if stored.tracking_hash == board_mod.content_hash(normalised):
            return Intake(stored, created=False)
        raise HttpError(409, f"voter {voter_id!r} has already cast a different ballot")
    if not states.may_run(states.VOTE, election.state):
        raise HttpError(409, f"election {election_id!r} is {election.state}, not voting: ballot refused")

    refusal = ballot_batch.refusal(public_key_of(election), election_id, voter_id, ballot, mode,
                                   len(election.candidates))
    if refusal is not None:
        raise HttpError(*refusal)
    receipt = store(board, election_id, voter_id, normalised)
    ballot_counter().stored(election_id, receipt.position)
    return Intake(receipt, created=True)


def store(board: board_mod.Board, election_id: str, voter_id: str, ballot: dict) -> board_mod.Receipt:
    try:
        return board.add_ballot(election_id, voter_id, ballot)
    except board_mod.DuplicateBallotError as exc:
        raise HttpError(409, str(exc)) from None
    except board_mod.StateError as exc:  # closed between our check and the commit
        raise HttpError(409, str(exc)) from None
    except board_mod.NotFoundError as exc:
        raise HttpError(404, str(exc)) from None
    except board_mod.BoardInputError as exc:
        raise HttpError(400, str(exc)) from None


class NotABatchError(HttpError):
    """The body given to submit_batch is JSON but not a batch."""


def submit_batch(election_id: str, text: str, admit_voter=None) -> dict[str, Any]:
    """Check and store a batch body {"ballots": [{voter_id, ballot}, ...]} given as raw JSON text.

    The proofs are checked in the runner's process pool, which parses the text itself (server/ballot_batch.py),
    then every good ballot is stored in one board transaction. The reply lists one result per ballot, in
    order: {index, voter_id, status: 201 | 200, receipt, position} or {index, voter_id, status: 4xx, error};
    a refused ballot stores nothing. `admit_voter(voter_id)` may raise HttpError (the per-voter rate limit).
    HttpError for the whole request when the body is not a batch, too big, or the election is unknown."""
    board = current_board()
    election = election_or_404(board, election_id)
    public_key = (
        public_key_of(election) if states.may_run(states.VOTE, election.state) else None
    )  # else: resubmissions only
    pool = getattr(context(), "pool", None)
    parts = 1 if pool is None else BATCH_PARTS
    kind = (tally_mode(board, election_id), len(election.candidates))
    jobs = [(text, part, parts, election_id, public_key, *kind) for part in range(parts)]
    try:
        answers = list(map(ballot_batch.check_part, jobs) if pool is None else pool.map(ballot_batch.check_part, jobs))
    except RuntimeError:  # the pool is shut down: the server is stopping
        raise HttpError(503, "the server is stopping; send the batch again") from None
    refused = next((a for a in answers if isinstance(a, ballot_batch.BatchRefused)), None)
    if refused is not None:
        raise (NotABatchError if refused.not_a_batch else HttpError)(refused.status,
                                                                                            refused.reason)
    checked = sorted((c for answer in answers for c in answer), key=lambda c: c.entry_index)
    results: dict[int, dict[str, Any]] = {}
    good = []
    for c in checked:
        if c.status == 0 and (reason := unlisted_reason(board, election_id, c.voter_id)) is not None:
            c = c._replace(status=403, reason=reason)
        if c.status == 0 and admit_voter is not None:
            try:
                admit_voter(c.voter_id)
            except HttpError as exc:
                c = c._replace(status=exc.status, reason=exc.error)
        if c.status:
            results[c.entry_index] = {
                "index": c.entry_index,
                "voter_id": c.voter_id,
                "status": c.status,
                "error": c.reason,
            }
        else:
            good.append(c)
    try:
        outcomes = board.add_ballots(election_id, [(c.voter_id, c.ballot) for c in good])
    except board_mod.NotFoundError as exc:
        raise HttpError(404, str(exc)) from None
    highest = 0
    for c, outcome in zip(good, outcomes):
        if outcome.error is not None:
            status = 400 if isinstance(outcome.error, board_mod.BoardInputError) else 409
            results[c.entry_index] = {"index": c.entry_index, "voter_id": c.voter_id, "status": status,
                                      "error": str(outcome.error)}
            continue
        receipt = outcome.receipt
        assert receipt is not None  # an outcome without an error carries its receipt
        highest = max(highest, receipt.position)
        results[c.entry_index] = {"index": c.entry_index, "status": 201 if outcome.created else 200,
                                  **receipt_json(receipt)}
    if highest:
        ballot_counter().stored(election_id, highest)
    ordered = [results[i] for i in sorted(results)]
    return {"election_id": election_id, "results": ordered,
            "stored": sum(r["status"] == 201 for r in ordered), "refused": sum(r["status"] >= 400 for r in ordered)}


def receipt_json(receipt: board_mod.Receipt) -> dict[str, Any]:
    return {"receipt": receipt.tracking_hash, "position": receipt.position, "election_id": receipt.election_id,
            "voter_id": receipt.voter_id}


class BallotCounter:
    """Publishes "election.ballot" {election_id, count} at most once per EVENT_INTERVAL per election, with a
    trailing event so the last count is never lost. Positions are dense (1, 2, ...), so the highest
    position stored is the count."""

    def __init__(self, channel, interval: float = EVENT_INTERVAL):
        self.channel, self.interval = channel, interval
        self._lock = threading.Lock()
        self._count: dict[str, int] = {}
        self._sent_at: dict[str, float] = {}
        self._timers: dict[str, threading.Timer] = {}

    def stored(self, election_id: str, position: int) -> None:
        with self._lock:
            self._count[election_id] = max(self._count.get(election_id, 0), position)
            if election_id in self._timers:
                return  # the pending trailing event will carry this count
            wait = self._sent_at.get(election_id, 0.0) + self.interval - time.monotonic()
            if wait > 0:
                timer = threading.Timer(wait, self._flush, (election_id,))
                timer.daemon = True
                self._timers[election_id] = timer
                timer.start()
                return
            count = self._mark_sent(election_id)
        self._publish(election_id, count)

    def _flush(self, election_id: str) -> None:
        with self._lock:
            self._timers.pop(election_id, None)
            count = self._mark_sent(election_id)
        self._publish(election_id, count)

    def _mark_sent(self, election_id: str) -> int:
        self._sent_at[election_id] = time.monotonic()
        return self._count[election_id]

    def _publish(self, election_id: str, count: int) -> None:
        if self.channel is not None:
            self.channel.publish("election.ballot", {"election_id": election_id, "count": count})


_counters: "weakref.WeakKeyDictionary[Any, BallotCounter]" = weakref.WeakKeyDictionary()
_counters_lock = threading.Lock()


def ballot_counter() -> BallotCounter:
    """The counter of this server's channel (one per channel, so throttling spans all Flask threads)."""
    channel = getattr(context(), "channel", None)
    key = channel if channel is not None else context()
    with _counters_lock:
        counter = _counters.get(key)
        if counter is None:
            counter = _counters[key] = BallotCounter(channel)
    return counter

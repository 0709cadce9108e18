"""Ballots: append-only, one per voter, with receipts."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, Sequence

from mixscope.server.board.checks import (
    _ballot_entry,
    _check_id,
)
from mixscope.server.board.core import BoardCore
from mixscope.server.board.errors import (
    BoardError,
    BoardInputError,
    DuplicateBallotError,
    StateError,
)
from mixscope.server.board.models import (
    BallotOutcome,
    Receipt,
    StoredBallot,
)
from mixscope.server.election import states


class BallotStore(BoardCore):
    def add_ballot(self, election_id: str, voter_id: str, ballot: Any) -> Receipt:
        """Store a voter's ballot (a JSON object, or its JSON text) and return the receipt, only once the
        ballot is durably committed. Retrying the identical ballot returns the original receipt."""
        _check_id(election_id, "election id")
        voter_id, text, tracking_hash = _ballot_entry(voter_id, ballot)
        with self._write() as db:
            receipt, _ = self._insert_ballot(db, election_id, self._state_of(db, election_id), voter_id, text,
                                             tracking_hash, time.time())
        return receipt

    def add_ballots(self, election_id: str, entries: Sequence[tuple[str, Any]]) -> list[BallotOutcome]:
        """Store many (voter id, ballot) pairs in ONE transaction (one fsync), each with add_ballot's rules:
        an identical resubmission gets its original receipt, a voter's second different ballot or another
        voter's identical ballot is refused, nothing new is stored unless the election is voting. Returns one
        outcome per entry, in order; a refused entry stores nothing and does not stop the others. Every
        receipt is committed when this returns. NotFoundError if the election does not exist."""
        _check_id(election_id, "election id")
        prepared: list[tuple[str, str, str] | BoardError] = []
        for voter_id, ballot in entries:
            try:
                prepared.append(_ballot_entry(voter_id, ballot))
            except BoardInputError as exc:
                prepared.append(exc)
        outcomes: list[BallotOutcome] = []
        with self._write() as db:
            state, now = self._state_of(db, election_id), time.time()
            for entry in prepared:
                if isinstance(entry, BoardError):
                    outcomes.append(BallotOutcome(None, False, entry))
                    continue
                try:
                    receipt, created = self._insert_ballot(db, election_id, state, *entry, now)
                except (DuplicateBallotError, StateError) as exc:
                    outcomes.append(BallotOutcome(None, False, exc))
                else:
                    outcomes.append(BallotOutcome(receipt, created, None))
        return outcomes

    @staticmethod
    def _insert_ballot(db: sqlite3.Connection, election_id: str, state: str, voter_id: str, text: str,
                       tracking_hash: str, now: float) -> tuple[Receipt, bool]:
        """Inside a write transaction: (receipt, True) for a new ballot, (its receipt, False) for an identical
        resubmission; DuplicateBallotError / StateError otherwise (nothing written)."""
        row = db.execute(
            "SELECT position, tracking_hash, received_at FROM ballots WHERE election_id = ? AND voter_id = ?",
            (election_id, voter_id),
        ).fetchone()
        if row is not None:
            position, stored_hash, received_at = row
            if stored_hash != tracking_hash:
                raise DuplicateBallotError(f"voter {voter_id!r} has already cast a different ballot")
            return Receipt(election_id, voter_id, position, stored_hash, received_at), False
        if not states.may_run(states.VOTE, state):
            raise StateError(f"election {election_id!r} is {state}, not voting: ballot refused")
        if db.execute(
            "SELECT 1 FROM ballots WHERE election_id = ? AND tracking_hash = ?", (election_id, tracking_hash)
        ).fetchone():
            raise DuplicateBallotError("an identical ballot was already cast by another voter")
        position = db.execute(
            "SELECT coalesce(max(position), 0) + 1 FROM ballots WHERE election_id = ?", (election_id,)
        ).fetchone()[0]
        db.execute(
            "INSERT INTO ballots (election_id, voter_id, position, ballot_json, tracking_hash, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (election_id, voter_id, position, text, tracking_hash, now),
        )
        return Receipt(election_id, voter_id, position, tracking_hash, now), True

    def ballots(self, election_id: str) -> list[StoredBallot]:
        """Every ballot of the election in arrival order."""
        with self._read() as db:
            self._state_of(db, election_id)
            rows = db.execute(
                "SELECT voter_id, position, ballot_json, tracking_hash, received_at FROM ballots"
                " WHERE election_id = ? ORDER BY position",
                (election_id,),
            ).fetchall()
        return [StoredBallot(voter, pos, json.loads(text), h, at) for voter, pos, text, h, at in rows]

    def ballot_field(self, election_id: str, field: str) -> list[Any]:
        """One field of every ballot in arrival order (None where absent), without parsing whole ballots: the
        mix's first input is the ciphertexts alone, a fifth of the ballots' bytes."""
        if not field.isidentifier():
            raise BoardInputError(f"{field[:40]!r} is not a ballot field name")
        with self._read() as db:
            self._state_of(db, election_id)
            rows = db.execute(
                "SELECT json_quote(json_extract(ballot_json, ?)) FROM ballots WHERE election_id = ? ORDER BY position",
                (f"$.{field}", election_id),
            ).fetchall()
        return [json.loads(text) for (text,) in rows]

    def count_ballots(self, election_id: str) -> int:
        with self._read() as db:
            self._state_of(db, election_id)
            return db.execute("SELECT count(*) FROM ballots WHERE election_id = ?", (election_id,)).fetchone()[0]

    def receipt(self, election_id: str, voter_id: str) -> Receipt | None:
        """The receipt of a voter's stored ballot, if any (what a voter who lost the reply would ask)."""
        with self._read() as db:
            row = db.execute(
                "SELECT position, tracking_hash, received_at FROM ballots WHERE election_id = ? AND voter_id = ?",
                (election_id, voter_id),
            ).fetchone()
        return None if row is None else Receipt(election_id, voter_id, *row)

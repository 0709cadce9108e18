"""Elections: creation, the state machine's moves and their history, the public key."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Sequence

from mixscope.server.board.canonical import _json_text
from mixscope.server.board.checks import (
    _HEX32,
    _check_hex,
    _check_id,
    _check_int,
    _check_text,
)
from mixscope.server.board.core import BoardCore
from mixscope.server.board.errors import (
    BoardInputError,
    ConflictError,
    NotFoundError,
    StateError,
)
from mixscope.server.board.models import (
    Election,
    StateChange,
)
from mixscope.server.election import states


class ElectionStore(BoardCore):
    def create_election(
        self, election_id: str, question: str, candidates: list[str], threshold: int, trustees: int, mixers: int,
        credentials: Sequence[str] = (),
    ) -> Election:
        """Create an election in state "created". Creating it again with the same parameters returns it.
        `credentials`: the voters' public credentials (64 lowercase hex characters each, distinct); the
        server accepts ballots only from them (server/views_ballots.py). The list is fixed from here on."""
        _check_id(election_id, "election id")
        listed = sorted(credentials) if isinstance(credentials, (list, tuple)) else None
        if listed is None or any(not isinstance(c, str) or not _HEX32.fullmatch(c) for c in listed):
            raise BoardInputError("credentials must be a list of 64-character lowercase hex public credentials")
        if len(set(listed)) != len(listed):
            raise BoardInputError("the credential list holds the same credential twice")
        _check_text(question, "question")
        if not isinstance(candidates, (list, tuple)) or len(candidates) < 2:
            raise BoardInputError("candidates must be a list of at least two names")
        for name in candidates:
            _check_text(name, "a candidate name", 200)
        if len(set(candidates)) != len(candidates):
            raise BoardInputError("candidate names must be distinct")
        _check_int(trustees, "trustees", 1)
        _check_int(threshold, "threshold", 1)
        _check_int(mixers, "mixers", 1)
        if threshold > trustees:
            raise BoardInputError(f"threshold {threshold} exceeds the number of trustees {trustees}")
        now = time.time()
        params = (question, _json_text(list(candidates)), threshold, trustees, mixers)
        with self._write() as db:
            row = db.execute(
                "SELECT question, candidates_json, threshold, trustees, mixers FROM elections WHERE id = ?",
                (election_id,),
            ).fetchone()
            if row is not None:
                if tuple(row) != params or self._credentials(db, election_id) != listed:
                    raise ConflictError(f"election {election_id!r} already exists with other parameters")
            else:
                db.execute(
                    "INSERT INTO elections (id, question, candidates_json, threshold, trustees, mixers, state,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (election_id, *params, states.CREATED, now, now),
                )
                db.execute(
                    "INSERT INTO election_events (election_id, state, reason, at) VALUES (?, ?, NULL, ?)",
                    (election_id, states.CREATED, now),
                )
                db.executemany("INSERT INTO credentials (election_id, credential) VALUES (?, ?)",
                               [(election_id, c) for c in listed])
            return self._election(db, election_id)

    @staticmethod
    def _credentials(db: sqlite3.Connection, election_id: str) -> list[str]:
        rows = db.execute("SELECT credential FROM credentials WHERE election_id = ? ORDER BY credential",
                          (election_id,)).fetchall()
        return [c for (c,) in rows]

    def credentials(self, election_id: str) -> frozenset[str]:
        """The election's public credentials (empty for an election made without a voter list). Fixed at
        creation, so it is read once per election and kept."""
        cache = self.__dict__.setdefault("_credential_cache", {})
        cached = cache.get(election_id)
        if cached is None:
            with self._read() as db:
                self._state_of(db, election_id)  # NotFoundError for an unknown election
                cached = frozenset(self._credentials(db, election_id))
            cache[election_id] = cached
        return cached

    _ELECTION_COLUMNS = (
        "id, question, candidates_json, threshold, trustees, mixers, state, reason, public_key, created_at, updated_at"
    )

    @staticmethod
    def _election_from_row(row: tuple) -> Election:
        eid, question, candidates, threshold, trustees, mixers, state, reason, key, created, updated = row
        candidates = tuple(json.loads(candidates))
        return Election(eid, question, candidates, threshold, trustees, mixers, state, reason, key, created, updated)

    def _election(self, db: sqlite3.Connection, election_id: str) -> Election:
        row = db.execute(f"SELECT {self._ELECTION_COLUMNS} FROM elections WHERE id = ?", (election_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no election {election_id!r}")
        return self._election_from_row(row)

    def get_election(self, election_id: str) -> Election:
        with self._read() as db:
            return self._election(db, election_id)

    def list_elections(self) -> list[Election]:
        with self._read() as db:
            rows = db.execute(f"SELECT {self._ELECTION_COLUMNS} FROM elections ORDER BY created_at, id").fetchall()
        return [self._election_from_row(row) for row in rows]

    def set_state(self, election_id: str, state: str, reason: str | None = None) -> Election:
        """Move to the next state of the lifecycle, or to "failed" (reason required) from any non-final one.
        Setting the current state again is a no-op, so a resumed orchestration may repeat its last step."""
        if state not in states.LIFECYCLE and state != states.FAILED:
            raise BoardInputError(f"unknown state {state!r}; states are {', '.join(states.LIFECYCLE)}, {states.FAILED}")
        if state == states.FAILED:
            _check_text(reason, "the reason for failing")
        elif reason is not None:
            _check_text(reason, "reason")
        with self._write() as db:
            current = self._state_of(db, election_id)
            if current == state:
                return self._election(db, election_id)
            if current in states.FINAL:
                raise StateError(f"election {election_id!r} is {current}; it can no longer change")
            if not states.can_move(current, state):
                raise StateError(f"election {election_id!r} cannot go from {current} to {state}")
            self._move(db, election_id, state, reason, time.time())
            return self._election(db, election_id)

    def history(self, election_id: str) -> list[StateChange]:
        """Every state the election has been in, oldest first."""
        with self._read() as db:
            self._state_of(db, election_id)
            rows = db.execute(
                "SELECT state, reason, at FROM election_events WHERE election_id = ? ORDER BY id", (election_id,)
            ).fetchall()
        return [StateChange(*row) for row in rows]

    def set_public_key(self, election_id: str, public_key: str) -> Election:
        """Store the joint public key the key ceremony produced (hex). Same key again: no-op."""
        public_key = _check_hex(public_key, _HEX32, "public key")
        with self._write() as db:
            self._require_state(db, election_id, states.CREATED, states.KEY_CEREMONY)
            stored = db.execute("SELECT public_key FROM elections WHERE id = ?", (election_id,)).fetchone()[0]
            if stored is not None and stored != public_key:
                raise ConflictError(f"election {election_id!r} already has a different public key")
            db.execute(
                "UPDATE elections SET public_key = ?, updated_at = ? WHERE id = ?",
                (public_key, time.time(), election_id),
            )
            return self._election(db, election_id)

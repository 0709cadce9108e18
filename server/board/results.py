"""The tally and the published record."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from mixscope.server.board.canonical import _as_json_value, _json_text
from mixscope.server.board.elections import ElectionStore
from mixscope.server.board.errors import (
    BoardInputError,
    ConflictError,
    StateError,
)
from mixscope.server.board.models import (
    Election,
)
from mixscope.server.election import states


class ResultStore(ElectionStore):
    def set_result(self, election_id: str, result: Any) -> Election:
        """Store the tally and move "decrypting" -> "tallied" in the same transaction (no window in which
        a crash leaves a result without its state). The identical result again is a no-op."""
        text = _json_text(_as_json_value(result, "result"))
        with self._write() as db:
            state = self._require_state(db, election_id, states.DECRYPTING, states.TALLIED, states.PUBLISHED)
            row = db.execute("SELECT result_json FROM results WHERE election_id = ?", (election_id,)).fetchone()
            if row is not None:
                if row[0] != text:
                    raise ConflictError(f"election {election_id!r} already has a different result")
                return self._election(db, election_id)
            if state != states.DECRYPTING:
                raise StateError(f"election {election_id!r} is {state} without a result")
            now = time.time()
            db.execute(
                "INSERT INTO results (election_id, result_json, created_at) VALUES (?, ?, ?)", (election_id, text, now)
            )
            self._move(db, election_id, states.TALLIED, None, now)
            return self._election(db, election_id)

    def result(self, election_id: str) -> Any | None:
        with self._read() as db:
            self._state_of(db, election_id)
            row = db.execute("SELECT result_json FROM results WHERE election_id = ?", (election_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def publish_record(self, election_id: str, record: Any) -> str:
        """Store the election record and move "tallied" -> "published" atomically; returns the record's
        content_hash. Publishing the identical record again returns the same hash."""
        value = _as_json_value(record, "record")
        if not isinstance(value, dict):
            raise BoardInputError("an election record must be a JSON object")
        text = _json_text(value)
        record_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._write() as db:
            state = self._require_state(db, election_id, states.TALLIED, states.PUBLISHED)
            row = db.execute("SELECT record_hash FROM records WHERE election_id = ?", (election_id,)).fetchone()
            if row is not None:
                if row[0] != record_hash:
                    raise ConflictError(f"election {election_id!r} already published a different record")
                return record_hash
            now = time.time()
            db.execute(
                "INSERT INTO records (election_id, record_json, record_hash, published_at) VALUES (?, ?, ?, ?)",
                (election_id, text, record_hash, now),
            )
            if state != states.PUBLISHED:
                self._move(db, election_id, states.PUBLISHED, None, now)
        return record_hash

    def record(self, election_id: str) -> Any | None:
        """The published record, or None before publication."""
        with self._read() as db:
            self._state_of(db, election_id)
            row = db.execute("SELECT record_json FROM records WHERE election_id = ?", (election_id,)).fetchone()
        return None if row is None else json.loads(row[0])

"""Trustee messages of the key ceremony and the decryption shares."""

from __future__ import annotations

import json
import time
from typing import Any

from mixscope.server.board.canonical import _as_json_value, _json_text
from mixscope.server.board.checks import (
    _check_text,
)
from mixscope.server.board.core import BoardCore, inserted_id
from mixscope.server.board.errors import (
    ConflictError,
)
from mixscope.server.board.models import (
    TrusteeMessage,
)
from mixscope.server.election import states


class TrusteeStore(BoardCore):
    def add_trustee_message(self, election_id: str, trustee: str, kind: str, body: Any) -> TrusteeMessage:
        """Store one key-ceremony (or other) trustee message; one per (trustee, kind). Encode a recipient
        in `kind` (e.g. "share:3") when a trustee sends one message of a kind to each of several peers."""
        _check_text(trustee, "trustee", 256)
        _check_text(kind, "message kind", 200)
        text = _json_text(_as_json_value(body, "message body"))
        with self._write() as db:
            self._state_of(db, election_id)
            row = db.execute(
                "SELECT id, body_json, received_at FROM trustee_messages"
                " WHERE election_id = ? AND trustee = ? AND kind = ?",
                (election_id, trustee, kind),
            ).fetchone()
            if row is not None:
                if row[1] != text:
                    raise ConflictError(f"trustee {trustee!r} already sent a different {kind!r} message")
                return TrusteeMessage(row[0], election_id, trustee, kind, json.loads(text), row[2])
            now = time.time()
            cursor = db.execute(
                "INSERT INTO trustee_messages (election_id, trustee, kind, body_json, received_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (election_id, trustee, kind, text, now),
            )
        return TrusteeMessage(inserted_id(cursor), election_id, trustee, kind, json.loads(text), now)

    def trustee_messages(self, election_id: str, kind: str | None = None) -> list[TrusteeMessage]:
        with self._read() as db:
            self._state_of(db, election_id)
            sql = (
                "SELECT id, election_id, trustee, kind, body_json, received_at FROM trustee_messages"
                " WHERE election_id = ?"
            )
            args: tuple = (election_id,)
            if kind is not None:
                sql, args = sql + " AND kind = ?", (election_id, kind)
            rows = db.execute(sql + " ORDER BY id", args).fetchall()
        return [TrusteeMessage(i, e, t, k, json.loads(b), at) for i, e, t, k, b, at in rows]

    def add_decryption_share(self, election_id: str, trustee: str, share: Any) -> None:
        """Store a trustee's decryption share with its proofs (election in state "decrypting"); one per trustee."""
        _check_text(trustee, "trustee", 256)
        text = _json_text(_as_json_value(share, "decryption share"))
        with self._write() as db:
            self._require_state(db, election_id, states.DECRYPTING)
            row = db.execute(
                "SELECT share_json FROM decryption_shares WHERE election_id = ? AND trustee = ?", (election_id, trustee)
            ).fetchone()
            if row is not None:
                if row[0] != text:
                    raise ConflictError(f"trustee {trustee!r} already sent a different decryption share")
                return
            db.execute(
                "INSERT INTO decryption_shares (election_id, trustee, share_json, received_at) VALUES (?, ?, ?, ?)",
                (election_id, trustee, text, time.time()),
            )

    def decryption_shares(self, election_id: str) -> dict[str, Any]:
        """trustee -> share, in arrival order."""
        with self._read() as db:
            self._state_of(db, election_id)
            rows = db.execute(
                "SELECT trustee, share_json FROM decryption_shares WHERE election_id = ? ORDER BY received_at, rowid",
                (election_id,),
            ).fetchall()
        return {trustee: json.loads(text) for trustee, text in rows}

    def decryption_share_trustees(self, election_id: str) -> list[str]:
        """The trustees whose shares are stored, in arrival order (without parsing the shares)."""
        with self._read() as db:
            self._state_of(db, election_id)
            rows = db.execute(
                "SELECT trustee FROM decryption_shares WHERE election_id = ? ORDER BY received_at, rowid",
                (election_id,),
            ).fetchall()
        return [trustee for (trustee,) in rows]

"""Node identities and the append-only log of signed node messages."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from mixscope.server.board.canonical import _json_and_text
from mixscope.server.board.checks import (
    _HEX32,
    _HEX64,
    NODE_ROLES,
    _check_hex,
    _check_id,
    _check_int,
    _check_nonce,
    _check_text,
)
from mixscope.server.board.core import BoardCore, inserted_id
from mixscope.server.board.errors import (
    BoardInputError,
    ConflictError,
    NameTakenError,
    NotFoundError,
    ReplayError,
)
from mixscope.server.board.models import (
    Node,
    SignedMessage,
)


class NodeStore(BoardCore):
    def record_node(self, name: str, role: str, public_key: str) -> Node:
        """Register (or refresh) a node identity keyed by its Ed25519 public key (hex). A known key may
        change its display name but not its role; a name registered to another key is refused (NameTakenError)."""
        _check_text(name, "node name", 128)
        if role not in NODE_ROLES:
            raise BoardInputError(f"role must be one of {', '.join(sorted(NODE_ROLES))}")
        public_key = _check_hex(public_key, _HEX32, "node public key")
        now = time.time()
        with self._write() as db:
            holder = db.execute("SELECT public_key FROM nodes WHERE name = ? AND public_key != ?",
                                (name, public_key)).fetchone()
            if holder is not None:  # names are labels in the record: one name, one key
                raise NameTakenError(f"the name {name!r} is registered to another key ({holder[0][:16]}...)")
            row = db.execute("SELECT role FROM nodes WHERE public_key = ?", (public_key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO nodes (public_key, name, role, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                    (public_key, name, role, now, now),
                )
            elif row[0] != role:
                raise ConflictError(f"key {public_key[:16]}... is registered as a {row[0]}, not a {role}")
            else:
                db.execute("UPDATE nodes SET name = ?, last_seen = ? WHERE public_key = ?", (name, now, public_key))
            return Node(*db.execute(
                "SELECT public_key, name, role, first_seen, last_seen FROM nodes WHERE public_key = ?", (public_key,)
            ).fetchone())  # fmt: skip

    def node(self, public_key: str) -> Node | None:
        public_key = _check_hex(public_key, _HEX32, "node public key")
        with self._read() as db:
            row = db.execute(
                "SELECT public_key, name, role, first_seen, last_seen FROM nodes WHERE public_key = ?", (public_key,)
            ).fetchone()
        return None if row is None else Node(*row)

    def nodes(self, role: str | None = None) -> list[Node]:
        with self._read() as db:
            sql = "SELECT public_key, name, role, first_seen, last_seen FROM nodes"
            if role is None:
                rows = db.execute(sql + " ORDER BY first_seen").fetchall()
            else:
                rows = db.execute(sql + " WHERE role = ? ORDER BY first_seen", (role,)).fetchall()
        return [Node(*row) for row in rows]

    def log_signed_message(
        self,
        sender_key: str,
        nonce: str | int,
        type: str,
        body: Any,
        signature: str,
        election_id: str | None = None,
    ) -> SignedMessage:
        """Append a signed node message (already verified by the caller) to the log. The sender must be a
        recorded node; a (sender_key, nonce) seen before raises ReplayError, even with another body. A
        CanonicalJSON `body` is stored as it is (and returned as that text)."""
        sender_key = _check_hex(sender_key, _HEX32, "sender key")
        nonce = _check_nonce(nonce)
        _check_text(type, "message type", 200)
        signature = _check_hex(signature, _HEX64, "signature")
        if election_id is not None:
            _check_id(election_id, "election id")
        body, text = _json_and_text(body, "message body")
        now = time.time()
        with self._write() as db:
            if db.execute("SELECT 1 FROM nodes WHERE public_key = ?", (sender_key,)).fetchone() is None:
                raise NotFoundError(f"unknown sender key {sender_key[:16]}...: record the node first")
            try:
                cursor = db.execute(
                    "INSERT INTO signed_messages"
                    " (sender_key, nonce, type, election_id, body_json, signature, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (sender_key, nonce, type, election_id, text, signature, now),
                )
            except sqlite3.IntegrityError:
                raise ReplayError(
                    f"replayed message: nonce {nonce!r} of {sender_key[:16]}... was already used"
                ) from None
            db.execute("UPDATE nodes SET last_seen = ? WHERE public_key = ?", (now, sender_key))
        return SignedMessage(inserted_id(cursor), sender_key, nonce, type, election_id, body, signature, now)

    def signed_messages(
        self, sender_key: str | None = None, election_id: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[SignedMessage]:
        """The log in append order, filtered; page with `after_seq` = the last seq seen."""
        clauses: list[str] = ["seq > ?"]
        args: list[object] = [after_seq]
        if sender_key is not None:
            clauses.append("sender_key = ?")
            args.append(_check_hex(sender_key, _HEX32, "sender key"))
        if election_id is not None:
            clauses.append("election_id = ?")
            args.append(election_id)
        with self._read() as db:
            rows = db.execute(
                "SELECT seq, sender_key, nonce, type, election_id, body_json, signature, received_at"
                f" FROM signed_messages WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT ?",
                (*args, _check_int(limit, "limit", 1)),
            ).fetchall()
        return [SignedMessage(s, k, n, t, e, json.loads(b), sig, at) for s, k, n, t, e, b, sig, at in rows]

"""The board file: opening and migrating it, transactions, and the election state every store checks.


Stores elections and their state machine, ballots, mix stages, trustee messages, decryption shares,
results, the published record, node identities, and the append-only log of signed node messages with its
replay guard. Pure stdlib sqlite3 + platformdirs: no Tornado, no Flask, callable from any thread.

Durability: every write is one transaction committed before the call returns, with `synchronous=FULL`.
With WAL, NORMAL already survives a process crash or kill -9 (committed frames are in the OS page cache),
but a power loss can drop the last commits; a ballot whose receipt the voter holds must survive that
too, so we pay one fsync per commit (a few ms) for every write, not just ballots: mix stages, shares and
state changes are acknowledged to someone as well, and the write rate of an election is low.

Threads: one connection guarded by one lock. SQLite admits a single writer at a time anyway; the lock
turns contention between the server's loop thread and its pool into a short wait instead of SQLITE_BUSY
retries, and reads are sub-millisecond. A second process on the same file (a verifier, another server)
is handled by SQLite's own locking plus `busy_timeout`. Each write waits for an fsync, so the Tornado
loop thread should reach the board through its executor, not call writes directly.

Exactly-once: re-submitting identical content (a ballot, a mix stage, a share, a trustee message, the
result, the record) returns what the first call stored; different content for the same slot raises a
ConflictError subclass. A voter has exactly one ballot: a second, different ballot is refused
(DuplicateBallotError), never a silent replacement.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterator, Self

import platformdirs

from mixscope.server import board_schema
from mixscope.server.board.errors import BoardError, ConflictError, NotFoundError, SchemaError, StateError

DB_FILENAME = "board.sqlite3"


class BoardCore:
    """One board file. `Board(path)` opens that file; `Board(data_dir=...)` or `Board.open()` opens
    board.sqlite3 in a directory (default: the per-user data directory). Safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None):
        if path is None:
            directory = Path(data_dir) if data_dir is not None else Path(platformdirs.user_data_dir("mixscope"))
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / DB_FILENAME
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        except sqlite3.Error as exc:
            raise BoardError(f"cannot open board {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise BoardError(f"board {self.path} cannot use WAL (journal_mode is {mode})")
            conn.execute("PRAGMA synchronous = FULL")  # see the module docstring
            conn.execute("PRAGMA foreign_keys = ON")
            board_schema.migrate(conn)
        except sqlite3.OperationalError as exc:  # locked, read-only, disk I/O: the file may be fine
            conn.close()
            raise BoardError(f"cannot open board {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # "file is not a database"
            conn.close()
            raise SchemaError(f"not a Mixscope board: {self.path}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None) -> "BoardCore":
        return cls(data_dir=data_dir)

    def checkpoint(self) -> None:
        """Copy every committed transaction from the WAL into the database file and empty the WAL, so the file
        alone holds the whole board (a copy of board.sqlite3 without its -wal loses nothing)."""
        with self._lock:
            if self._conn is not None:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Checkpoint and close; the last connection closing also removes the -wal and -shm files."""
        with self._lock:
            if self._conn is not None:
                try:
                    self.checkpoint()
                except sqlite3.Error:  # busy (another process reads it): closing still keeps every commit
                    pass
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._read() as db:
            return board_schema.version_of(db)

    def integrity_check(self) -> list[str]:
        """SQLite's own consistency check: ["ok"] for a sound file, else the problems it found."""
        with self._read() as db:
            return [row[0] for row in db.execute("PRAGMA integrity_check")]

    # ---- transactions --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction, committed (durably) before the caller's result is returned."""
        with self._lock:
            db = self._connection()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise BoardError(f"board busy: {exc}") from None
            try:
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:  # a failed COMMIT may already have ended it
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.IntegrityError):
                    raise ConflictError(f"rejected by the board's constraints: {exc}") from None
                if isinstance(exc, sqlite3.Error):
                    raise BoardError(f"board write failed: {exc}") from None
                raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reads that take several statements."""
        with self._lock:
            db = self._connection()
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise BoardError("the board is closed")
        return self._conn

    @staticmethod
    def _state_of(db: sqlite3.Connection, election_id: str) -> str:
        row = db.execute("SELECT state FROM elections WHERE id = ?", (election_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no election {election_id!r}")
        return row[0]

    def _require_state(self, db: sqlite3.Connection, election_id: str, *allowed: str) -> str:
        state = self._state_of(db, election_id)
        if state not in allowed:
            raise StateError(f"election {election_id!r} is {state}, not {' or '.join(allowed)}")
        return state

    @staticmethod
    def _move(db: sqlite3.Connection, election_id: str, state: str, reason: str | None, now: float) -> None:
        db.execute(
            "UPDATE elections SET state = ?, reason = ?, updated_at = ? WHERE id = ?",
            (state, reason, now, election_id),
        )
        db.execute(
            "INSERT INTO election_events (election_id, state, reason, at) VALUES (?, ?, ?, ?)",
            (election_id, state, reason, now),
        )


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just gave its row (sqlite3 leaves lastrowid None only when nothing was inserted)."""
    if cursor.lastrowid is None:
        raise RuntimeError("the INSERT stored no row")
    return cursor.lastrowid

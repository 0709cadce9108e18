"""The bulletin board: everything an election must not lose, in one SQLite file (WAL mode).

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
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import platformdirs

from server import board_schema
from server.board_schema import BoardError, SchemaError  # noqa: F401  (re-exported)
from server.election import states
from wire.canonical import canonical_json

DB_FILENAME = "board.sqlite3"

# The election lifecycle (server/election/states.py), under the names this module always exported.
STATES = states.LIFECYCLE
FAILED = states.FAILED
FINAL_STATES = states.FINAL

NODE_ROLES = frozenset({"mixer", "trustee", "voter", "observer"})

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_HEX32 = re.compile(r"[0-9a-f]{64}")  # an Ed25519 / ristretto255 public key, a SHA-256 digest
_HEX64 = re.compile(r"[0-9a-f]{128}")  # an Ed25519 signature


# ---- errors --------------------------------------------------------------------------------------------


class BoardInputError(BoardError, ValueError):
    """An argument of the wrong type or shape (bad id, malformed JSON, non-hex key...)."""

    code = "board.invalid"


class NotFoundError(BoardError, LookupError):
    """No such election (or node)."""

    code = "board.not_found"


class StateError(BoardError):
    """The operation does not fit the election's state (a ballot after closing, a skipped transition...)."""

    code = "board.state"


class ConflictError(BoardError):
    """Different content for a slot that is already filled (idempotent retries of the same content pass)."""

    code = "board.conflict"


class DuplicateBallotError(ConflictError):
    """The voter already cast a different ballot, or this exact ballot was cast by another voter."""

    code = "board.duplicate_ballot"


class NameTakenError(ConflictError):
    """A node name already registered to another key (names label keys in the record: one each)."""

    code = "board.name_taken"


class ReplayError(ConflictError):
    """A signed message whose (sender key, nonce) was already logged."""

    code = "board.replay"


# ---- canonical JSON (the one form: wire/canonical.py) -------------------------------------------------------


def _json_text(value: Any) -> str:
    """canonical_json(value) (wire/canonical.py), with the board's error for a value that has no JSON form."""
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise BoardInputError(f"not JSON-serialisable: {exc}") from None


HASH_SPAN = 500  # list items canonicalised per json.dumps call by content_hash


def content_hash(value: Any) -> str:
    """SHA-256 (hex) of canonical_json(value): ballot tracking hashes, mix stage input/output hashes.

    A long list is canonicalised a span of items at a time (the same text: "[" + items joined by "," + "]"), so
    hashing 10,000 ciphertexts never holds the GIL, which the panel's GUI thread shares, in one long call."""
    if not isinstance(value, list) or len(value) <= HASH_SPAN:
        return hashlib.sha256(_json_text(value).encode("utf-8")).hexdigest()
    digest = hashlib.sha256(b"[")
    for start in range(0, len(value), HASH_SPAN):
        if start:
            digest.update(b",")
        digest.update(_json_text(value[start:start + HASH_SPAN])[1:-1].encode("utf-8"))
    digest.update(b"]")
    return digest.hexdigest()


class CanonicalJSON(str):
    """A JSON text already in canonical_json's form (made by a pool worker, server/signed_text.py). The board
    stores and hashes it as it is: it is never parsed or serialised again in the server process."""


def _as_json_value(value: Any, what: str) -> Any:
    """Accept a JSON-able value or a JSON text of one; return the value."""
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise BoardInputError(f"{what} is not valid JSON: {exc}") from None
    return value


def _json_and_text(value: Any, what: str) -> tuple[Any, str]:
    """(value, canonical text) of a JSON-able value or a JSON text of one; a CanonicalJSON is (itself, itself)."""
    if isinstance(value, CanonicalJSON):
        return value, str(value)
    value = _as_json_value(value, what)
    return value, _json_text(value)


def _ballot_entry(voter_id: Any, ballot: Any) -> tuple[str, str, str]:
    """(voter id, canonical ballot text, tracking hash) after the input checks add_ballot(s) share."""
    _check_text(voter_id, "voter id", 256)
    ballot = _as_json_value(ballot, "ballot")
    if not isinstance(ballot, dict):
        raise BoardInputError("a ballot must be a JSON object")
    text = _json_text(ballot)
    return voter_id, text, hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- what the board returns ----------------------------------------------------------------------------


class _JSONable:
    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class Election(_JSONable):
    id: str
    question: str
    candidates: tuple[str, ...]
    threshold: int
    trustees: int
    mixers: int
    state: str
    reason: str | None
    public_key: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Receipt(_JSONable):
    """The acknowledgement of a committed ballot; `tracking_hash` lets the voter find it in the record."""

    election_id: str
    voter_id: str
    position: int
    tracking_hash: str
    received_at: float


@dataclass(frozen=True, slots=True)
class BallotOutcome:
    """One entry of Board.add_ballots: a receipt (created: stored by this call, not a resubmission) or the
    BoardError that refused it."""

    receipt: Receipt | None
    created: bool
    error: BoardError | None


@dataclass(frozen=True, slots=True)
class StoredBallot(_JSONable):
    voter_id: str
    position: int
    ballot: Any
    tracking_hash: str
    received_at: float


@dataclass(frozen=True, slots=True)
class MixStage(_JSONable):
    id: int
    election_id: str
    index: int
    mixer: str
    status: str  # "accepted" | "rejected"
    reason: str | None
    input_hash: str
    output: Any
    output_hash: str | None
    proof: Any
    received_at: float
    mixer_key: str | None = None
    rejected_as: str | None = None  # the rejection class (mixnet/stages.py) of a rejected stage
    envelope: Any = None  # the mixer's signed response without outputs and proof (None: it never answered)

    def response(self) -> dict[str, Any] | None:
        """The mixer's signed response as it was signed, or None when nothing signed arrived."""
        if self.envelope is None:
            return None
        whole = dict(self.envelope)
        if self.output is not None:
            whole["outputs"] = self.output
        if self.proof is not None:
            whole["proof"] = self.proof
        return whole


@dataclass(frozen=True, slots=True)
class TrusteeMessage(_JSONable):
    id: int
    election_id: str
    trustee: str
    kind: str
    body: Any
    received_at: float


@dataclass(frozen=True, slots=True)
class StateChange(_JSONable):
    state: str
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Node(_JSONable):
    public_key: str
    name: str
    role: str
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class SignedMessage(_JSONable):
    seq: int
    sender_key: str
    nonce: str
    type: str
    election_id: str | None
    body: Any
    signature: str
    received_at: float


# ---- argument checks -----------------------------------------------------------------------------------


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BoardInputError(f"{what} must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def _check_text(value: Any, what: str, max_len: int = 1000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise BoardInputError(f"{what} must be a non-empty string of at most {max_len} characters")
    return value


def _check_int(value: Any, what: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BoardInputError(f"{what} must be an integer >= {minimum}")
    return value


def _check_hex(value: Any, pattern: re.Pattern[str], what: str) -> str:
    """Hex text of the length `pattern` fixes, returned lower-cased (so one key has one spelling)."""
    if isinstance(value, str):
        value = value.lower()
        if pattern.fullmatch(value):
            return value
    digits = 64 if pattern is _HEX32 else 128
    raise BoardInputError(f"{what} must be {digits} hex digits")


def _check_nonce(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise BoardInputError("nonce must be a string of 1-128 characters or an integer")
    return value


# ---- the board -----------------------------------------------------------------------------------------


class Board:
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
    def open(cls, data_dir: str | os.PathLike[str] | None = None) -> "Board":
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

    def __enter__(self) -> "Board":
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

    # ---- elections -----------------------------------------------------------------------------------

    def create_election(
        self, election_id: str, question: str, candidates: list[str], threshold: int, trustees: int, mixers: int
    ) -> Election:
        """Create an election in state "created". Creating it again with the same parameters returns it."""
        _check_id(election_id, "election id")
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
                if tuple(row) != params:
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
            return self._election(db, election_id)

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
        if state not in STATES and state != FAILED:
            raise BoardInputError(f"unknown state {state!r}; states are {', '.join(STATES)}, {FAILED}")
        if state == FAILED:
            _check_text(reason, "the reason for failing")
        elif reason is not None:
            _check_text(reason, "reason")
        with self._write() as db:
            current = self._state_of(db, election_id)
            if current == state:
                return self._election(db, election_id)
            if current in FINAL_STATES:
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

    # ---- ballots -------------------------------------------------------------------------------------

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

    # ---- mixing --------------------------------------------------------------------------------------

    _STAGE_COLUMNS = (
        "id, election_id, stage_index, mixer, status, reason, input_hash,"
        " output_json, output_hash, proof_json, received_at, mixer_key, rejected_as, envelope_json"
    )

    @staticmethod
    def _stage_from_row(row: tuple) -> MixStage:
        sid, eid, index, mixer, status, reason, input_hash, output, output_hash, proof, at, key, cls, envelope = row
        return MixStage(
            sid, eid, index, mixer, status, reason, input_hash,
            None if output is None else json.loads(output), output_hash,
            None if proof is None else json.loads(proof), at, key, cls,
            None if envelope is None else json.loads(envelope),
        )  # fmt: skip

    def add_mix_stage(
        self,
        election_id: str,
        index: int,
        mixer: str,
        status: str,
        *,
        input_hash: str,
        output: Any = None,
        proof: Any = None,
        reason: str | None = None,
        mixer_key: str | None = None,
        rejected_as: str | None = None,
        envelope: Any = None,
    ) -> MixStage:
        """Record one mix stage attempt (election in state "mixing").

        Accepted stages (output and proof required) form a chain: stage i is accepted only after stage
        i-1, and for i > 0 its `input_hash` must equal content_hash of stage i-1's output — so a resumed
        mix cannot fork. Rejected stages (reason required) are kept as evidence. Re-recording an accepted
        stage with the same output hash returns the stored one. `output` and `proof` may be given as
        CanonicalJSON text: stored as they are, and returned as that text."""
        _check_int(index, "stage index", 0)
        _check_text(mixer, "mixer", 256)
        input_hash = _check_hex(input_hash, _HEX32, "input hash")
        if status == "accepted":
            if output is None or proof is None:
                raise BoardInputError("an accepted mix stage needs its output and its proof")
            if reason is not None:
                _check_text(reason, "reason")
        elif status == "rejected":
            _check_text(reason, "the reason for rejecting a mix stage")
        else:
            raise BoardInputError("status must be 'accepted' or 'rejected'")
        if mixer_key is not None:
            mixer_key = _check_hex(mixer_key, _HEX32, "mixer key")
        if rejected_as is not None:
            _check_text(rejected_as, "rejection class", 40)
        envelope, envelope_json = (None, None) if envelope is None else _json_and_text(envelope, "response")
        output, output_json = (None, None) if output is None else _json_and_text(output, "output")
        proof, proof_json = (None, None) if proof is None else _json_and_text(proof, "proof")
        output_hash = None if output_json is None else hashlib.sha256(output_json.encode("utf-8")).hexdigest()
        with self._write() as db:
            self._require_state(db, election_id, states.MIXING)
            if status == "accepted":
                existing = db.execute(
                    f"SELECT {self._STAGE_COLUMNS} FROM mix_stages"
                    " WHERE election_id = ? AND stage_index = ? AND status = 'accepted'",
                    (election_id, index),
                ).fetchone()
                if existing is not None:
                    stage = self._stage_from_row(existing)
                    if stage.output_hash == output_hash and stage.input_hash == input_hash:
                        return stage
                    raise ConflictError(f"stage {index} of {election_id!r} is already accepted with another output")
                previous = db.execute(
                    "SELECT stage_index, output_hash FROM mix_stages WHERE election_id = ? AND status = 'accepted'"
                    " ORDER BY stage_index DESC LIMIT 1",
                    (election_id,),
                ).fetchone()
                expected = 0 if previous is None else previous[0] + 1
                if index != expected:
                    raise StateError(f"stage {index} of {election_id!r} is out of order: the next stage is {expected}")
                if previous is not None and input_hash != previous[1]:
                    raise StateError(f"stage {index}'s input is not the output of accepted stage {previous[0]}")
            now = time.time()
            cursor = db.execute(
                "INSERT INTO mix_stages (election_id, stage_index, mixer, status, reason, input_hash, output_json,"
                " output_hash, proof_json, received_at, mixer_key, rejected_as, envelope_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (election_id, index, mixer, status, reason, input_hash,
                 output_json, output_hash, proof_json, now, mixer_key, rejected_as, envelope_json),
            )
        # What was stored, without parsing megabytes of it back (that held the GIL the panel shares ~40 ms).
        return MixStage(cursor.lastrowid, election_id, index, mixer, status, reason, input_hash, output, output_hash,
                        proof, now, mixer_key, rejected_as, envelope)

    def mix_stages(self, election_id: str, accepted_only: bool = False) -> list[MixStage]:
        """Mix stage attempts in the order they were recorded."""
        where = "election_id = ?" + (" AND status = 'accepted'" if accepted_only else "")
        with self._read() as db:
            self._state_of(db, election_id)
            query = f"SELECT {self._STAGE_COLUMNS} FROM mix_stages WHERE {where} ORDER BY id"
            rows = db.execute(query, (election_id,)).fetchall()
        return [self._stage_from_row(row) for row in rows]

    def mix_stage_summaries(self, election_id: str) -> list[dict[str, Any]]:
        """Each stage attempt without its output and proof (megabytes of JSON at 10,000 ballots): index,
        mixer, status, reason and how many ciphertexts it output. Cheap enough to poll."""
        with self._read() as db:
            self._state_of(db, election_id)
            rows = db.execute(
                "SELECT stage_index, mixer, status, reason,"
                " CASE WHEN json_type(output_json) = 'array' THEN json_array_length(output_json) END, rejected_as"
                " FROM mix_stages WHERE election_id = ? ORDER BY id",
                (election_id,),
            ).fetchall()
        return [{"index": i, "mixer": m, "status": st, "reason": r, "count": n, "class": c}
                for i, m, st, r, n, c in rows]

    def next_mix_index(self, election_id: str) -> int:
        """The index of the next stage to accept: where a restarted mix resumes."""
        with self._read() as db:
            self._state_of(db, election_id)
            return db.execute(
                "SELECT count(*) FROM mix_stages WHERE election_id = ? AND status = 'accepted'", (election_id,)
            ).fetchone()[0]

    def last_accepted_output(self, election_id: str) -> Any | None:
        """The output of the latest accepted stage (the input of the next one), or None before the first."""
        with self._read() as db:
            self._state_of(db, election_id)
            row = db.execute(
                "SELECT output_json FROM mix_stages WHERE election_id = ? AND status = 'accepted'"
                " ORDER BY stage_index DESC LIMIT 1",
                (election_id,),
            ).fetchone()
        return None if row is None else json.loads(row[0])

    # ---- trustees ------------------------------------------------------------------------------------

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
        return TrusteeMessage(cursor.lastrowid, election_id, trustee, kind, json.loads(text), now)

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

    # ---- result and record ---------------------------------------------------------------------------

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

    # ---- node identities and signed messages ---------------------------------------------------------

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
        return SignedMessage(cursor.lastrowid, sender_key, nonce, type, election_id, body, signature, now)

    def signed_messages(
        self, sender_key: str | None = None, election_id: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[SignedMessage]:
        """The log in append order, filtered; page with `after_seq` = the last seq seen."""
        clauses, args = ["seq > ?"], [after_seq]
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

"""The bulletin board's SQLite schema as an ordered list of forward-only migration steps.

`PRAGMA user_version` holds the number of steps applied. A step, once shipped, is never edited: a change
to the schema is a new step appended to MIGRATIONS. Each step runs in its own transaction together with
the version bump, so a crash mid-migration leaves the file at the previous version, never half-migrated.
`PRAGMA application_id` marks the file as ours so that opening some other SQLite file fails clearly.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

APPLICATION_ID = 0x4D495853  # "MIXS"


class BoardError(Exception):
    """Base of every error the bulletin board raises; `code` is a stable name for typed replies."""

    code = "board.error"


class SchemaError(BoardError):
    """The file is not a Mixscope board, or was written by a newer Mixscope than this one."""

    code = "board.schema"


class Migration(NamedTuple):
    version: int  # user_version after this step
    title: str
    statements: tuple[str, ...]  # run one by one (executescript would commit behind our back)


_V1_CORE = (
    """CREATE TABLE elections (
        id TEXT PRIMARY KEY,
        question TEXT NOT NULL,
        candidates_json TEXT NOT NULL,
        threshold INTEGER NOT NULL,
        trustees INTEGER NOT NULL,
        mixers INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    ) STRICT""",
    # One ballot per voter; `position` is the per-election arrival order that mixing starts from. The
    # tracking hash is unique too: a ballot copied from another voter would leak how that voter voted.
    """CREATE TABLE ballots (
        election_id TEXT NOT NULL REFERENCES elections(id),
        voter_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        ballot_json TEXT NOT NULL,
        tracking_hash TEXT NOT NULL,
        received_at REAL NOT NULL,
        PRIMARY KEY (election_id, voter_id),
        UNIQUE (election_id, position),
        UNIQUE (election_id, tracking_hash)
    ) STRICT""",
    """CREATE TRIGGER ballots_no_update BEFORE UPDATE ON ballots
        BEGIN SELECT RAISE(ABORT, 'ballots are append-only'); END""",
    """CREATE TRIGGER ballots_no_delete BEFORE DELETE ON ballots
        BEGIN SELECT RAISE(ABORT, 'ballots are append-only'); END""",
    # Every attempt is kept (rejected ones explain why); at most one accepted stage per index.
    """CREATE TABLE mix_stages (
        id INTEGER PRIMARY KEY,
        election_id TEXT NOT NULL REFERENCES elections(id),
        stage_index INTEGER NOT NULL,
        mixer TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        reason TEXT,
        input_hash TEXT NOT NULL,
        output_json TEXT,
        output_hash TEXT,
        proof_json TEXT,
        received_at REAL NOT NULL
    ) STRICT""",
    """CREATE UNIQUE INDEX mix_stages_one_accepted ON mix_stages (election_id, stage_index)
        WHERE status = 'accepted'""",
    """CREATE TABLE trustee_messages (
        id INTEGER PRIMARY KEY,
        election_id TEXT NOT NULL REFERENCES elections(id),
        trustee TEXT NOT NULL,
        kind TEXT NOT NULL,
        body_json TEXT NOT NULL,
        received_at REAL NOT NULL,
        UNIQUE (election_id, trustee, kind)
    ) STRICT""",
    """CREATE TABLE decryption_shares (
        election_id TEXT NOT NULL REFERENCES elections(id),
        trustee TEXT NOT NULL,
        share_json TEXT NOT NULL,
        received_at REAL NOT NULL,
        PRIMARY KEY (election_id, trustee)
    ) STRICT""",
    """CREATE TABLE results (
        election_id TEXT PRIMARY KEY REFERENCES elections(id),
        result_json TEXT NOT NULL,
        created_at REAL NOT NULL
    ) STRICT""",
    """CREATE TABLE records (
        election_id TEXT PRIMARY KEY REFERENCES elections(id),
        record_json TEXT NOT NULL,
        record_hash TEXT NOT NULL,
        published_at REAL NOT NULL
    ) STRICT""",
)

_V2_NODES = (
    """CREATE TABLE nodes (
        public_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
    ) STRICT""",
    # The append-only log of signed node messages. UNIQUE (sender_key, nonce) is the replay guard: the
    # server verifies signatures, the board guarantees that no (sender, nonce) is accepted twice.
    """CREATE TABLE signed_messages (
        seq INTEGER PRIMARY KEY,
        sender_key TEXT NOT NULL REFERENCES nodes(public_key),
        nonce TEXT NOT NULL,
        type TEXT NOT NULL,
        election_id TEXT,
        body_json TEXT NOT NULL,
        signature TEXT NOT NULL,
        received_at REAL NOT NULL,
        UNIQUE (sender_key, nonce)
    ) STRICT""",
    """CREATE TRIGGER signed_messages_no_update BEFORE UPDATE ON signed_messages
        BEGIN SELECT RAISE(ABORT, 'signed messages are append-only'); END""",
    """CREATE TRIGGER signed_messages_no_delete BEFORE DELETE ON signed_messages
        BEGIN SELECT RAISE(ABORT, 'signed messages are append-only'); END""",
)

_V3_KEYS_AND_HISTORY = (
    # The joint public key from the key ceremony: needed to resume voting after a restart.
    "ALTER TABLE elections ADD COLUMN public_key TEXT",
    """CREATE TABLE election_events (
        id INTEGER PRIMARY KEY,
        election_id TEXT NOT NULL REFERENCES elections(id),
        state TEXT NOT NULL,
        reason TEXT,
        at REAL NOT NULL
    ) STRICT""",
    "CREATE INDEX election_events_by_election ON election_events (election_id, id)",
    # Elections from an older file start their history at the state they were in.
    """INSERT INTO election_events (election_id, state, reason, at)
        SELECT id, state, reason, updated_at FROM elections ORDER BY created_at""",
)

_V4_SIGNED_STAGES = (
    # Record version 3: a stage names its mixer's key and, when rejected, its class (mixnet/stages.py); the
    # mixer's signed response is kept whole: outputs and proof in their columns, every other field here.
    "ALTER TABLE mix_stages ADD COLUMN mixer_key TEXT",
    "ALTER TABLE mix_stages ADD COLUMN rejected_as TEXT",
    "ALTER TABLE mix_stages ADD COLUMN envelope_json TEXT",
)

_V5_TEXT_CHUNKS = (
    # A long text (a stage's outputs or proof: megabytes at 100,000 ballots) is kept as rows of bounded size
    # (server/board/chunks.py); its own column then holds NULL. output_count keeps a stage's list length.
    """CREATE TABLE text_chunks (
        owner TEXT NOT NULL,
        owner_id INTEGER NOT NULL,
        field TEXT NOT NULL,
        piece INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (owner, owner_id, field, piece)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TRIGGER text_chunks_no_update BEFORE UPDATE ON text_chunks
        BEGIN SELECT RAISE(ABORT, 'stored texts are append-only'); END""",
    "ALTER TABLE mix_stages ADD COLUMN output_count INTEGER",
)

_V6_CREDENTIALS = (
    # The public credentials of an election's voters (mixnet/credentials.py): fixed at creation.
    """CREATE TABLE credentials (
        election_id TEXT NOT NULL REFERENCES elections(id),
        credential TEXT NOT NULL,
        PRIMARY KEY (election_id, credential)
    ) STRICT, WITHOUT ROWID""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "elections, ballots, mix stages, trustee messages, shares, results, records", _V1_CORE),
    Migration(2, "node identities and the signed message log with its replay guard", _V2_NODES),
    Migration(3, "election public key and state history", _V3_KEYS_AND_HISTORY),
    Migration(
        4, "mix stages keep the mixer's key, the rejection class and the whole signed response", _V4_SIGNED_STAGES
    ),
    Migration(5, "long texts (a stage's outputs and proof) stored as rows of bounded size", _V5_TEXT_CHUNKS),
    Migration(6, "the public credential list of each election", _V6_CREDENTIALS),
)
LATEST_VERSION = MIGRATIONS[-1].version


def version_of(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def check_ours(conn: sqlite3.Connection) -> None:
    """Refuse files that are some other application's database."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id == APPLICATION_ID:
        return
    if app_id != 0:
        raise SchemaError(f"not a Mixscope board (application_id {app_id:#x})")
    if version_of(conn) != 0 or conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
        raise SchemaError("not a Mixscope board (an SQLite file with other tables)")


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Apply the missing steps up to `target` and return the version reached. `conn` must be in autocommit
    mode (isolation_level=None); each step is one IMMEDIATE transaction, re-checked under its write lock
    so two processes opening the same new file do not both migrate it."""
    if target > LATEST_VERSION:
        raise SchemaError(f"no schema version {target}; the latest is {LATEST_VERSION}")
    check_ours(conn)
    current = version_of(conn)
    if current > LATEST_VERSION:
        raise SchemaError(
            f"board schema version {current} is newer than this Mixscope understands ({LATEST_VERSION})"
        )
    for step in MIGRATIONS:
        if step.version > target:
            break
        if step.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = version_of(conn)  # another process may have migrated while we waited for the lock
            if step.version > current:
                if step.version == 1:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step.version}")
                current = step.version
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise SchemaError(f"migration to schema version {step.version} ({step.title}) failed: {exc}") from None
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return current

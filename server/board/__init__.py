"""The bulletin board: everything an election must not lose, in one SQLite file (WAL mode).

`Board` is one file with every store: elections and their state machine (elections.py), ballots
(ballots.py), mix stages and their chunked lists (stages.py), trustee messages and decryption shares
(trustees.py), the result and the published record (results.py), node identities and the signed message log
(nodes.py). core.py opens the file and holds the transactions; errors.py, canonical.py, models.py and
checks.py are the errors, the canonical text form, the returned dataclasses and the argument checks the
stores share. Pure stdlib sqlite3 + platformdirs: no Tornado, no Flask, callable from any thread.
Durability, threading and exactly-once rules: core.py.
"""

from __future__ import annotations

from mixscope.server.board.ballots import BallotStore
from mixscope.server.board.canonical import HASH_SPAN, CanonicalJSON, canonical_json, content_hash
from mixscope.server.board.checks import NODE_ROLES
from mixscope.server.board.core import DB_FILENAME, BoardCore
from mixscope.server.board.errors import (
    BoardError,
    BoardInputError,
    ConflictError,
    DuplicateBallotError,
    NameTakenError,
    NotFoundError,
    ReplayError,
    SchemaError,
    StateError,
)
from mixscope.server.board.models import (
    BallotOutcome,
    Election,
    MixStage,
    Node,
    Receipt,
    SignedMessage,
    StateChange,
    StoredBallot,
    TrusteeMessage,
)
from mixscope.server.board.nodes import NodeStore
from mixscope.server.board.results import ResultStore
from mixscope.server.board.stages import StageStore
from mixscope.server.board.trustees import TrusteeStore
from mixscope.server.election import states

# The election lifecycle (server/election/states.py), under the names this module always exported.
STATES = states.LIFECYCLE
FAILED = states.FAILED
FINAL_STATES = states.FINAL


class Board(ResultStore, BallotStore, StageStore, TrusteeStore, NodeStore, BoardCore):
    """One board file. `Board(path)` opens that file; `Board(data_dir=...)` or `Board.open()` opens
    board.sqlite3 in a directory (default: the per-user data directory). Safe to share between threads."""


__all__ = [
    "Board", "BoardCore", "DB_FILENAME", "STATES", "FAILED", "FINAL_STATES", "NODE_ROLES", "HASH_SPAN",
    "CanonicalJSON", "canonical_json", "content_hash",
    "BoardError", "BoardInputError", "ConflictError", "DuplicateBallotError", "NameTakenError", "NotFoundError",
    "ReplayError", "SchemaError", "StateError",
    "BallotOutcome", "Election", "MixStage", "Node", "Receipt", "SignedMessage", "StateChange", "StoredBallot",
    "TrusteeMessage",
]

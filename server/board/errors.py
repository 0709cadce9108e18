"""The board's typed errors: each has a stable `code` for typed replies."""

from __future__ import annotations

from mixscope.server.board_schema import BoardError, SchemaError  # noqa: F401  (re-exported)


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

"""What the board returns: frozen dataclasses, each with `to_json()`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mixscope.server.board.errors import BoardError


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

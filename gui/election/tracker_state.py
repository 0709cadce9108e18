"""What the panel knows about the current election, folded from "election.*" events (or a saved record).

Plain Python, no Qt (tests/test_boundaries.py keeps it so): `ElectionState` folds events, status replies and
records into one `ElectionInfo` (the latest election seen) and says whether anything changed. The Qt side,
`gui/election/tracker.py`, is a thin adapter that turns "changed" into a signal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from mixscope.server.election import states
from mixscope.wire.events import Event

FINAL_STATES = states.FINAL  # the election lifecycle is server/election/states.py

# A cascade stage's picture states, in the order a healthy stage goes through them.
STAGE_STATES = ("waiting", "receiving", "shuffling", "proving", "verifying", "verified", "rejected")

# Node progress phases are named after mixnet's kernels (client/progress.py); what the mixer is doing then.
_PHASE_STATE = {"reencrypt": "shuffling", "generator": "proving", "commit": "proving", "challenge": "proving",
                "prove": "proving", "sum": "proving", "verify": "verifying"}
_STATUS_STATE = {"running": "receiving", "verifying": "verifying", "accepted": "verified", "rejected": "rejected"}


@dataclass
class StageInfo:
    """One mix stage (or the trustees' keygen/decrypt work) as drawn in the cascade."""

    index: int
    name: str
    state: str = "waiting"
    reason: str = ""
    phase: str = ""
    done: int = 0
    total: int = 0
    count: int = 0               # ciphertexts in this stage
    seconds: float | None = None  # the stage's duration, once the server reports it
    started: float | None = None  # monotonic time of the first sign of work (for the ETA)
    phase_started: float | None = None

    @property
    def fraction(self) -> float:
        if self.state in ("verified", "rejected"):
            return 1.0
        return self.done / self.total if self.total else 0.0

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left in the current phase, extrapolated from its progress so far (None: unknown)."""
        if self.phase_started is None or not self.total or not self.done or self.state in ("verified", "rejected"):
            return None
        elapsed = (now if now is not None else time.monotonic()) - self.phase_started
        return max(0.0, elapsed * (self.total - self.done) / self.done)

    @property
    def throughput(self) -> float | None:
        """Ciphertexts per second over the whole stage (shuffle, prove and server-side verification)."""
        return self.count / self.seconds if self.seconds and self.count else None


@dataclass
class ElectionInfo:
    election_id: str = ""
    question: str = ""
    candidates: list[str] = field(default_factory=list)
    threshold: int = 0
    trustees: int = 0
    mixers: list[str] = field(default_factory=list)
    state: str = ""
    reason: str = ""
    ballots: int = 0
    stages: list[StageInfo] = field(default_factory=list)
    keygen: StageInfo = field(default_factory=lambda: StageInfo(-1, "key ceremony"))
    decrypt: StageInfo = field(default_factory=lambda: StageInfo(-1, "trustees"))
    counts: list[int] | None = None
    invalid: int = 0  # decrypted outputs that encode no candidate
    checks: list[dict[str, Any]] | None = None  # [{name, ok, reason}]
    verified: bool | None = None
    tally: str = "mixnet"  # or "homomorphic": no cascade, the ballots are summed

    @property
    def rejected(self) -> list[StageInfo]:
        return [s for s in self.stages if s.state == "rejected"]


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def checks_json(checks: Iterable[Any]) -> list[dict[str, Any]]:
    """Checks as plain dicts, from mixnet.verifier.Check tuples, [name, ok, reason] lists or dicts."""
    out = []
    for check in checks:
        if isinstance(check, dict):
            out.append({"name": str(check.get("name", "")), "ok": bool(check.get("ok")),
                        "reason": str(check.get("reason", ""))})
        elif isinstance(check, (list, tuple)) and len(check) >= 3:
            out.append({"name": str(check[0]), "ok": bool(check[1]), "reason": str(check[2])})
    return out


class ElectionState:
    """The fold itself: each method returns whether `info` changed (the adapter then emits once)."""

    def __init__(self) -> None:
        self.info = ElectionInfo()
        self.read_only = False  # a saved session: live events are ignored

    # --- live events ---------------------------------------------------------------------------------------
    def apply_events(self, events: Iterable[Event]) -> bool:
        if self.read_only:
            return False
        touched = False
        for event in events:
            if event.kind.startswith("election."):
                touched |= self.apply(event.kind, event.data)
        return touched

    def apply(self, kind: str, data: dict[str, Any]) -> bool:
        election_id = str(data.get("election_id") or "")
        if election_id and election_id != self.info.election_id:
            if kind != "election.state":
                return False  # stray news of an older election
            self.info = ElectionInfo(election_id=election_id)
        info = self.info
        if kind == "election.state":
            info.state, info.reason = str(data.get("state") or ""), str(data.get("reason") or "")
        elif kind == "election.ballot":
            info.ballots = max(info.ballots, _int(data.get("count")))
        elif kind == "election.stage":
            self._apply_stage(data)
        elif kind == "election.progress":
            self._apply_progress(data)
        elif kind == "election.result":
            info.counts = [_int(c) for c in data.get("counts") or []]
            info.invalid = _int(data.get("invalid"))
            if data.get("candidates"):
                info.candidates = [str(c) for c in data["candidates"]]
        elif kind == "election.verified":
            info.verified = bool(data.get("ok"))
            info.checks = checks_json(data.get("checks") or [])
        else:
            return False
        return True

    def stage(self, index: int, mixer: str = "") -> StageInfo:
        stages = self.info.stages
        while len(stages) <= index:
            position = len(stages)
            names = self.info.mixers
            stages.append(StageInfo(position, names[position] if position < len(names) else f"stage {position + 1}"))
        if mixer:
            stages[index].name = mixer
        return stages[index]

    def _apply_stage(self, data: dict[str, Any]) -> None:
        index = _int(data.get("stage"), -1)
        if index < 0:
            return
        stage = self.stage(index, str(data.get("mixer") or ""))
        status = str(data.get("status") or "")
        if status == "running" and stage.state in ("shuffling", "proving"):
            pass  # a late "running" must not undo progress we already saw
        else:
            stage.state = _STATUS_STATE.get(status, stage.state)
        if status in ("running", "verifying") and stage.started is None:
            stage.started = time.monotonic()
        if status == "verifying":
            stage.phase, stage.done, stage.total, stage.phase_started = "verify", 0, 0, None
        if status == "rejected":  # the rejection class (docs/verifier.md §4.1) first: what kind of refusal
            reason, klass = str(data.get("reason") or ""), str(data.get("class") or "")
            stage.reason = f"{klass}: {reason}" if klass and not reason.startswith(klass) else reason
        if isinstance(data.get("seconds"), (int, float)):
            stage.seconds = float(data["seconds"])
        if _int(data.get("count")):
            stage.count = _int(data.get("count"))

    def _apply_progress(self, data: dict[str, Any]) -> None:
        task = data.get("task")
        if task == "mix":
            index, node = _int(data.get("stage"), -1), str(data.get("node") or "")
            if index < 0:  # nodes need not say which stage: it is the one the server gave this node last
                index = next((s.index for s in reversed(self.info.stages) if s.name == node), -1)
            if index < 0:
                return
            stage = self.stage(index, node)
            if stage.state in ("verified", "rejected"):
                return
            phase_state = _PHASE_STATE.get(str(data.get("phase") or ""))
            if phase_state and not (stage.state == "verifying" and phase_state != "verifying"):
                stage.state = phase_state
        elif task in ("keygen", "decrypt"):
            stage = self.info.keygen if task == "keygen" else self.info.decrypt
            stage.state = "receiving" if stage.state == "waiting" else stage.state
            stage.name = str(data.get("node") or stage.name)
        else:
            return
        phase = str(data.get("phase") or "")
        now = time.monotonic()
        if phase != stage.phase or stage.phase_started is None:
            stage.phase, stage.phase_started = phase, now
        if stage.started is None:
            stage.started = now
        stage.done, stage.total = _int(data.get("done")), _int(data.get("total"))

    # --- snapshots -----------------------------------------------------------------------------------------
    def load_status(self, status: dict[str, Any]) -> bool:
        """Fill in from an "election.status" reply (whatever fields it has), keeping live stage detail."""
        if not isinstance(status, dict):
            return False
        nested = status.get("election")
        election = nested if isinstance(nested, dict) else status
        election_id = str(election.get("election_id") or election.get("id") or "")
        if not election_id:
            return False
        if election_id != self.info.election_id:
            self.info = ElectionInfo(election_id=election_id)
        info = self.info
        info.question = str(election.get("question") or info.question)
        if isinstance(election.get("candidates"), list):
            info.candidates = [str(c) for c in election["candidates"]]
        info.threshold = _int(election.get("threshold"), info.threshold)
        trustees = election.get("trustees")
        info.trustees = len(trustees) if isinstance(trustees, list) else _int(trustees, info.trustees)
        lab = status.get("lab")
        if not isinstance(lab, dict):
            lab = {}
        info.tally = str(lab.get("tally") or election.get("tally") or info.tally)
        mixers = [] if info.tally == "homomorphic" else election.get("mixers")
        if isinstance(mixers, list):
            info.mixers = [str(m.get("name", m)) if isinstance(m, dict) else str(m) for m in mixers]
        elif _int(mixers) and len(info.mixers) != _int(mixers):  # a count: placeholder cards until stages name them
            info.mixers = [f"mixer {k + 1}" for k in range(_int(mixers))]
        info.state = str(status.get("state") or election.get("state") or info.state)
        info.reason = str(status.get("reason") or election.get("reason") or info.reason or "")
        ballots = status.get("ballots", election.get("ballots"))
        info.ballots = _int(ballots, len(ballots) if isinstance(ballots, list) else info.ballots)
        for position, stage in enumerate(status.get("stages") or status.get("mix") or []):
            if isinstance(stage, dict):
                self._apply_stage({"stage": _int(stage.get("stage", stage.get("index")), position),
                                   "mixer": stage.get("mixer"), "status": stage.get("status"),
                                   "reason": stage.get("reason"), "class": stage.get("class"),
                                   "seconds": stage.get("seconds"),
                                   "count": stage.get("count")})
        result = status.get("result")
        if isinstance(result, dict) and isinstance(result.get("counts"), list):
            info.counts = [_int(c) for c in result["counts"]]
            info.invalid = _int(result.get("invalid"))
        elif isinstance(status.get("counts"), list):
            info.counts = [_int(c) for c in status["counts"]]
            info.invalid = _int(status.get("invalid"))
        return True

    def load_record(self, record: dict[str, Any]) -> None:
        """Show a published record read-only: stages, result; the checks arrive later via `set_checks`."""
        self.read_only = True
        election = record.get("election")
        if not isinstance(election, dict):
            election = {}
        info = ElectionInfo(election_id=str(election.get("id") or ""), question=str(election.get("question") or ""),
                            candidates=[str(c) for c in election.get("candidates") or []],
                            threshold=_int(election.get("threshold")), trustees=_int(election.get("trustees")),
                            state=states.PUBLISHED, tally=str(election.get("tally") or "mixnet"))
        ballots = record.get("ballots")
        info.ballots = len(ballots) if isinstance(ballots, list) else 0
        names = {n.get("key"): n.get("name") for n in record.get("nodes") or [] if isinstance(n, dict)}
        for position, stage in enumerate(record.get("mix") or []):
            if not isinstance(stage, dict):
                continue
            response = stage.get("response")
            if not isinstance(response, dict):
                response = {}
            outputs = response.get("outputs")
            klass, reason = str(stage.get("class") or ""), str(stage.get("reason") or "")
            info.stages.append(StageInfo(
                position, str(names.get(stage.get("mixer")) or stage.get("mixer") or f"stage {position + 1}"),
                "verified" if stage.get("status") == "accepted" else "rejected",
                reason=f"{klass}: {reason}" if klass else reason,
                count=len(outputs) if isinstance(outputs, list) else 0))
        info.mixers = [s.name for s in info.stages]
        decryption = record.get("decryption")
        partials = decryption.get("partials") if isinstance(decryption, dict) else None
        if isinstance(partials, list) and partials:
            info.decrypt.state = "verified"
        info.keygen.state = "verified" if record.get("trustees") else "waiting"
        result = record.get("result")
        if isinstance(result, dict) and isinstance(result.get("counts"), list):
            info.counts = [_int(c) for c in result["counts"]]
            info.invalid = _int(result.get("invalid"))
        self.info = info

    def set_checks(self, checks: Iterable[Any]) -> None:
        self.info.checks = checks_json(checks)
        self.info.verified = bool(self.info.checks) and all(c["ok"] for c in self.info.checks)

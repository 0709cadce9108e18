"""The election lifecycle in one place: its states, the moves between them, and which step may run (or
resume) in which state. The board enforces the moves, the coordinator and the web pages check the steps, and
the panel enables its buttons from the same table, so they cannot drift apart. Pure: no I/O, no Qt.
"""

from __future__ import annotations

CREATED = "created"
KEY_CEREMONY = "key_ceremony"
VOTING = "voting"
CLOSED = "closed"
MIXING = "mixing"
DECRYPTING = "decrypting"
TALLIED = "tallied"
PUBLISHED = "published"
FAILED = "failed"

# The lifecycle, in order; any state that is not final may also go to FAILED (with a reason).
LIFECYCLE: tuple[str, ...] = (CREATED, KEY_CEREMONY, VOTING, CLOSED, MIXING, DECRYPTING, TALLIED, PUBLISHED)
ALL: frozenset[str] = frozenset({*LIFECYCLE, FAILED})
FINAL: frozenset[str] = frozenset({PUBLISHED, FAILED})
NEXT: dict[str, str] = dict(zip(LIFECYCLE, LIFECYCLE[1:]))

# The steps (bridge actions "election.<step>") and the states each may run in. A step whose states include
# the one it moves to is resumable: a restart in the middle leaves the election there, and the same step
# picks up from what the board holds.
KEYGEN, VOTE, CLOSE, MIX, DECRYPT, PUBLISH = "keygen", "vote", "close", "mix", "decrypt", "publish"
RUNS_IN: dict[str, frozenset[str]] = {
    KEYGEN: frozenset({CREATED, KEY_CEREMONY}),
    VOTE: frozenset({VOTING}),  # the board takes new ballots only while voting
    CLOSE: frozenset({VOTING}),
    MIX: frozenset({CLOSED, MIXING}),
    DECRYPT: frozenset({DECRYPTING}),  # a finished cascade leaves the election decrypting
    PUBLISH: frozenset({TALLIED, PUBLISHED}),  # publishing again re-verifies and re-stores the same record
}
# A state a restart can leave behind mid-step -> the step that resumes it.
RESUMED_BY: dict[str, str] = {KEY_CEREMONY: KEYGEN, MIXING: MIX, DECRYPTING: DECRYPT, TALLIED: PUBLISH}


def can_move(current: str, target: str) -> bool:
    """Whether the board may move an election from `current` to `target` (staying put is always allowed)."""
    if current == target:
        return True
    if current in FINAL:
        return False
    return target == FAILED or NEXT.get(current) == target


def may_run(step: str, state: str) -> bool:
    return state in RUNS_IN[step]


def runs_in(step: str) -> tuple[str, ...]:
    """The states `step` may run in, in lifecycle order (for messages)."""
    return tuple(state for state in LIFECYCLE if state in RUNS_IN[step])

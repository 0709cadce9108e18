"""Which election actions the panel offers in which election state. Pure: tested as a table.

The server refuses out-of-order calls anyway (board StateError); this only keeps buttons honest, so a
presenter never clicks something that would just fail.
"""

from __future__ import annotations

from mixscope.server.election import states

# action objectName -> election states in which it may run (server running, no call in flight), from the one
# lifecycle table (server/election/states.py). A step that a restart interrupted (key_ceremony, mixing, ...)
# stays enabled, so the panel can resume it.
BY_STATE: dict[str, frozenset[str]] = {
    "action_election_spawn": states.RUNS_IN[states.KEYGEN],  # the ceremony's trustees (and the mixers)
    "action_election_keygen": states.RUNS_IN[states.KEYGEN],
    "action_election_voters": states.RUNS_IN[states.VOTE],
    "action_election_close": states.RUNS_IN[states.CLOSE],
    "action_election_mix": states.RUNS_IN[states.MIX],
    "action_election_decrypt": states.RUNS_IN[states.DECRYPT],
    "action_election_verify": states.RUNS_IN[states.PUBLISH],  # Verify publishes again with every proof
}
ELECTION_ACTIONS = ("action_election_new", *BY_STATE, "action_session_export")


def enabled_actions(state: str, *, server_up: bool, busy: bool = False, read_only: bool = False,
                    has_record: bool = False) -> set[str]:
    """The election actions to enable. `busy`: a bridge call or a voter simulation is still running;
    `read_only`: the panel shows a saved session; `has_record`: a record is at hand to export."""
    enabled: set[str] = set()
    if has_record or read_only or state == states.PUBLISHED:
        enabled.add("action_session_export")
    if not server_up or read_only:
        return enabled
    if not busy:
        enabled.add("action_election_new")
        enabled.update(name for name, states in BY_STATE.items() if state in states)
    return enabled

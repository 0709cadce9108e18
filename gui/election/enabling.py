"""Which election actions the panel offers in which election state. Pure: tested as a table.

The server refuses out-of-order calls anyway (board StateError); this only keeps buttons honest, so a
presenter never clicks something that would just fail.
"""

from __future__ import annotations

# action objectName -> election states in which it may run (server running, no call in flight)
BY_STATE: dict[str, frozenset[str]] = {
    "action_election_spawn": frozenset({"created", "key_ceremony"}),
    "action_election_keygen": frozenset({"created"}),
    "action_election_voters": frozenset({"voting"}),
    "action_election_close": frozenset({"voting"}),
    # "mixing" left over from an interrupted cascade: mixing again resumes from the last accepted stage.
    "action_election_mix": frozenset({"closed", "mixing"}),
    # A finished cascade leaves the election "decrypting"; the trustees' work starts on request.
    "action_election_decrypt": frozenset({"decrypting"}),
    "action_election_verify": frozenset({"tallied", "published"}),
}
ELECTION_ACTIONS = ("action_election_new", *BY_STATE, "action_session_export")


def enabled_actions(state: str, *, server_up: bool, busy: bool = False, read_only: bool = False,
                    has_record: bool = False) -> set[str]:
    """The election actions to enable. `busy`: a bridge call or a voter simulation is still running;
    `read_only`: the panel shows a saved session; `has_record`: a record is at hand to export."""
    enabled: set[str] = set()
    if has_record or read_only or state == "published":
        enabled.add("action_session_export")
    if not server_up or read_only:
        return enabled
    if not busy:
        enabled.add("action_election_new")
        enabled.update(name for name, states in BY_STATE.items() if state in states)
    return enabled

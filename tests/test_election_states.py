"""The one election lifecycle table (server/election/states.py) against its users: the board's moves and the
panel's buttons. The restart-and-resume behaviour itself is in test_gui_election_resume.py."""

from __future__ import annotations

import pytest

from mixscope.gui.election.enabling import BY_STATE, enabled_actions
from mixscope.server.board import Board, StateError
from mixscope.server.election import states

STEP_ACTION = {states.KEYGEN: "action_election_keygen", states.MIX: "action_election_mix",
               states.DECRYPT: "action_election_decrypt", states.PUBLISH: "action_election_verify"}


def test_every_state_a_restart_leaves_behind_can_be_resumed_from_the_panel():
    for state, step in states.RESUMED_BY.items():
        assert states.may_run(step, state), (state, step)
        assert STEP_ACTION[step] in enabled_actions(state, server_up=True), state


def test_the_panel_offers_a_step_only_where_the_lifecycle_lets_it_run():
    for action, allowed in BY_STATE.items():
        assert allowed <= states.ALL - {states.FAILED}, action
    for step, action in STEP_ACTION.items():
        assert BY_STATE[action] == states.RUNS_IN[step]


@pytest.mark.parametrize("current", sorted(states.ALL))
def test_the_board_moves_exactly_as_the_table_says(tmp_path, current):
    with Board(data_dir=tmp_path) as board:
        for target in sorted(states.ALL):
            eid = f"e-{target}"
            board.create_election(eid, "Q?", ["a", "b"], 1, 1, 1)
            path = (*states.LIFECYCLE,) if current != states.FAILED else (states.CREATED,)
            for state in path[1:path.index(current) + 1] if current in path else ():
                board.set_state(eid, state)
            if current == states.FAILED:
                board.set_state(eid, states.FAILED, "test")
            assert board.get_election(eid).state == current
            reason = "test" if target == states.FAILED else None
            if states.can_move(current, target):
                assert board.set_state(eid, target, reason).state == target
            else:
                with pytest.raises(StateError):
                    board.set_state(eid, target, reason)

"""A key ceremony interrupted by a server restart resumes from the panel: real server, real trustee node
processes spawned by the panel, the restart through the panel's own action.

One trustee is stopped (SIGSTOP) before the ceremony, so the ceremony waits on it deterministically while the
server restarts; it is continued afterwards, reconnects with the same key and the same name, and the panel's
Key ceremony action, enabled in state key_ceremony, finishes the ceremony."""

from __future__ import annotations

import os
import signal

import pytest
from PySide6.QtCore import QSettings

from conftest import running_server
from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.main_window import MainWindow
from mixscope.server.board import Board
from mixscope.server.election import states
from test_gui_election_flow import WAIT_MS, enabled, trigger


@pytest.fixture
def window(qtbot, tmp_path):
    # Default pings (5 s): the stopped trustee must stay connected until the restart, not be cut as dead.
    with running_server(tmp_path) as runner:
        win = MainWindow(runner, QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: win.server_up, timeout=WAIT_MS)
        yield win
        win.close()


@pytest.mark.slow
def test_key_ceremony_interrupted_by_a_restart_resumes_from_the_panel(window, qtbot, tmp_path):
    win, info = window, lambda: window.election_tracker.info
    win.ask_election_spec = lambda previous=None: ElectionSpec("Resume?", ("yes", "no"), threshold=2, trustees=2,
                                                               mixers=1, cheat_mixer=None, cheat="")
    trigger(win, "action_election_new")
    qtbot.waitUntil(lambda: info().state == states.CREATED and not win.election.busy, timeout=WAIT_MS)
    trigger(win, "action_election_spawn")
    qtbot.waitUntil(win.election.nodes_joined, timeout=WAIT_MS)
    stalled = next(e for e in win.processes.processes if e.name == "trustee-2")
    pid = int(stalled.process.processId())
    os.kill(pid, signal.SIGSTOP)
    try:
        trigger(win, "action_election_keygen")
        qtbot.waitUntil(lambda: info().state == states.KEY_CEREMONY, timeout=WAIT_MS)
        restart = win.actions_by_name["action_server_restart"]
        trigger(win, "action_server_restart")
        assert not restart.isEnabled()  # until the restart is done
        qtbot.waitUntil(lambda: restart.isEnabled() and win.server_up and not win.election.busy, timeout=WAIT_MS)
    finally:
        os.kill(pid, signal.SIGCONT)
    with Board(data_dir=tmp_path / "data") as board:
        election = board.get_election(info().election_id)
        assert election.state == states.KEY_CEREMONY and election.public_key is None
    assert info().state == states.KEY_CEREMONY
    qtbot.waitUntil(lambda: "action_election_keygen" in enabled(win), timeout=WAIT_MS)

    qtbot.waitUntil(win.election.nodes_joined, timeout=WAIT_MS)  # both trustees back, same keys and names
    trigger(win, "action_election_keygen")
    qtbot.waitUntil(lambda: info().state == states.VOTING and not win.election.busy, timeout=WAIT_MS)
    with Board(data_dir=tmp_path / "data") as board:
        election = board.get_election(info().election_id)
        assert election.state == states.VOTING and election.public_key is not None
        assert [c.state for c in board.history(election.id)] == [states.CREATED, states.KEY_CEREMONY, states.VOTING]

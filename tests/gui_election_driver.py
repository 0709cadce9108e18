"""Test support: drive one whole election through a panel window's actions and say what the panel shows."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction

from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.main_window import MainWindow

WAIT_MS = 120_000


@dataclass
class Shown:
    election_id: str
    stages: list[tuple[str, str]]  # (mixer, state) per cascade card
    counts: list[int]
    cast: list[int]
    results: list[tuple[str, int]]
    checks: list[tuple[str, str]]  # (check name, pass/fail)


def trigger(win: MainWindow, name: str) -> None:
    action = win.findChild(QAction, name)
    assert action is not None and action.isEnabled(), f"{name} disabled in state {win.election_tracker.info.state}"
    action.trigger()


def run_election(win: MainWindow, qtbot, spec: ElectionSpec, voters: int) -> Shown:
    info = lambda: win.election_tracker.info  # noqa: E731
    win.ask_election_spec = lambda previous=None: spec
    win.ask_voter_count = lambda: voters
    before = info().election_id
    trigger(win, "action_election_new")
    qtbot.waitUntil(lambda: info().election_id != before and info().state == "created"
                    and info().question == spec.question and not win.election.busy, timeout=WAIT_MS)
    trigger(win, "action_election_spawn")
    qtbot.waitUntil(win.election.nodes_joined, timeout=WAIT_MS)
    trigger(win, "action_election_keygen")
    qtbot.waitUntil(lambda: info().state == "voting" and not win.election.busy, timeout=WAIT_MS)
    with qtbot.waitSignal(win.election.step_finished, timeout=WAIT_MS) as voted:
        trigger(win, "action_election_voters")
    assert voted.args[:2] == ["voters", True], voted.args
    qtbot.waitUntil(lambda: info().ballots == voters, timeout=WAIT_MS)
    trigger(win, "action_election_close")
    qtbot.waitUntil(lambda: info().state == "closed" and not win.election.busy, timeout=WAIT_MS)
    trigger(win, "action_election_mix")
    qtbot.waitUntil(lambda: info().state == "decrypting" and len(info().stages) >= spec.mixers
                    and all(s.seconds for s in info().stages) and not win.election.busy, timeout=WAIT_MS)
    trigger(win, "action_election_decrypt")
    qtbot.waitUntil(lambda: info().counts is not None and info().state == "tallied" and not win.election.busy,
                    timeout=WAIT_MS)
    trigger(win, "action_election_verify")
    qtbot.waitUntil(lambda: info().state == "published" and win.election.record_path is not None
                    and info().checks is not None and not win.election.busy, timeout=WAIT_MS)
    cast = list(win.election.cast[-voters:])
    return Shown(info().election_id, [(s.name, s.state) for s in info().stages], list(info().counts), cast,
                 [tuple(row[:2]) for row in win.election_panel.results.rows()],
                 [tuple(row[:2]) for row in win.election_panel.checks.rows()])

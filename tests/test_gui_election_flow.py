"""A whole election driven through the panel's QActions with real node processes and a real server:
create (with a cheating mixer), spawn, key ceremony, simulate voters, close, mix, decrypt, verify, export.
Asserts what the panel shows: actions enabled per state, stage states, the rejected stage's reason, the
result counts equal to the ballots cast, and every verification check passing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction

from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.main_window import MainWindow

pytestmark = pytest.mark.slow  # whole elections and real node processes: `-m "not slow"` skips them

WAIT_MS = 90_000
VOTERS = 8
ROOT = Path(__file__).resolve().parents[1]


def trigger(win: MainWindow, name: str) -> None:
    action = win.findChild(QAction, name)
    assert action is not None and action.isEnabled(), f"{name} disabled in state {win.election_tracker.info.state}"
    action.trigger()


def enabled(win: MainWindow) -> set[str]:
    return {n for n, a in win.actions_by_name.items() if n.startswith("action_election") and a.isEnabled()}


@pytest.fixture
def window(qtbot, server, tmp_path):
    win = MainWindow(server, QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.server_up, timeout=WAIT_MS)
    yield win
    win.close()


def test_whole_election_through_the_actions(window, qtbot, tmp_path):
    win, info = window, lambda: window.election_tracker.info
    assert enabled(win) == {"action_election_new"}
    spec = ElectionSpec("Best group?", ("ristretto255", "P-256"), threshold=2, trustees=3, mixers=3,
                        cheat_mixer=0, cheat="replace")
    win.ask_election_spec = lambda previous=None: spec
    trigger(win, "action_election_new")
    qtbot.waitUntil(lambda: info().state == "created" and info().question == "Best group?"
                    and not win.election.busy, timeout=WAIT_MS)
    assert enabled(win) == {"action_election_new", "action_election_spawn", "action_election_keygen"}

    trigger(win, "action_election_spawn")
    assert sorted(e.name for e in win.processes.processes) == ["mixer-1", "mixer-2", "mixer-3", "trustee-1",
                                                               "trustee-2", "trustee-3"]
    # the cheat is this election's setting (the server tells mixer-1's stage), not a node flag
    assert all(e.extra_args[-1] == "--lab-cheats" and "--cheat" not in e.extra_args
               for e in win.processes.processes if e.role == "mixer")
    for entry in win.processes.processes:  # the join token travels in the environment, never in argv (ps)
        assert win.runner.join_token not in " ".join(entry.process.arguments())
        assert entry.process.processEnvironment().value("MIXSCOPE_JOIN_TOKEN") == win.runner.join_token
    qtbot.waitUntil(win.election.nodes_joined, timeout=WAIT_MS)

    trigger(win, "action_election_keygen")
    qtbot.waitUntil(lambda: info().state == "voting" and not win.election.busy, timeout=WAIT_MS)
    assert enabled(win) == {"action_election_new", "action_election_voters", "action_election_close"}

    win.ask_voter_count = lambda: VOTERS
    with qtbot.waitSignal(win.election.step_finished, timeout=WAIT_MS) as voted:
        trigger(win, "action_election_voters")
        assert enabled(win) == set()  # busy while the simulator runs
    assert voted.args[:2] == ["voters", True], voted.args
    qtbot.waitUntil(lambda: info().ballots == VOTERS, timeout=WAIT_MS)
    assert win.election_panel.voters_bar.isHidden()

    trigger(win, "action_election_close")
    qtbot.waitUntil(lambda: info().state == "closed", timeout=WAIT_MS)
    trigger(win, "action_election_mix")
    # The bridge reply and the events travel separately (Future vs event pump): wait for both.
    qtbot.waitUntil(lambda: info().state == "decrypting" and len(info().stages) == 3
                    and all(s.seconds for s in info().stages) and not win.election.busy, timeout=WAIT_MS)
    stages = info().stages
    assert [(s.name, s.state) for s in stages] == [("mixer-1", "rejected"), ("mixer-2", "verified"),
                                                   ("mixer-3", "verified")]
    assert stages[0].reason
    card = win.election_panel.cascade.card(0)
    assert card.state_label.text() == "rejected" and stages[0].reason[:40] in card.detail.text()
    assert all(s.count == VOTERS for s in stages)
    assert enabled(win) == {"action_election_new", "action_election_decrypt"}

    trigger(win, "action_election_decrypt")
    qtbot.waitUntil(lambda: info().counts is not None and info().state == "tallied", timeout=WAIT_MS)
    cast = win.election.cast
    assert len(cast) == VOTERS
    assert info().counts == [cast.count(0), cast.count(1)]
    assert [row[:2] for row in win.election_panel.results.rows()] == [("ristretto255", cast.count(0)),
                                                                      ("P-256", cast.count(1))]

    trigger(win, "action_election_verify")
    qtbot.waitUntil(lambda: info().state == "published" and win.election.record_path is not None
                    and info().checks is not None, timeout=WAIT_MS)
    rows = win.election_panel.checks.rows()
    assert rows and all(row[1] == "pass" for row in rows), [r for r in rows if r[1] != "pass"]
    assert any(name.startswith("mix stage 0 rejection justified") for name, _, _ in rows)
    assert "checks pass" in win.election_panel.checks_summary.text()

    folder = tmp_path / "saved"
    with qtbot.waitSignal(win.election.step_finished, timeout=WAIT_MS) as exported:
        win.election.export_session(str(folder))
    assert exported.args[:2] == ["export", True]
    saved = json.loads((folder / "record.json").read_text())
    assert saved["result"]["counts"] == info().counts
    assert (folder / "traffic.jsonl").read_text().count('"mix.request"') >= 3
    # The exported record stands on its own: the project's command-line verifier accepts it.
    verify = subprocess.run([sys.executable, "-m", "mixscope", "verify", str(folder / "record.json"), "--workers", "1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]


def test_demo_plays_a_whole_election_offscreen(tmp_path):
    """`mixscope gui --demo --demo-quit` runs every phase unattended and exits 0 only if the record verified."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    run = subprocess.run([sys.executable, "-m", "mixscope", "gui", "--demo", "--demo-voters", "6", "--demo-delay",
                          "0.05", "--demo-quit"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Done. Tally:" in run.stdout and "Rejected stages: mixer-2" in run.stdout
    assert "Every check of the record passes" in run.stdout

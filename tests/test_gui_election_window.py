"""The window's lab features against a real server with real websocket clients: traffic quick filters and
"follow client", themes, and a session exported to a folder and opened again read-only."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication

from mixscope.gui.main_window import MainWindow
from mixscope.gui.models.traffic import ROW_ROLE
from mixscope.mixnet.simulate import run_election

WAIT_MS = 20_000


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, server, settings):
    win = MainWindow(server, settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.server_up, timeout=WAIT_MS)
    yield win
    win.close()


def shown_rows(win: MainWindow):
    model = win.traffic_filter
    return [model.data(model.index(r, 0), ROW_ROLE) for r in range(model.rowCount())]


def send_traffic(ws_client, qtbot, win):
    alice = ws_client(hello=("alice", "observer"))
    bob = ws_client(hello=("bob", "observer"))
    for i in range(3):
        alice.send(json.dumps({"type": "roll_call.reply", "request_id": f"r{i}"}))
    bob.send(json.dumps({"type": "error", "reason": "just saying"}))
    qtbot.waitUntil(lambda: sum(r.client == "alice" and r.type == "roll_call.reply" for r in shown_rows(win)) == 3
                    and any(r.client == "bob" and r.type == "error" and r.direction == "in" for r in shown_rows(win)),
                    timeout=WAIT_MS)
    win._update_traffic_count()  # the 1 Hz refresh of the combo boxes, now


def test_quick_filters_by_client_and_type(window, ws_client, qtbot, qtmodeltester):
    send_traffic(ws_client, qtbot, window)
    clients = [window.client_combo.itemText(i) for i in range(window.client_combo.count())]
    assert {"alice", "bob"} <= set(clients) and clients[0] == "all clients"
    window.client_combo.setCurrentText("alice")
    assert shown_rows(window) and {r.client for r in shown_rows(window)} == {"alice"}
    window.type_combo.setCurrentText("roll_call.reply")
    assert [r.type for r in shown_rows(window)] == ["roll_call.reply"] * 3
    window.client_combo.setCurrentIndex(0)
    window.type_combo.setCurrentText("hello")
    assert sorted(r.client for r in shown_rows(window)) == ["alice", "bob"]
    window.filter_edit.setText("nothing-like-this")
    assert shown_rows(window) == []
    qtmodeltester.check(window.client_quick)
    qtmodeltester.check(window.type_quick)


def test_follow_client_from_the_clients_table(window, ws_client, qtbot):
    send_traffic(ws_client, qtbot, window)
    names = [window.clients.client(r).get("name") for r in range(window.clients.rowCount())]
    window.clients_view.selectionModel().select(
        window.clients.index(names.index("bob"), 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    follow = window.findChild(QAction, "action_follow_client")
    assert follow in window.clients_view.actions()  # offered in the table's context menu
    assert follow.isEnabled()
    follow.trigger()
    assert window.client_combo.currentText() == "bob"
    assert shown_rows(window) and {r.client for r in shown_rows(window)} == {"bob"}


def test_theme_switch_changes_the_palette_and_is_remembered(window, settings):
    app = QApplication.instance()
    window.findChild(QAction, "action_theme_dark").trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert window.election_panel.graphs.messages_plot.backgroundBrush().color().lightness() < 80
    assert settings.value("view/theme") == "dark"
    window.findChild(QAction, "action_theme_light").trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    assert window.election_panel.graphs.messages_plot.backgroundBrush().color().lightness() > 180
    window.findChild(QAction, "action_theme_system").trigger()
    assert window.theme.theme == "system" and window.findChild(QAction, "action_theme_system").isChecked()


def test_export_then_open_round_trip(window, ws_client, qtbot, tmp_path, settings):
    from mixscope.server.runner import ServerRunner

    send_traffic(ws_client, qtbot, window)
    record = run_election([0, 1, None, 1, 0, 1], ["yes", "no"], threshold=1, trustees=2, mixers=2, cheat={0: "swap"})
    window.election.record = record
    window.election.update_enabled()
    export = window.findChild(QAction, "action_session_export")
    assert export.isEnabled()
    folder = tmp_path / "session"
    with qtbot.waitSignal(window.election.step_finished, timeout=WAIT_MS) as done:
        window.election.export_session(str(folder))
    assert done.args[:2] == ["export", True]
    saved = window.traffic.all_rows()
    assert sorted(os.listdir(folder)) == ["record.json", "session.json", "traffic.jsonl"]

    viewer = MainWindow(ServerRunner(data_dir=str(tmp_path / "viewer")),
                        QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(viewer)
    viewer.show()
    viewer.open_session(str(folder))
    qtbot.waitUntil(lambda: viewer.election_tracker.info.checks is not None, timeout=60_000)
    assert viewer.traffic.all_rows() == saved
    info = viewer.election_tracker.info
    assert viewer.election_tracker.read_only and info.election_id == record["election"]["id"]
    assert [s.state for s in info.stages] == ["rejected", "verified"]
    assert info.stages[0].reason  # the reason recorded when the stage was rejected
    assert viewer.election_panel.cascade.card(0).state_label.text() == "rejected"
    assert info.counts == [2, 3] and viewer.election_panel.results.rows()[1][:2] == ("no", 3)
    assert info.invalid == 1 and viewer.election_panel.results.rows()[2] == ("invalid (no candidate)", 1, "–")
    assert info.verified is True and all(row[1] == "pass" for row in viewer.election_panel.checks.rows())
    assert any(row[0].startswith("mix stage 0 rejection justified") for row in viewer.election_panel.checks.rows())
    # Read-only: nothing may be driven, but the session can be exported again.
    enabled = {n for n, a in viewer.actions_by_name.items() if n.startswith("action_election") and a.isEnabled()}
    assert enabled == set() and viewer.findChild(QAction, "action_session_export").isEnabled()
    viewer.close()


def test_opening_a_folder_that_is_not_a_session_says_why(window, qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    with qtbot.waitSignal(window.election.step_finished, timeout=WAIT_MS) as done:
        window.open_session(str(tmp_path / "empty"))
    assert done.args[0] == "open" and done.args[1] is False and "not a saved session" in done.args[2]
    assert not window.election_tracker.read_only


@pytest.mark.slow
def test_demo_waits_for_next_when_auto_play_is_off(window, qtbot):
    from mixscope.gui.election.demo import DemoDirector

    demo = DemoDirector(window, voters=4, autoplay=False, delay=0.05)
    next_step = window.findChild(QAction, "action_demo_next")
    demo.start()
    caption = window.election_panel.caption
    assert caption.isVisible() and caption.text().startswith("1/9")
    qtbot.waitUntil(lambda: not demo.waiting and next_step.isEnabled(), timeout=WAIT_MS)
    qtbot.wait(300)  # paused: nothing moves on by itself
    assert demo.index == 0 and window.election_tracker.info.state == ""
    next_step.trigger()
    assert caption.text().startswith("2/9") and "A new election" in caption.text()
    qtbot.waitUntil(lambda: window.election_tracker.info.state == "created" and next_step.isEnabled(),
                    timeout=WAIT_MS)
    assert window.election_tracker.info.question == demo.spec.question
    qtbot.wait(300)
    assert demo.index == 1  # still waiting for the presenter
    window.findChild(QAction, "action_demo_autoplay").setChecked(True)
    qtbot.waitUntil(lambda: demo.index == 2, timeout=WAIT_MS)  # auto-play moved on: spawning the nodes
    assert caption.text().startswith("3/9")

"""The panel end to end: a real server on an ephemeral port, real node processes spawned by the window's own
action, real websockets. Everything is driven through the window's QActions, as a user would."""

from __future__ import annotations

import os

import psutil
import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSplitter

from mixscope.gui.actions import ACTIONS
from mixscope.gui.main_window import MainWindow

WAIT_MS = 20_000


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)  # never the user's settings


@pytest.fixture
def window(qtbot, server, settings):
    win = MainWindow(server, settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.actions_by_name["action_mix"].isEnabled(), timeout=WAIT_MS)
    yield win
    win.close()


def trigger(win: MainWindow, name: str) -> None:
    action = win.findChild(QAction, name)
    assert action is not None and action.isEnabled(), name
    action.trigger()


def spawn(win: MainWindow, qtbot, count: int) -> list[str]:
    win.ask_count = lambda: count
    trigger(win, "action_spawn_nodes")
    names = [entry.name for entry in win.processes.processes[-count:]]
    qtbot.waitUntil(lambda: connected_names(win) >= set(names), timeout=WAIT_MS)
    return names


def connected_names(win: MainWindow) -> set[str]:
    return {c.get("name") for c in win.clients.clients() if c.get("state") == "connected"}


def select_row(view, row: int) -> None:
    view.selectionModel().select(
        view.model().index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def traffic_rows(win: MainWindow):
    return [win.traffic.row_at(i) for i in range(win.traffic.rowCount())]


def test_every_action_has_a_name_a_shortcut_and_a_menu(qtbot, settings):
    from mixscope.server.runner import ServerRunner

    win = MainWindow(ServerRunner(), settings)
    qtbot.addWidget(win)
    menu_actions = {a.objectName() for menu in win.menuBar().findChildren(QMenu)
                    for a in menu.actions()}
    shortcuts = set()
    for spec in ACTIONS:
        action = win.findChild(QAction, spec.name)
        assert action is not None and not action.shortcut().isEmpty(), spec.name
        assert spec.name in menu_actions, spec.name
        shortcuts.add(action.shortcut().toString())
    assert len(shortcuts) == len(ACTIONS), "two actions share a shortcut"
    assert win.server_bar.token_edit.echoMode() == win.server_bar.token_edit.EchoMode.Password
    win.close()


@pytest.mark.slow
def test_spawned_nodes_show_in_clients_and_processes_tables(qtbot, window):
    names = spawn(window, qtbot, 3)
    assert names == ["mixer-1", "mixer-2", "mixer-3"]
    model = window.processes_model
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    for row, name in enumerate(names):
        entry = window.processes.processes[row]
        assert model.data(model.index(row, 1)) == name
        assert model.data(model.index(row, 0)) == entry.pid and entry.pid in children
        assert model.data(model.index(row, 3)) == "running"
    clients = window.clients
    shown = {clients.data(clients.index(r, 0)) for r in range(clients.rowCount())}
    assert shown == set(names)
    assert {clients.data(clients.index(r, 1)) for r in range(clients.rowCount())} == {"mixer"}
    # psutil sampling fills CPU and memory within a couple of seconds.
    qtbot.waitUntil(lambda: model.data(model.index(0, 6)).endswith("MiB"), timeout=WAIT_MS)


@pytest.mark.slow
def test_mix_reaches_every_node_and_their_replies_are_logged(qtbot, window):
    names = spawn(window, qtbot, 3)
    trigger(window, "action_mix")

    def answered_from() -> set[str]:
        return {r.client for r in traffic_rows(window) if r.type == "roll_call.reply" and r.direction == "in"}

    qtbot.waitUntil(lambda: answered_from() == set(names), timeout=WAIT_MS)
    sent = [r for r in traffic_rows(window) if r.type == "roll_call" and r.direction == "out"]
    assert {r.client for r in sent} == set(names)
    qtbot.waitUntil(lambda: "Roll call: 3/3" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    # The detail pane shows the selected frame as pretty JSON.
    window.filter_edit.setText("roll_call.reply")
    select_row(window.traffic_view, 0)
    assert '"type": "roll_call.reply"' in window.traffic_detail.toPlainText()


@pytest.mark.slow
def test_server_stop_marks_nodes_disconnected_and_they_reconnect_after_start(qtbot, window, server):
    names = spawn(window, qtbot, 2)
    port = server.port
    trigger(window, "action_server_stop")
    qtbot.waitUntil(lambda: not connected_names(window), timeout=WAIT_MS)
    assert {c["state"] for c in window.clients.clients()} == {"disconnected"}
    qtbot.waitUntil(lambda: window.actions_by_name["action_server_start"].isEnabled(), timeout=WAIT_MS)
    assert window.server_bar.state_label.text() == "stopped" and not server.running
    assert not window.actions_by_name["action_mix"].isEnabled()
    trigger(window, "action_server_start")
    qtbot.waitUntil(lambda: connected_names(window) == set(names), timeout=WAIT_MS)
    assert server.port == port and window.clients.rowCount() == 2  # rows reused, not duplicated


@pytest.mark.slow
def test_killing_and_restarting_a_node_process_updates_its_row(qtbot, window):
    spawn(window, qtbot, 2)
    entry = window.processes.processes[0]
    old_pid = entry.pid
    select_row(window.processes_view, 0)
    trigger(window, "action_kill_process")
    qtbot.waitUntil(lambda: entry.state == "killed", timeout=WAIT_MS)
    model = window.processes_model
    assert model.data(model.index(0, 3)) == "killed" and model.data(model.index(0, 8)) == -9
    assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == psutil.STATUS_ZOMBIE
    qtbot.waitUntil(lambda: entry.name not in connected_names(window), timeout=WAIT_MS)
    trigger(window, "action_restart_process")
    qtbot.waitUntil(lambda: entry.state == "running" and entry.name in connected_names(window), timeout=WAIT_MS)
    assert entry.pid != old_pid and model.data(model.index(0, 8)) == ""
    # The per-process log view shows the selected node's status lines.
    qtbot.waitUntil(lambda: '"event"' in window.process_log.toPlainText(), timeout=WAIT_MS)


@pytest.mark.slow
def test_send_broadcast_and_disconnect_from_the_clients_table(qtbot, window):
    names = spawn(window, qtbot, 2)
    window.ask_message = lambda title: {"type": "note", "text": title}
    select_row(window.clients_view, 0)
    target = window.clients.client(0)
    trigger(window, "action_send_to_client")
    qtbot.waitUntil(lambda: any(r.type == "note" and r.direction == "out" and r.client == target["name"]
                                for r in traffic_rows(window)), timeout=WAIT_MS)
    trigger(window, "action_broadcast")
    qtbot.waitUntil(lambda: {r.client for r in traffic_rows(window) if r.type == "note" and "Broadcast" in r.text}
                    == set(names), timeout=WAIT_MS)
    trigger(window, "action_disconnect_client")
    qtbot.waitUntil(lambda: window.clients.client(0)["id"] != target["id"]
                    or window.clients.client(0)["state"] == "disconnected", timeout=WAIT_MS)


@pytest.mark.slow
def test_traffic_filter_pause_and_clear(qtbot, window):
    spawn(window, qtbot, 2)
    qtbot.waitUntil(lambda: window.traffic.rowCount() >= 4, timeout=WAIT_MS)  # hello + welcome per node
    window.filter_edit.setText("welcome")
    shown = [window.traffic_filter.data(window.traffic_filter.index(r, 3))
             for r in range(window.traffic_filter.rowCount())]
    assert shown and set(shown) == {"welcome"}
    window.filter_edit.clear()

    trigger(window, "action_pause_traffic")
    before = window.traffic.rowCount()
    trigger(window, "action_mix")
    qtbot.waitUntil(lambda: window.traffic.held >= 4, timeout=WAIT_MS)  # 2 roll calls out + 2 replies in, held
    assert window.traffic.rowCount() == before
    trigger(window, "action_pause_traffic")  # resume
    assert window.traffic.held == 0 and window.traffic.rowCount() >= before + 4
    trigger(window, "action_clear_traffic")
    assert window.traffic.rowCount() == 0


@pytest.mark.slow
def test_closing_the_window_stops_every_child_and_the_server(qtbot, qtlog, window, server):
    spawn(window, qtbot, 3)
    pids = [e.pid for e in window.processes.processes]
    assert set(pids) <= {p.pid for p in psutil.Process().children(recursive=True)}
    window.close()
    assert not server.running
    alive = [p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    assert [p.pid for p in alive if p.pid in pids] == []
    assert all(e.state in ("exited", "killed", "crashed") for e in window.processes.processes)
    assert not [r.message for r in qtlog.records if "still running" in r.message]


def test_window_geometry_and_splitters_survive_a_restart(qtbot, tmp_path):
    from mixscope.server.runner import ServerRunner

    path = str(tmp_path / "roundtrip.ini")
    first = MainWindow(ServerRunner(), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 500)  # inside the offscreen screen (800x600): restore clamps to it
    first.main_splitter.setSizes([120, 330])
    saved_main = first.main_splitter.sizes()
    first.close()
    assert os.path.exists(path)

    second = MainWindow(ServerRunner(), QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (700, 500)
    assert second.main_splitter.sizes() == saved_main
    second.close()



@pytest.mark.slow
def test_a_layout_saved_by_an_older_panel_is_not_restored(qtbot, tmp_path):
    from mixscope.gui.main_window import LAYOUT_VERSION
    from mixscope.server.runner import ServerRunner

    def split(window: MainWindow) -> QSplitter:  # wide enough to move in a small offscreen window
        return window.findChild(QSplitter, "top_splitter")

    def open_window(version: int | None = None) -> MainWindow:
        settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
        if version is not None:
            settings.setValue("window/layout_version", version)
        window = MainWindow(ServerRunner(), settings)
        qtbot.addWidget(window)
        window.show()
        return window

    first = open_window()
    first.resize(700, 500)
    qtbot.wait(50)  # let the layout take the new size before the splitter is moved
    default = split(first).sizes()
    split(first).setSizes([default[0] + 60, default[1] - 60])
    saved = split(first).sizes()
    assert saved != default
    first.close()

    older = open_window(LAYOUT_VERSION - 1)  # what a panel with another layout left behind
    assert split(older).sizes() != saved
    older.close()  # saves again, now as the current layout

    current = open_window()
    split(current).setSizes(saved)
    current.close()
    assert split(open_window()).sizes() == saved  # the control: the current version is restored

"""The panel's main window: lays out the views, wires actions to the server runner and the process manager.

Nothing here blocks: server start/stop run on a worker thread, bridge calls return Futures whose results
come back through the GuiBridge, and child processes are QProcess (signals, no waiting) except at quit.
"""

from __future__ import annotations

import concurrent.futures
import json
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QActionGroup, QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDialog, QDockWidget, QFileDialog, QFrame, QGroupBox, \
    QHBoxLayout, QInputDialog, QLineEdit, QMainWindow, QScrollArea, QSplitter, \
    QToolBar, QVBoxLayout, QWidget

from engine.address import ClusterAddressError, parse_address
from gui import icons
from gui.about import show_about
from gui.actions import install_actions
from gui.bridge import GuiBridge
from gui.cluster_view import ClusterView
from gui.election.controller import ElectionController
from gui.election.dialogs import ElectionSpec, NewElectionDialog
from gui.election.panel import ElectionPanel
from gui.election.tracker import ElectionTracker
from gui.event_pump import EventPump
from gui.layout import AdaptiveLayout, PresentationMode
from gui.models.clients import ID_ROLE, ClientsModel
from gui.models.processes import ProcessesModel
from gui.models.traffic import ROW_ROLE, QuickFilter, TrafficFilter, TrafficModel
from gui.process_manager import ProcessManager
from gui.server_bar import ServerBar
from gui.theme import ThemeManager
from gui.views import PlainLabel, live_table, log_view

DEFAULT_MESSAGE = '{"type": "ping"}'
# Bump when docks, toolbars or splitters change: a layout saved by an older panel is then ignored (restoring
# it would, for instance, squeeze the server strip into the main toolbar's row).
LAYOUT_VERSION = 3
ELECTION_DOCK_HEIGHT = 450  # px at first start (the tables below keep 2-4 rows at 820 px); then the saved state decides


class MainWindow(QMainWindow):
    def __init__(self, runner: Any, settings: QSettings, traffic_rows: int = 20_000):
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("Mixscope")
        self.runner = runner
        self.settings = settings
        self._shut_down = False
        self._server_up = False

        self.bridge = GuiBridge(self)
        self.pump = EventPump(runner.channel, parent=self)
        self.clients = ClientsModel(self)
        self.traffic = TrafficModel(traffic_rows, client_name=self.clients.name_of, parent=self)
        # Quick filters (client, type: exact, from combo boxes) feed the text filter; all in C++.
        self.client_quick = QuickFilter(2, self)
        self.client_quick.setSourceModel(self.traffic)
        self.type_quick = QuickFilter(3, self)
        self.type_quick.setSourceModel(self.client_quick)
        self.traffic_filter = TrafficFilter(self)
        self.traffic_filter.setSourceModel(self.type_quick)
        self.processes = ProcessManager(self)
        self.processes_model = ProcessesModel(self.processes, self)
        # Clients first, so traffic rows of a client that just said hello already show its name.
        self.pump.batch.connect(self.clients.apply_events)
        self.pump.batch.connect(self.traffic.append_events)
        self.pump.batch.connect(self._on_events)
        self.election_tracker = ElectionTracker(self)
        self.pump.batch.connect(self.election_tracker.apply_events)
        self.cluster_view = ClusterView()
        self.pump.batch.connect(self._on_cluster_events)

        self.actions_by_name = install_actions(self)
        self.server_bar = ServerBar(self.actions_by_name["action_copy_admin_token"])
        self._build_layout()
        self._build_election()
        # Small screens and projectors: tabs below the wide layout's minimum, and View ▸ Presentation mode.
        self.adaptive = AdaptiveLayout(self, self.election_dock, self.main_splitter, self.election_panel.cascade)
        self.presentation = PresentationMode(self, self.actions_by_name["action_presentation_mode"], self.adaptive)
        icons.install(self, self.actions_by_name, self.theme)
        self._connect_actions()
        self._restore_settings()
        self._refresh_server_state()

    # --- layout --------------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.clients_view = live_table(self.clients, "clients_view",
                                       {0: 90, 1: 60, 2: 95, 3: 80, 4: 45, 5: 45, 6: 70, 7: 70, 8: 60})
        self.clients_view.selectionModel().selectionChanged.connect(self._update_enabled)
        self.clients_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.processes_view = live_table(self.processes_model, "processes_view",
                                         {0: 60, 1: 80, 2: 55, 3: 65, 4: 75, 5: 55, 6: 80, 7: 65})
        self.processes_view.selectionModel().selectionChanged.connect(self._on_process_selected)
        self.process_log = log_view("process_log", max_lines=2_000)
        self.process_log.setPlaceholderText("Select a process to see its output")
        self.processes.log_appended.connect(self._on_process_log)

        self.traffic_view = live_table(self.traffic_filter, "traffic_view", {0: 100, 1: 40, 2: 110, 4: 70},
                                       stretch=3)
        self.traffic_view.selectionModel().selectionChanged.connect(self._on_traffic_selected)
        self.traffic_detail = log_view("traffic_detail")
        self.traffic_detail.setPlaceholderText("Select a message to see it as JSON")
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("traffic_filter")
        self.filter_edit.setPlaceholderText("Filter: client, type or text (regex)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.traffic_filter.set_pattern)
        self.follow_check = QCheckBox("Follow")
        self.follow_check.setObjectName("traffic_follow")
        self.follow_check.setChecked(True)
        self.traffic_count = PlainLabel()
        self.traffic_count.setObjectName("traffic_count")
        self.client_combo = _quick_combo("traffic_client_filter", "all clients", self.client_quick)
        self.type_combo = _quick_combo("traffic_type_filter", "all types", self.type_quick)

        clients_box = _boxed("Clients", self.clients_view)
        process_split = _splitter(Qt.Orientation.Vertical, "processes_splitter", self.processes_view, self.process_log)
        processes_box = _boxed("Processes", process_split)
        top = _splitter(Qt.Orientation.Horizontal, "top_splitter", clients_box, processes_box)

        traffic_bar = QHBoxLayout()
        traffic_bar.addWidget(self.filter_edit, 1)
        traffic_bar.addWidget(self.client_combo)
        traffic_bar.addWidget(self.type_combo)
        traffic_bar.addWidget(self.follow_check)
        traffic_bar.addWidget(self.traffic_count)
        traffic_split = _splitter(Qt.Orientation.Horizontal, "traffic_splitter", self.traffic_view, self.traffic_detail)
        traffic_box = QGroupBox("Traffic")
        traffic_layout = QVBoxLayout(traffic_box)
        traffic_layout.addLayout(traffic_bar)
        traffic_layout.addWidget(traffic_split, 1)

        self.main_splitter = _splitter(Qt.Orientation.Vertical, "main_splitter", top, traffic_box)
        for part in (top, traffic_box):  # small minimums, so the election dock may take most of the height
            part.setMinimumHeight(90)
        self.main_splitter.setSizes([320, 480])  # defaults; saved sizes replace them in _restore_settings
        top.setSizes([620, 660])
        traffic_split.setSizes([700, 580])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)
        # The server strip is a toolbar of its own, on its own row: above the election dock, not below it.
        server_toolbar = QToolBar("Server", self)
        server_toolbar.setObjectName("server_toolbar")
        server_toolbar.setMovable(False)
        server_toolbar.addWidget(self.server_bar)
        self.addToolBarBreak()
        self.addToolBar(server_toolbar)
        self.statusBar().showMessage("Ready")
        self.resize(1280, 800)

        self.cluster_dock = QDockWidget("Cluster", self)
        self.cluster_dock.setObjectName("cluster_dock")
        self.cluster_dock.setWidget(self.cluster_view)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.cluster_dock)
        self.cluster_dock.hide()  # shown once the server has a cluster

        self._ticker = QTimer(self)  # once a second: counters that don't need per-event updates
        self._ticker.timeout.connect(self._update_traffic_count)
        self._ticker.start(1000)

    def _connect_actions(self) -> None:
        a = self.actions_by_name
        a["action_server_start"].triggered.connect(self.start_server)
        a["action_server_stop"].triggered.connect(self.stop_server)
        a["action_server_restart"].triggered.connect(self.restart_server)
        a["action_copy_url"].triggered.connect(self.copy_url)
        a["action_copy_admin_token"].triggered.connect(self.copy_admin_token)
        a["action_quit"].triggered.connect(self.close)
        a["action_mix"].triggered.connect(self.mix)
        a["action_send_to_client"].triggered.connect(self.send_to_selected)
        a["action_broadcast"].triggered.connect(self.broadcast)
        a["action_disconnect_client"].triggered.connect(self.disconnect_selected)
        a["action_spawn_nodes"].triggered.connect(self.spawn_nodes)
        a["action_kill_process"].triggered.connect(self.kill_selected_process)
        a["action_restart_process"].triggered.connect(self.restart_selected_process)
        a["action_pause_traffic"].toggled.connect(self.pause_traffic)
        a["action_clear_traffic"].triggered.connect(self.clear_traffic)
        a["action_filter_traffic"].triggered.connect(self.filter_edit.setFocus)
        a["action_follow_client"].triggered.connect(self.follow_selected_client)
        a["action_session_open"].triggered.connect(lambda _=False: self.open_session())
        a["action_about"].triggered.connect(lambda _=False: show_about(self))
        self.processes.changed.connect(self._update_enabled)

    # --- prompts (separate methods so tests can answer them) ------------------------------------------------
    def ask_count(self) -> int | None:
        count, ok = QInputDialog.getInt(self, "Spawn nodes", "How many mixer nodes?", 3, 1, 64)
        return count if ok else None

    def ask_message(self, title: str) -> dict | None:
        text, ok = QInputDialog.getMultiLineText(self, title, "JSON message:", DEFAULT_MESSAGE)
        if not ok:
            return None
        try:
            message = json.loads(text)
        except ValueError as exc:
            self.statusBar().showMessage(f"Not JSON: {exc}", 8000)
            return None
        if not isinstance(message, dict):
            self.statusBar().showMessage("The message must be a JSON object", 8000)
            return None
        return message

    # --- server --------------------------------------------------------------------------------------------
    def _apply_cluster(self) -> bool:
        """The server strip's cluster field, for the next start; False (and a message) if it is not an address."""
        if getattr(self.runner, "remote", False):  # a remote server has its own --cluster: nothing to apply here
            return True
        text = self.server_bar.cluster_edit.text().strip()
        try:
            self.runner.cluster = str(parse_address(text)) if text else None
        except ClusterAddressError as exc:
            self.statusBar().showMessage(str(exc), 10000)
            return False
        self.settings.setValue("server/cluster", text)
        return True

    def _on_cluster_events(self, events: list) -> None:
        if self.cluster_view.apply_events(events) and not self.cluster_dock.isVisible():
            self.cluster_dock.show()

    def start_server(self) -> None:
        if not self._apply_cluster():
            return
        self.server_bar.show_state("starting…")
        self._set_server_actions(busy=True)
        self.bridge.run_in_thread(self.runner.start, lambda f: self._server_done("start", f), "server-start")

    def stop_server(self) -> None:
        self.server_bar.show_state("stopping…")
        self._set_server_actions(busy=True)
        self.bridge.run_in_thread(self.runner.stop, lambda f: self._server_done("stop", f), "server-stop")

    def restart_server(self) -> None:
        if not self._apply_cluster():
            return
        self.server_bar.show_state("restarting…")
        self._set_server_actions(busy=True)
        self.bridge.run_in_thread(self.runner.restart, lambda f: self._server_done("restart", f), "server-restart")

    def _server_done(self, what: str, future: concurrent.futures.Future) -> None:
        error = future.exception()
        if error is not None:
            self.statusBar().showMessage(f"Server {what} failed: {error}", 10000)
        self._refresh_server_state()

    def _refresh_server_state(self) -> None:
        if self.runner.running:
            self._show_server(True, self.runner.url, self.runner.ws_url)
        else:
            self._show_server(False)

    def _show_server(self, up: bool, url: str = "", ws_url: str = "", state: str = "stopped") -> None:
        self._server_up = up
        if up:
            self.server_bar.show_running(url, ws_url, self.runner.admin_token,
                                         "● connected" if getattr(self.runner, "remote", False) else "● running")
            self.processes.set_url(ws_url)
        else:
            self.server_bar.show_state(state)
        self._set_server_actions(busy=False)

    def _set_server_actions(self, busy: bool) -> None:
        running = self._server_up
        a = self.actions_by_name
        a["action_server_start"].setEnabled(not busy and not running)
        a["action_server_stop"].setEnabled(not busy and running)
        a["action_server_restart"].setEnabled(not busy and running)
        self._update_enabled()

    def copy_url(self) -> None:
        if self.runner.running:
            QGuiApplication.clipboard().setText(self.runner.ws_url)
            self.statusBar().showMessage("Websocket URL copied", 3000)

    def copy_admin_token(self) -> None:
        QGuiApplication.clipboard().setText(self.runner.admin_token)
        self.statusBar().showMessage("Admin token copied", 3000)

    # --- bridge calls --------------------------------------------------------------------------------------
    def call(self, action: str, args: dict | None = None) -> concurrent.futures.Future:
        """Call the server bridge; the result is reported in the status bar when it arrives."""
        future = self.runner.call(action, args or {})
        self.bridge.watch(future, lambda f: self._on_bridge_result(action, f))
        return future

    def _on_bridge_result(self, action: str, future: concurrent.futures.Future) -> None:
        error = future.exception()
        if error is not None:
            self.statusBar().showMessage(f"{action} failed: {error}", 10000)
            return
        result = future.result()
        if action == "roll_call":
            replies, sent = result.get("replies") or {}, result.get("sent_to") or []
            missing = result.get("missing") or [c for c in sent if c not in replies]
            text = f"Roll call: {len(replies)}/{len(sent)} nodes replied"
            self.statusBar().showMessage(text + (f", missing {', '.join(map(str, missing))}" if missing else ""), 10000)
        else:
            self.statusBar().showMessage(f"{action}: done", 5000)

    def mix(self) -> None:
        self.call("roll_call")

    def selected_client_ids(self) -> list[str]:
        rows = self.clients_view.selectionModel().selectedRows()
        return [self.clients.data(index, ID_ROLE) for index in rows
                if self.clients.client(index.row()).get("state") != "disconnected"]

    def send_to_selected(self) -> None:
        ids = self.selected_client_ids()
        if not ids:
            self.statusBar().showMessage("Select a connected client first", 5000)
            return
        message = self.ask_message("Send to client")
        if message is not None:
            for client_id in ids:
                self.call("send", {"client_id": client_id, "message": message})

    def broadcast(self) -> None:
        message = self.ask_message("Broadcast")
        if message is not None:
            self.call("broadcast", {"message": message})

    def disconnect_selected(self) -> None:
        for client_id in self.selected_client_ids():
            self.call("disconnect", {"client_id": client_id})

    # --- processes -----------------------------------------------------------------------------------------
    def spawn_nodes(self) -> None:
        if not self._server_up:
            self.statusBar().showMessage("Start the server before spawning nodes", 5000)
            return
        count = self.ask_count()
        if count:
            self.processes.spawn(self.server_bar.ws_edit.text(), count, role="mixer")

    def selected_processes(self):
        return [self.processes.processes[i.row()] for i in self.processes_view.selectionModel().selectedRows()]

    def kill_selected_process(self) -> None:
        for entry in self.selected_processes():
            self.processes.kill(entry)

    def restart_selected_process(self) -> None:
        for entry in self.selected_processes():
            self.processes.restart(entry)

    def _on_process_selected(self) -> None:
        selected = self.selected_processes()
        self.process_log.setPlainText("\n".join(selected[0].log) if selected else "")
        self._update_enabled()

    def _on_process_log(self, row: int) -> None:
        selected = self.selected_processes()
        if selected and selected[0] is self.processes.processes[row]:
            self.process_log.setPlainText("\n".join(selected[0].log))
            self.process_log.verticalScrollBar().setValue(self.process_log.verticalScrollBar().maximum())

    # --- traffic -------------------------------------------------------------------------------------------
    def pause_traffic(self, paused: bool) -> None:
        self.traffic.set_paused(paused)
        self._update_traffic_count()

    def clear_traffic(self) -> None:
        self.traffic.clear()
        self.traffic_detail.clear()
        self._update_traffic_count()

    def _on_traffic_selected(self) -> None:
        rows = self.traffic_view.selectionModel().selectedRows()
        row = self.traffic_filter.data(rows[0], ROW_ROLE) if rows else None
        self.traffic_detail.setPlainText(row.pretty() if row else "")

    def _on_events(self, events: list) -> None:
        warning = None
        for event in events:
            if event.kind == "server.started":
                # Published just before runner.running flips: trust the event for what it says.
                self._show_server(True, event.data.get("url", ""), event.data.get("ws_url", ""))
            elif event.kind == "server.stopped":
                self._show_server(False, state=event.data.get("text") or "stopped")
            elif event.kind == "log" and event.data.get("level") in ("warning", "error"):
                warning = event
        if warning is not None:  # one status update per batch, however many warnings came
            self.statusBar().showMessage(str(warning.data.get("text", "")), 8000)
        if self.follow_check.isChecked() and not self.traffic.paused:
            self.traffic_view.scrollToBottom()

    def _update_traffic_count(self) -> None:
        _refresh_combo(self.client_combo, self.traffic.seen_clients)
        _refresh_combo(self.type_combo, self.traffic.seen_types)
        text = f"{self.traffic_filter.rowCount()} shown · {self.traffic.total} seen"
        if self.traffic.paused:
            text += f" · paused ({self.traffic.held} held)"
        if self.pump.dropped:
            text += f" · {self.pump.dropped} dropped"
        self.traffic_count.setText(text)

    def _update_enabled(self, *_: Any) -> None:
        a = self.actions_by_name
        running = self._server_up
        has_client = bool(self.clients_view.selectionModel().selectedRows()) if hasattr(self, "clients_view") else False
        has_process = bool(self.processes_view.selectionModel().selectedRows()) if hasattr(self, "processes_view") else False
        a["action_mix"].setEnabled(running)
        a["action_broadcast"].setEnabled(running)
        a["action_spawn_nodes"].setEnabled(running)
        a["action_send_to_client"].setEnabled(running and has_client)
        a["action_disconnect_client"].setEnabled(running and has_client)
        a["action_kill_process"].setEnabled(has_process)
        a["action_restart_process"].setEnabled(has_process)
        a["action_follow_client"].setEnabled(has_client)
        if hasattr(self, "election"):
            self.election.update_enabled()

    # --- the election lab ------------------------------------------------------------------------------------
    @property
    def server_up(self) -> bool:
        return self._server_up

    def _build_election(self) -> None:
        a = self.actions_by_name
        self.election_panel = ElectionPanel(self.election_tracker, a)
        self.pump.batch.connect(self.election_panel.graphs.feed)
        self.election_dock = QDockWidget("Election", self)
        self.election_dock.setObjectName("election_dock")
        scroller = QScrollArea()  # the dock may be squeezed below the panel's own minimum on small screens
        scroller.setObjectName("election_scroller")
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setMinimumSize(60, 30)
        scroller.setWidget(self.election_panel)
        self.election_dock.setWidget(scroller)
        self.election_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, self.election_dock)
        if self.settings.value("window/state") is None:  # first run: give the election most of the height
            QTimer.singleShot(0, lambda: self.resizeDocks([self.election_dock], [ELECTION_DOCK_HEIGHT],
                                                          Qt.Orientation.Vertical))
        self.election = ElectionController(self, self.election_tracker)
        self.election.voters_progress.connect(self.election_panel.show_voters)
        self.clients_view.addAction(a["action_follow_client"])
        self.theme = ThemeManager(QApplication.instance(), self.settings, self)
        self.theme.changed.connect(self.election_panel.set_dark)
        group = QActionGroup(self)
        for name in ("system", "light", "dark"):
            action = a[f"action_theme_{name}"]
            group.addAction(action)
            action.setChecked(name == self.theme.theme)
            action.triggered.connect(lambda _=False, theme=name: self.theme.apply(theme))
        self.theme.apply()
        a["action_demo_next"].setEnabled(False)  # a DemoDirector enables them (mixscope gui --demo)
        a["action_demo_autoplay"].setEnabled(False)

    def ask_election_spec(self, previous: ElectionSpec | None = None) -> ElectionSpec | None:
        dialog = NewElectionDialog(self, previous)
        return dialog.spec() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def ask_voter_count(self) -> int | None:
        count, ok = QInputDialog.getInt(self, "Simulate voters", "How many voters?", 50, 2, 100_000)
        return count if ok else None

    def ask_folder(self, title: str, save: bool = False) -> str | None:
        folder = QFileDialog.getExistingDirectory(self, title)
        return folder or None

    def open_session(self, folder: str | None = None) -> None:
        folder = folder or self.ask_folder("Open a saved session")
        if folder:
            self.election.open_session(folder)

    def follow_selected_client(self) -> None:
        """Show only the selected client's traffic (the client quick filter set to its name)."""
        rows = self.clients_view.selectionModel().selectedRows()
        if not rows:
            return
        name = self.clients.name_of(self.clients.data(rows[0], ID_ROLE))
        if self.client_combo.findText(name) < 0:
            self.client_combo.addItem(name)
        self.client_combo.setCurrentText(name)

    # --- settings and shutdown -----------------------------------------------------------------------------
    def _splitters(self) -> list[QSplitter]:
        return self.findChildren(QSplitter)

    def _restore_settings(self) -> None:
        self.server_bar.cluster_edit.setText(str(self.settings.value("server/cluster", "") or ""))
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if self.settings.value("window/layout_version", 0, type=int) != LAYOUT_VERSION:
            return
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        for splitter in self._splitters():
            saved = self.settings.value(f"splitters/{splitter.objectName()}")
            if isinstance(saved, QByteArray):
                splitter.restoreState(saved)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/layout_version", LAYOUT_VERSION)
        for splitter in self._splitters():
            self.settings.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
        self.settings.sync()

    def shutdown(self) -> None:
        """Save settings, stop every child process and the server. Idempotent; runs at close."""
        if self._shut_down:
            return
        self._shut_down = True
        self.save_settings()
        self._ticker.stop()
        self.election_panel.stop()
        self.pump.close()
        self.processes.stop_all()
        try:
            self.runner.close()  # stops it and closes the board (checkpointed: no -wal or -shm left behind)
        except Exception as exc:  # quitting anyway; say why the server did not stop cleanly
            print(f"mixscope: server stop failed: {exc}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()


def _boxed(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(widget)
    return box


def _splitter(orientation: Qt.Orientation, name: str, *widgets: QWidget) -> QSplitter:
    splitter = QSplitter(orientation)
    splitter.setObjectName(name)
    splitter.setChildrenCollapsible(False)
    for widget in widgets:
        splitter.addWidget(widget)
    return splitter


def _quick_combo(name: str, everything: str, quick: QuickFilter) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.addItem(everything)
    combo.setMinimumContentsLength(12)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.currentIndexChanged.connect(lambda index: quick.set_value(combo.currentText() if index > 0 else None))
    return combo


def _refresh_combo(combo: QComboBox, seen: set[str]) -> None:
    """Add values seen since the last refresh (sorted after the "all" entry); never drops the current one."""
    present = {combo.itemText(i) for i in range(1, combo.count())}
    for value in sorted(v for v in seen - present if v):
        combo.addItem(value)

"""The panel's main window: the composition. It makes the models and panels, places them, and wires them.

What each part does lives in its own module: window_layout (placement), action_wiring (which action runs
what, and when it is enabled), server_control (start/stop, the server strip), bridge_calls (the Nodes
actions' bridge calls and their results), traffic_panel, nodes_panel, window_settings (the saved layout),
and the election lab in gui/election/ (the controller sees only an ElectionHost, never this window).

Nothing here blocks: server start/stop run on a worker thread, bridge calls return Futures whose results
come back through the GuiBridge, and child processes are QProcess (signals, no waiting) except at quit.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QInputDialog, QMainWindow

from mixscope.gui import icons
from mixscope.gui.about import show_about
from mixscope.gui.action_wiring import connect_actions, connect_theme_actions, enabled_window_actions
from mixscope.gui.actions import install_actions
from mixscope.gui.bridge import GuiBridge
from mixscope.gui.bridge_calls import BridgeCalls
from mixscope.gui.cluster_view import ClusterView
from mixscope.gui.election.controller import ElectionController
from mixscope.gui.election.dialogs import ElectionSpec, NewElectionDialog
from mixscope.gui.election.host import ElectionHost
from mixscope.gui.election.panel import ElectionPanel
from mixscope.gui.election.tracker import ElectionTracker
from mixscope.gui.event_pump import EventPump
from mixscope.gui.layout import AdaptiveLayout, PresentationMode
from mixscope.gui.models.clients import ClientsModel
from mixscope.gui.models.processes import ProcessesModel
from mixscope.gui.models.traffic import TrafficModel
from mixscope.gui.nodes_panel import NodesPanel
from mixscope.gui.process_manager import ProcessManager
from mixscope.gui.server_bar import ServerBar
from mixscope.gui.server_control import ServerControl
from mixscope.gui.theme import ThemeManager
from mixscope.gui.traffic_panel import TrafficPanel
from mixscope.gui.window_layout import add_cluster_dock, add_election_dock, add_server_strip, build_central
from mixscope.gui.window_settings import LAYOUT_VERSION, is_first_run, restore_layout, save_layout

__all__ = ["LAYOUT_VERSION", "MainWindow"]

DEFAULT_MESSAGE = '{"type": "ping"}'


class MainWindow(QMainWindow):
    def __init__(self, runner: Any, settings: QSettings, traffic_rows: int = 20_000):
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("Mixscope")
        self.runner = runner
        self.settings = settings
        self._shut_down = False

        # --- models, fed by the event pump in this order: clients first, so traffic rows of a client that
        # just said hello already show its name; the election tracker; the cluster view; the election graphs.
        self.bridge = GuiBridge(self)
        self.pump = EventPump(runner.channel, parent=self)
        self.clients = ClientsModel(self)
        self.traffic = TrafficModel(traffic_rows, client_name=self.clients.name_of, parent=self)
        self.processes = ProcessManager(self)
        self.processes_model = ProcessesModel(self.processes, self)
        self.election_tracker = ElectionTracker(self)
        self.pump.batch.connect(self.clients.apply_events)
        self.pump.batch.connect(self.traffic.append_events)
        self.pump.batch.connect(self._on_events)
        self.pump.batch.connect(self.election_tracker.apply_events)
        self.cluster_view = ClusterView()
        self.pump.batch.connect(self._on_cluster_events)

        # --- panels
        self.actions_by_name = a = install_actions(self)
        self.server_bar = ServerBar(a["action_copy_admin_token"])
        self.server = ServerControl(runner, self.bridge, self.server_bar, self.processes, a, self.report, settings,
                                    self)
        self.nodes_panel = NodesPanel(self.clients, self.processes, self.processes_model)
        self.traffic_panel = TrafficPanel(self.traffic, self.pump)
        self.calls = BridgeCalls(runner, self.bridge, self.report, self.nodes_panel.selected_client_ids,
                                 lambda title: self.ask_message(title))
        self.election_panel = ElectionPanel(self.election_tracker, a)
        self.pump.batch.connect(self.election_panel.graphs.feed)
        self._expose_parts()

        # --- placement
        self.main_splitter = build_central(self, self.nodes_panel, self.traffic_panel)
        add_server_strip(self, self.server_bar)
        self.statusBar().showMessage("Ready")
        self.resize(1280, 800)
        self.cluster_dock = add_cluster_dock(self, self.cluster_view)
        self.election_dock = add_election_dock(self, self.election_panel, is_first_run(settings))
        self._ticker = QTimer(self)  # once a second: counters that don't need per-event updates
        self._ticker.timeout.connect(self._update_traffic_count)
        self._ticker.start(1000)

        # --- the election lab: its controller sees an ElectionHost, not this window
        self.election = ElectionController(self._election_host(), self.election_tracker, self)
        self.election.voters_progress.connect(self.election_panel.show_voters)
        self.clients_view.addAction(a["action_follow_client"])
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            raise RuntimeError("the main window needs a QApplication")
        self.theme = ThemeManager(app, settings, self)
        self.theme.changed.connect(self.election_panel.set_dark)
        self._theme_group = connect_theme_actions(a, self.theme, self)
        self.theme.apply()
        a["action_demo_next"].setEnabled(False)  # a DemoDirector enables them (mixscope gui --demo)
        a["action_demo_autoplay"].setEnabled(False)

        # Small screens and projectors: tabs below the wide layout's minimum, and View ▸ Presentation mode.
        self.adaptive = AdaptiveLayout(self, self.election_dock, self.main_splitter, self.election_panel.cascade)
        self.presentation = PresentationMode(self, a["action_presentation_mode"], self.adaptive)
        icons.install(self, a, self.theme)
        self._connect_actions()
        self.server.restore_cluster_field()
        restore_layout(self, settings)
        self.server.refresh()

    def _expose_parts(self) -> None:
        """The panels' widgets under the window's names (tests, the demo and the screenshots find them here)."""
        nodes, traffic = self.nodes_panel, self.traffic_panel
        self.clients_view, self.processes_view, self.process_log = \
            nodes.clients_view, nodes.processes_view, nodes.process_log
        self.traffic_view, self.traffic_detail, self.traffic_filter = \
            traffic.traffic_view, traffic.traffic_detail, traffic.traffic_filter
        self.filter_edit, self.follow_check, self.traffic_count = \
            traffic.filter_edit, traffic.follow_check, traffic.traffic_count
        self.client_quick, self.type_quick, self.client_combo, self.type_combo = \
            traffic.client_quick, traffic.type_quick, traffic.client_combo, traffic.type_combo

    def _election_host(self) -> ElectionHost:
        # The prompts are looked up at call time: the demo and tests answer them by replacing the methods.
        return ElectionHost(
            actions=self.actions_by_name, runner=self.runner, bridge=self.bridge, processes=self.processes,
            clients=self.clients, traffic=self.traffic, report=self.report,
            server_up=lambda: self.server_up, node_url=self.server.node_url,
            ask_spec=lambda previous: self.ask_election_spec(previous),
            ask_voter_count=lambda: self.ask_voter_count(),
            ask_folder=lambda title, save: self.ask_folder(title, save=save))

    def _connect_actions(self) -> None:
        connect_actions(self.actions_by_name, {
            "action_server_start": self.start_server,
            "action_server_stop": self.server.stop,
            "action_server_restart": self.server.restart,
            "action_copy_url": self.server.copy_url,
            "action_copy_admin_token": self.server.copy_admin_token,
            "action_quit": self.close,
            "action_mix": self.calls.roll_call,
            "action_send_to_client": self.calls.send_to_selected,
            "action_broadcast": self.calls.broadcast,
            "action_disconnect_client": self.calls.disconnect_selected,
            "action_spawn_nodes": self.spawn_nodes,
            "action_kill_process": self.nodes_panel.kill_selected,
            "action_restart_process": self.nodes_panel.restart_selected,
            "action_pause_traffic": self.traffic_panel.pause,
            "action_clear_traffic": self.clear_traffic,
            "action_filter_traffic": self.filter_edit.setFocus,
            "action_follow_client": self.follow_selected_client,
            "action_session_open": lambda _=False: self.open_session(),
            "action_about": lambda _=False: show_about(self),
        })
        self.server.changed.connect(self._update_enabled)
        self.nodes_panel.selection_changed.connect(self._update_enabled)
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
            self.report(f"Not JSON: {exc}", 8000)
            return None
        if not isinstance(message, dict):
            self.report("The message must be a JSON object", 8000)
            return None
        return message

    def ask_election_spec(self, previous: ElectionSpec | None = None) -> ElectionSpec | None:
        dialog = NewElectionDialog(self, previous)
        return dialog.spec() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def ask_voter_count(self) -> int | None:
        count, ok = QInputDialog.getInt(self, "Simulate voters", "How many voters?", 50, 2, 100_000)
        return count if ok else None

    def ask_folder(self, title: str, save: bool = False) -> str | None:
        folder = QFileDialog.getExistingDirectory(self, title)
        return folder or None

    # --- what the parts share ------------------------------------------------------------------------------
    def report(self, message: str, timeout_ms: int) -> None:
        """The status line: results, refusals and warnings for a few seconds."""
        self.statusBar().showMessage(message, timeout_ms)

    @property
    def server_up(self) -> bool:
        return self.server.up

    def start_server(self) -> None:
        self.server.start()

    def call(self, action: str, args: dict | None = None):
        return self.calls.call(action, args)

    def spawn_nodes(self) -> None:
        if not self.server_up:
            self.report("Start the server before spawning nodes", 5000)
            return
        count = self.ask_count()
        if count:
            self.processes.spawn(self.server.node_url(), count, role="mixer")

    def clear_traffic(self) -> None:
        self.traffic_panel.clear()

    def follow_selected_client(self) -> None:
        """Show only the selected client's traffic (the client quick filter set to its name)."""
        name = self.nodes_panel.selected_client_name()
        if name is not None:
            self.traffic_panel.show_client(name)

    def open_session(self, folder: str | None = None) -> None:
        folder = folder or self.ask_folder("Open a saved session")
        if folder:
            self.election.open_session(folder)

    def _on_cluster_events(self, events: list) -> None:
        if self.cluster_view.apply_events(events) and not self.cluster_dock.isVisible():
            self.cluster_dock.show()

    def _on_events(self, events: list) -> None:
        self.server.apply_events(events)
        warning = None
        for event in events:
            if event.kind == "log" and event.data.get("level") in ("warning", "error"):
                warning = event
        if warning is not None:  # one status update per batch, however many warnings came
            self.report(str(warning.data.get("text", "")), 8000)
        self.traffic_panel.follow_new_rows()

    def _update_traffic_count(self) -> None:
        self.traffic_panel.update_count()

    def _update_enabled(self, *_: Any) -> None:
        enabled = enabled_window_actions(server_up=self.server_up,
                                         has_client=self.nodes_panel.has_client_selection(),
                                         has_process=self.nodes_panel.has_process_selection())
        for name, on in enabled.items():
            self.actions_by_name[name].setEnabled(on)
        if hasattr(self, "election"):
            self.election.update_enabled()

    # --- settings and shutdown -----------------------------------------------------------------------------
    def save_settings(self) -> None:
        save_layout(self, self.settings)

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

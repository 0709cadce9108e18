"""Server control: start, stop and restart the server (or a remote connection) without blocking the GUI
thread, and show its state in the server strip and the Server actions. The strip's cluster field is applied
at each (re)start of a local server."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable, Iterable

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QGuiApplication

from mixscope.engine.address import ClusterAddressError, parse_address
from mixscope.gui.bridge import GuiBridge
from mixscope.gui.process_manager import ProcessManager
from mixscope.gui.server_bar import ServerBar
from mixscope.wire.events import Event


class ServerControl(QObject):
    changed = Signal()  # up, down or busy: whatever depends on a running server re-enables

    def __init__(self, runner: Any, bridge: GuiBridge, server_bar: ServerBar, processes: ProcessManager,
                 actions: dict[str, QAction], report: Callable[[str, int], None], settings: QSettings,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.runner, self.bridge, self.server_bar, self.processes = runner, bridge, server_bar, processes
        self.actions, self.report, self.settings = actions, report, settings
        self.up = False

    def start(self) -> None:
        if self.apply_cluster():
            self._run("start", self.runner.start, "starting…")

    def stop(self) -> None:
        self._run("stop", self.runner.stop, "stopping…")

    def restart(self) -> None:
        if self.apply_cluster():
            self._run("restart", self.runner.restart, "restarting…")

    # --- the cluster field ---------------------------------------------------------------------------------
    def restore_cluster_field(self) -> None:
        self.server_bar.cluster_edit.setText(str(self.settings.value("server/cluster", "") or ""))

    def apply_cluster(self) -> bool:
        """The server strip's cluster field, for the next start; False (and a message) if it is not an address."""
        if getattr(self.runner, "remote", False):  # a remote server has its own --cluster: nothing to apply here
            return True
        text = self.server_bar.cluster_edit.text().strip()
        try:
            self.runner.cluster = str(parse_address(text)) if text else None
        except ClusterAddressError as exc:
            self.report(str(exc), 10000)
            return False
        self.settings.setValue("server/cluster", text)
        return True

    # --- state ---------------------------------------------------------------------------------------------

    def _run(self, what: str, work: Callable[[], Any], state: str) -> None:
        self.server_bar.show_state(state)
        self._set_actions(busy=True)
        self.bridge.run_in_thread(work, lambda f: self._done(what, f), f"server-{what}")

    def _done(self, what: str, future: concurrent.futures.Future) -> None:
        error = future.exception()
        if error is not None:
            self.report(f"Server {what} failed: {error}", 10000)
        self.refresh()

    def refresh(self) -> None:
        if self.runner.running:
            self.show(True, self.runner.url, self.runner.ws_url)
        else:
            self.show(False)

    def apply_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.kind == "server.started":
                # Published just before runner.running flips: trust the event for what it says.
                self.show(True, event.data.get("url", ""), event.data.get("ws_url", ""))
            elif event.kind == "server.stopped":
                self.show(False, state=event.data.get("text") or "stopped")

    def show(self, up: bool, url: str = "", ws_url: str = "", state: str = "stopped") -> None:
        self.up = up
        if up:
            self.server_bar.show_running(url, ws_url, self.runner.admin_token,
                                         "● connected" if getattr(self.runner, "remote", False) else "● running")
            self.processes.set_url(ws_url)
        else:
            self.server_bar.show_state(state)
        self._set_actions(busy=False)

    def _set_actions(self, busy: bool) -> None:
        self.actions["action_server_start"].setEnabled(not busy and not self.up)
        self.actions["action_server_stop"].setEnabled(not busy and self.up)
        self.actions["action_server_restart"].setEnabled(not busy and self.up)
        self.changed.emit()

    def node_url(self) -> str:
        """The websocket URL nodes dial: the one the strip shows ("" while the server is down)."""
        return self.server_bar.ws_edit.text()

    def copy_url(self) -> None:
        if self.runner.running:
            QGuiApplication.clipboard().setText(self.runner.ws_url)
            self.report("Websocket URL copied", 3000)

    def copy_admin_token(self) -> None:
        QGuiApplication.clipboard().setText(self.runner.admin_token)
        self.report("Admin token copied", 3000)

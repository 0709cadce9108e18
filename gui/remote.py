"""The panel attached to a server it did not start (`mixscope gui --connect URL`): the thin Qt side.

The connection itself (admin API calls, the event stream, reconnecting) is `client.remote.RemoteServer`,
which the window uses in place of a ServerRunner. This adapter only does what needs the window: each time
the connection comes up, it asks for the server's current election so the election views show it at once.
"""

from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from mixscope.gui.main_window import MainWindow


# The server actions connect and disconnect here: the server itself runs elsewhere and keeps running.
_SERVER_ACTIONS = {
    "action_server_start": ("&Connect", "Connect to the server (admin API and event stream)"),
    "action_server_stop": ("&Disconnect", "Disconnect from the server; it keeps running"),
    "action_server_restart": ("&Reconnect", "Disconnect and connect again"),
}


class RemoteAttachment(QObject):
    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        for name, (text, tip) in _SERVER_ACTIONS.items():
            window.actions_by_name[name].setText(text)
            window.actions_by_name[name].setStatusTip(tip)
            window.actions_by_name[name].setToolTip(tip)
        window.pump.batch.connect(self._on_events)

    def _on_events(self, events: list) -> None:
        if any(e.kind == "server.started" and e.data.get("remote") for e in events):
            future = self.window.runner.call("election.current", {})
            self.window.bridge.watch(future, self._current_arrived)

    def _current_arrived(self, future: concurrent.futures.Future) -> None:
        if future.exception() is not None:  # no election yet (or the connection went again): nothing to show
            return
        status = future.result()
        tracker = self.window.election_tracker
        if not tracker.read_only and status.get("election_id") and \
                tracker.info.election_id in ("", status["election_id"]):
            tracker.load_status(status)
        self.window.election.update_enabled()

"""What the election controller needs from the panel around it: a small object, not the window.

The window builds one `ElectionHost` and hands it to the controller: bridge calls, a status line, node
processes, the traffic and clients models, and the prompts. The controller reads no widgets, and this module
imports nothing of the window, so the two no longer import each other.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtGui import QAction

from mixscope.gui.bridge import GuiBridge
from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.models.clients import ClientsModel
from mixscope.gui.models.traffic import TrafficModel
from mixscope.gui.process_manager import ProcessManager


@dataclass
class ElectionHost:
    actions: dict[str, QAction]  # by objectName; the controller wires and enables the election ones
    runner: Any                  # a ServerRunner or a RemoteServer: call(), url, ws_url, join_token, data_dir
    bridge: GuiBridge            # results of Futures and worker threads, back on the GUI thread
    processes: ProcessManager    # spawns the election's nodes
    clients: ClientsModel        # who is connected (nodes_joined)
    traffic: TrafficModel        # what a saved session exports and shows
    report: Callable[[str, int], None]         # a status line for that many milliseconds
    server_up: Callable[[], bool]
    node_url: Callable[[], str]                # the websocket URL the nodes dial ("" until the server runs)
    ask_spec: Callable[[ElectionSpec | None], ElectionSpec | None]
    ask_voter_count: Callable[[], int | None]
    ask_folder: Callable[[str, bool], str | None]  # title, save

    def call(self, action: str, args: dict,
             on_done: Callable[[concurrent.futures.Future], None]) -> concurrent.futures.Future:
        """Call the server bridge; `on_done(future)` runs on the GUI thread when it is done."""
        future = self.runner.call(action, args)
        self.bridge.watch(future, on_done)
        return future

"""Bridge calls from the Nodes actions (roll call, send, broadcast, disconnect), their results in the status line.

`runner.call` returns a Future at once; the GuiBridge hands it back on the GUI thread when it is done.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable

from mixscope.gui.bridge import GuiBridge


class BridgeCalls:
    def __init__(self, runner: Any, bridge: GuiBridge, report: Callable[[str, int], None],
                 selected_client_ids: Callable[[], list[str]], ask_message: Callable[[str], dict | None]):
        self.runner, self.bridge, self.report = runner, bridge, report
        self.selected_client_ids, self.ask_message = selected_client_ids, ask_message

    def call(self, action: str, args: dict | None = None) -> concurrent.futures.Future:
        """Call the server bridge; the result is reported in the status bar when it arrives."""
        future = self.runner.call(action, args or {})
        self.bridge.watch(future, lambda f: self._on_result(action, f))
        return future

    def _on_result(self, action: str, future: concurrent.futures.Future) -> None:
        error = future.exception()
        if error is not None:
            self.report(f"{action} failed: {error}", 10000)
            return
        result = future.result()
        if action == "roll_call":
            replies, sent = result.get("replies") or {}, result.get("sent_to") or []
            missing = result.get("missing") or [c for c in sent if c not in replies]
            text = f"Roll call: {len(replies)}/{len(sent)} nodes replied"
            self.report(text + (f", missing {', '.join(map(str, missing))}" if missing else ""), 10000)
        else:
            self.report(f"{action}: done", 5000)

    def roll_call(self) -> None:
        self.call("roll_call")

    def send_to_selected(self) -> None:
        ids = self.selected_client_ids()
        if not ids:
            self.report("Select a connected client first", 5000)
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

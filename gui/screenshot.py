"""Regenerate the README screenshot: `python -m mixscope.gui.screenshot docs/panel.png`.

Opens the real panel with its own server, spawns three nodes, presses Mix, selects a reply, and saves
QWidget.grab() of the window (works offscreen and under Xvfb alike).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from PySide6.QtCore import QItemSelectionModel, QSettings
from PySide6.QtWidgets import QApplication


def _spin(app: QApplication, seconds: float, until=lambda: False) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        app.processEvents()
        time.sleep(0.01)


def main(path: str) -> int:
    from mixscope.gui.app import DEFAULT_SIZE
    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        runner = ServerRunner(port=0, ping_interval=0.5, data_dir=os.path.join(tmp, "data"))  # not the user's board
        window = MainWindow(runner, QSettings(os.path.join(tmp, "shot.ini"), QSettings.Format.IniFormat))
        window.resize(*DEFAULT_SIZE)  # the wide layout: every view painted
        window.show()
        window.start_server()
        _spin(app, 10, lambda: window.actions_by_name["action_spawn_nodes"].isEnabled())
        window.ask_count = lambda: 3  # type: ignore[method-assign]  # the script answers the dialog
        window.actions_by_name["action_spawn_nodes"].trigger()
        _spin(app, 15, lambda: sum(c.get("state") == "connected" and bool(c.get("name"))
                                   for c in window.clients.clients()) == 3)
        _spin(app, 1.5)  # a ping round trip, so RTT and CPU/memory columns are filled
        window.actions_by_name["action_mix"].trigger()
        _spin(app, 10, lambda: sum(window.traffic.row_at(i).type == "roll_call.reply"
                                   for i in range(window.traffic.rowCount())) == 3)
        _spin(app, 1.2)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        window.processes_view.selectionModel().select(window.processes_model.index(0, 0), flags)
        rows = [i for i in range(window.traffic.rowCount()) if window.traffic.row_at(i).type == "roll_call.reply"]
        window.traffic_view.selectionModel().select(window.traffic_filter.index(rows[0], 0), flags)
        _spin(app, 0.3)
        ok = window.grab().save(path)
        window.close()
    print(f"saved {path}" if ok else f"could not save {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/panel.png"))

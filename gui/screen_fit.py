"""Does the panel fit a screen? `python -m mixscope.gui.screen_fit FOLDER [--nodes N] [--presentation]`.

Opens the real panel on the screen the platform reports (offscreen: `QT_QPA_PLATFORM=offscreen:configfile=
screens.json`; Xvfb: `xvfb-run -a -s "-screen 0 1280x720x24"`), sized as `mixscope gui` sizes it, optionally
with a running server and N mixer nodes, then prints one JSON object: the screen, the window's frame, whether
it lies on the screen, the compact layout's state, and for each table and key widget how it shows after its
tabs are brought to the front (whole rows visible, clipped or not). Saves `panel-WxH[-presentation].png`
(and `…-nodes.png`, the second tab, when the layout is compact).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtWidgets import QApplication, QStackedWidget, QTableView, QTabWidget, QWidget

from mixscope.gui.app import DEFAULT_SIZE
from mixscope.gui.layout import fit_to_screen, visible_rows

KEY_WIDGETS = ("admin_token", "server_state", "election_state", "election_title", "stage_card_tally",
               "election_toolbar", "traffic_filter")


def _spin(app: QApplication, seconds: float, until=lambda: False) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        app.processEvents()
        time.sleep(0.01)
    return until()


def reveal(widget: QWidget) -> None:
    """Bring every tab page holding `widget` to the front."""
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        tabs = parent.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(tabs, QTabWidget):
            tabs.setCurrentWidget(child)
        child, parent = parent, parent.parentWidget()


def shown_whole(widget: QWidget, window: QWidget) -> bool:
    """Visible, not clipped by any ancestor, and inside the window."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    inside = window.rect().contains(QRect(top_left, widget.size()))
    return widget.isVisible() and inside and widget.visibleRegion().boundingRect() == widget.rect()


def measure(app: QApplication, window) -> dict:
    screen = window.screen().geometry()
    frame = window.frameGeometry()
    report = {
        "screen": [screen.width(), screen.height()],
        "window": [frame.x(), frame.y(), frame.width(), frame.height()],
        "on_screen": screen.contains(frame),
        "compact": window.adaptive.compact,
        "presentation": window.presentation.on,
        "font_pt": window.font().pointSizeF(),
        "tables": {},
        "widgets": {},
        "hidden_columns": {},
    }
    for view in window.findChildren(QTableView):
        reveal(view)
        _spin(app, 0.05)
        report["tables"][view.objectName()] = visible_rows(view)
        model = view.model()
        report["hidden_columns"][view.objectName()] = [model.headerData(c, Qt.Orientation.Horizontal)
                                                       for c in range(model.columnCount()) if view.isColumnHidden(c)]
    for name in KEY_WIDGETS:
        widget = window.findChild(QWidget, name)
        if widget is not None:
            reveal(widget)
            _spin(app, 0.05)
            report["widgets"][name] = shown_whole(widget, window)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--nodes", type=int, default=0, help="start the server and this many mixer nodes")
    parser.add_argument("--presentation", action="store_true", help="also measure View ▸ Presentation mode")
    args = parser.parse_args(argv)
    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        runner = ServerRunner(port=0, ping_interval=0.5, data_dir=os.path.join(tmp, "data"))
        window = MainWindow(runner, QSettings(os.path.join(tmp, "fit.ini"), QSettings.Format.IniFormat))
        fit_to_screen(window, *DEFAULT_SIZE)  # as `mixscope gui` opens it
        window.show()
        window.theme.apply("light")
        if args.nodes:
            window.start_server()
            _spin(app, 15, lambda: window.actions_by_name["action_spawn_nodes"].isEnabled())
            window.ask_count = lambda: args.nodes  # type: ignore[method-assign]  # the run answers the dialog
            window.actions_by_name["action_spawn_nodes"].trigger()
            _spin(app, 30, lambda: sum(c.get("state") == "connected" for c in window.clients.clients()) == args.nodes)
            _spin(app, 1.5)
            window.actions_by_name["action_mix"].trigger()
            _spin(app, 5)
        _spin(app, 0.5)
        size = window.screen().geometry()
        for presentation in ((False, True) if args.presentation else (False,)):
            window.actions_by_name["action_presentation_mode"].setChecked(presentation)
            _spin(app, 0.8)
            reports.append(measure(app, window))
            window.adaptive.tabs.setCurrentIndex(0)  # the picture shows the election first
            for tabs in window.findChildren(QTabWidget, "election_tabs"):
                tabs.setCurrentIndex(0)
            _spin(app, 0.3)
            name = f"panel-{size.width()}x{size.height()}{'-presentation' if presentation else ''}"
            window.grab().save(os.path.join(args.folder, name + ".png"))
            if window.adaptive.compact:  # the other tab too
                window.adaptive.tabs.setCurrentIndex(1)
                _spin(app, 0.3)
                window.grab().save(os.path.join(args.folder, name + "-nodes.png"))
        window.close()
    print(json.dumps(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())

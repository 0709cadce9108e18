"""README pictures of a real run: `python -m mixscope.gui.election.screenshots docs/ [--voters N]`.

Plays the demo election (real server, real node processes, mixer 2 cheating) in a 1440×900 window (the wide
layout) and saves QWidget.grab() of it at three moments: the cascade mid-mix (a stage rejected, the next one
still working), the results, and the verification report. Works offscreen and under Xvfb alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QAbstractItemView, QApplication


def _spin(app: QApplication, seconds: float, until=lambda: False) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until():
            return True
        app.processEvents()
        time.sleep(0.005)
    return until()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="docs")
    parser.add_argument("--voters", type=int, default=3000)
    args = parser.parse_args(argv)
    from mixscope.gui.app import DEFAULT_SIZE
    from mixscope.gui.election.demo import DemoDirector
    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    saved: list[str] = []
    os.makedirs(args.folder, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        runner = ServerRunner(port=0, ping_interval=0.5, data_dir=os.path.join(tmp, "data"))
        window = MainWindow(runner, QSettings(os.path.join(tmp, "shot.ini"), QSettings.Format.IniFormat))
        window.resize(*DEFAULT_SIZE)  # the wide layout: every view painted
        window.show()
        window.theme.apply("light")
        window.start_server()
        demo = DemoDirector(window, voters=args.voters, delay=0.3)
        outcome: list[bool] = []
        demo.finished.connect(lambda ok, _caption: outcome.append(ok))
        demo.start()
        info = lambda: window.election_tracker.info  # noqa: E731

        def shoot(name: str) -> None:
            path = os.path.join(args.folder, name)
            if window.grab().save(path):
                saved.append(path)

        def mid_mix() -> bool:
            stages = info().stages
            return (len(stages) >= 3 and stages[1].state == "rejected"
                    and stages[2].state in ("shuffling", "proving") and stages[2].done > 0)

        window.election_panel.tabs.setCurrentIndex(0)
        if _spin(app, 600, lambda: mid_mix() or info().state in ("decrypting", "failed")) and mid_mix():
            _spin(app, 0.3)  # the graphs' next point
            shoot("cascade.png")
        _spin(app, 600, lambda: info().counts is not None)
        _spin(app, 0.5)
        window.election_panel.tabs.setCurrentIndex(1)
        _spin(app, 0.3)
        shoot("results.png")
        _spin(app, 600, lambda: bool(outcome))
        window.election_panel.tabs.setCurrentIndex(2)
        checks = window.election_panel.checks  # past the per-ballot rows, to the cascade's own checks
        rows = [r for r, row in enumerate(checks.rows()) if row[0].startswith("mix stage")]
        if rows:
            window.election_panel.checks_view.scrollTo(checks.index(max(0, rows[0] - 1), 0),
                                                       QAbstractItemView.ScrollHint.PositionAtTop)
        _spin(app, 0.5)
        shoot("report.png")
        window.close()
    print("saved " + ", ".join(saved) if saved else "nothing saved")
    return 0 if len(saved) == 3 and outcome == [True] else 1


if __name__ == "__main__":
    sys.exit(main())

"""The panel on small screens and projectors: the real window on a 1280×720 and a 1920×1080 screen (the
offscreen platform told the screen size), normally and in Presentation mode, measured by gui.screen_fit:
the window lies on the screen, every table shows at least five whole rows once its tab is in front, and the
key widgets (admin token, election state, the Tally card, ...) are shown whole. Then the switch between the
wide and the compact layout, and Presentation mode's way in and out, in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence

from mixscope.gui.layout import MIN_ROWS, PRESENTATION_SCALE, TECHNICAL_COLUMNS, TECHNICAL_PANES
from mixscope.gui.main_window import MainWindow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_screen_fit(tmp_path, width: int, height: int) -> list[dict]:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [{"name": "projector", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    done = subprocess.run([sys.executable, "-m", "mixscope.gui.screen_fit", str(tmp_path), "--presentation"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("width, height, compact", [(1280, 720, True), (1920, 1080, False)])
def test_the_panel_fits_the_screen_normally_and_in_presentation_mode(tmp_path, width, height, compact):
    normal, presenting = run_screen_fit(tmp_path, width, height)
    for report in (normal, presenting):
        assert report["screen"] == [width, height]
        assert report["on_screen"], report["window"]
        assert all(rows >= MIN_ROWS for rows in report["tables"].values()), report["tables"]
        assert set(report["tables"]) >= {"clients_view", "processes_view", "traffic_view", "results_view",
                                         "checks_view"}
        assert all(report["widgets"].values()), report["widgets"]  # admin token, state, Tally card: whole
    assert normal["compact"] is compact  # 1280×720: tabs; 1920×1080: the dock above the tables
    assert presenting["presentation"] is True and normal["presentation"] is False
    assert all(hidden == [] for hidden in normal["hidden_columns"].values())

    assert presenting["window"] == [0, 0, width, height]  # full screen
    assert presenting["font_pt"] == pytest.approx(normal["font_pt"] * PRESENTATION_SCALE)
    for view, headers in TECHNICAL_COLUMNS.items():
        assert presenting["hidden_columns"][view] == list(headers)
    suffix = f"{width}x{height}"
    assert (tmp_path / f"panel-{suffix}.png").stat().st_size > 10_000
    assert (tmp_path / f"panel-{suffix}-presentation.png").stat().st_size > 10_000


@pytest.fixture
def window(qtbot, tmp_path):
    from mixscope.server.runner import ServerRunner

    win = MainWindow(ServerRunner(), QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_small_window_gets_tabs_and_a_large_one_the_dock_back(window, qtbot):
    splitter_sizes = window.main_splitter.sizes()
    window.resize(760, 560)
    qtbot.waitUntil(lambda: window.adaptive.compact)
    tabs = window.adaptive.tabs
    assert tabs.isVisible() and not window.election_dock.isVisible()
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Election", "Nodes and traffic"]
    assert tabs.currentIndex() == 0 and window.election_panel.isVisible()
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: window.traffic_view.isVisible())
    window.resize(window.adaptive.wide_minimum().width() + 40, window.adaptive.wide_minimum().height() + 40)
    qtbot.waitUntil(lambda: not window.adaptive.compact)
    assert window.election_dock.isVisible() and window.election_dock.widget() is window.adaptive.content
    assert window.main_splitter.parentWidget() is window.centralWidget() and not tabs.isVisible()
    assert window.main_splitter.sizes() != [] and len(window.main_splitter.sizes()) == len(splitter_sizes)
    window.resize(760, 560)
    qtbot.waitUntil(lambda: window.adaptive.compact)
    assert window.adaptive.tabs.currentIndex() == 1  # the tab last looked at


def test_wide_layout_keeps_five_rows_in_every_table(window, qtbot):
    needed = window.adaptive.wide_minimum()
    window.resize(needed.width() + 10, needed.height() + 10)
    qtbot.waitUntil(lambda: not window.adaptive.compact and window.traffic_view.isVisible())
    qtbot.wait(50)
    for view in (window.clients_view, window.processes_view, window.traffic_view):
        rows = view.viewport().height() // view.verticalHeader().defaultSectionSize()
        assert rows >= MIN_ROWS, (view.objectName(), rows)


def test_presentation_mode_goes_full_screen_and_comes_back(window, qtbot):
    action = window.findChild(QAction, "action_presentation_mode")
    assert action.shortcut() == QKeySequence("F11") and action.isCheckable()
    assert any(action in m.menu().actions() for m in window.menuBar().actions() if m.text() == "&View")
    font = window.font().pointSizeF()
    title = window.election_panel.title.font().pointSizeF()  # a style-sheet label: scaled one by one
    action.trigger()
    qtbot.waitUntil(lambda: window.isFullScreen())
    assert window.font().pointSizeF() == pytest.approx(font * PRESENTATION_SCALE)
    assert window.election_panel.title.font().pointSizeF() == pytest.approx(title * PRESENTATION_SCALE)
    panes = [getattr(window, name) for name in TECHNICAL_PANES]
    assert all(pane.isHidden() for pane in panes)  # raw output and raw JSON
    peer = window.clients.COLUMNS.index("Peer")
    assert window.clients_view.isColumnHidden(peer) and not window.clients_view.isColumnHidden(0)
    row_height = window.traffic_view.verticalHeader().defaultSectionSize()

    action.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert window.font().pointSizeF() == pytest.approx(font)
    assert window.election_panel.title.font().pointSizeF() == pytest.approx(title)
    assert not window.clients_view.isColumnHidden(peer) and not any(pane.isHidden() for pane in panes)
    assert window.traffic_view.verticalHeader().defaultSectionSize() < row_height


def test_closing_in_presentation_mode_saves_the_normal_window(qtbot, tmp_path):
    from mixscope.server.runner import ServerRunner

    def open_window() -> MainWindow:
        win = MainWindow(ServerRunner(), QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(win)
        win.show()
        return win

    first = open_window()
    first.resize(700, 500)
    font = first.font().pointSizeF()
    first.findChild(QAction, "action_presentation_mode").trigger()
    qtbot.waitUntil(lambda: first.isFullScreen())
    first.close()
    assert not first.presentation.on and first.font().pointSizeF() == pytest.approx(font)

    second = open_window()
    assert not second.isFullScreen() and (second.width(), second.height()) == (700, 500)
    assert not second.findChild(QAction, "action_presentation_mode").isChecked()
    second.close()

"""The window's frame: boxes and splitters, the server strip's own toolbar row, and the election dock.

Only placement: what the widgets do lives in their panels (traffic_panel, nodes_panel, server_control).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QGroupBox,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

ELECTION_DOCK_HEIGHT = 450  # px at first start (the tables below keep 2-4 rows at 820 px); then the saved state decides


def boxed(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(widget)
    return box


def splitter(orientation: Qt.Orientation, name: str, *widgets: QWidget) -> QSplitter:
    split = QSplitter(orientation)
    split.setObjectName(name)
    split.setChildrenCollapsible(False)
    for widget in widgets:
        split.addWidget(widget)
    return split


def build_central(window: QMainWindow, top: QWidget, traffic: QWidget) -> QSplitter:
    """The nodes row above the traffic panel, in the main splitter; returns that splitter."""
    main = splitter(Qt.Orientation.Vertical, "main_splitter", top, traffic)
    for part in (top, traffic):  # small minimums, so the election dock may take most of the height
        part.setMinimumHeight(90)
    main.setSizes([320, 480])  # defaults; saved sizes replace them when the settings are restored
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(main, 1)
    window.setCentralWidget(central)
    return main


def add_server_strip(window: QMainWindow, strip: QWidget) -> QToolBar:
    """The server strip is a toolbar of its own, on its own row: above the election dock, not below it."""
    toolbar = QToolBar("Server", window)
    toolbar.setObjectName("server_toolbar")
    toolbar.setMovable(False)
    toolbar.addWidget(strip)
    window.addToolBarBreak()
    window.addToolBar(toolbar)
    return toolbar


def add_election_dock(window: QMainWindow, panel: QWidget, first_run: bool) -> QDockWidget:
    dock = QDockWidget("Election", window)
    dock.setObjectName("election_dock")
    scroller = QScrollArea()  # the dock may be squeezed below the panel's own minimum on small screens
    scroller.setObjectName("election_scroller")
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    scroller.setMinimumSize(60, 30)
    scroller.setWidget(panel)
    dock.setWidget(scroller)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, dock)
    if first_run:  # no saved window state: give the election most of the height
        QTimer.singleShot(0, lambda: window.resizeDocks([dock], [ELECTION_DOCK_HEIGHT], Qt.Orientation.Vertical))
    return dock


def add_cluster_dock(window: QMainWindow, view: QWidget) -> QDockWidget:
    """The Cluster dock, below; hidden until the server reports a cluster."""
    dock = QDockWidget("Cluster", window)
    dock.setObjectName("cluster_dock")
    dock.setWidget(view)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.hide()
    return dock

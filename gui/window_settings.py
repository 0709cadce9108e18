"""The window's saved layout (geometry, docks and toolbars, every splitter), in the panel's QSettings."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

# Bump when docks, toolbars or splitters change: a layout saved by an older panel is then ignored (restoring
# it would, for instance, squeeze the server strip into the main toolbar's row).
LAYOUT_VERSION = 3


def is_first_run(settings: QSettings) -> bool:
    return settings.value("window/state") is None


def restore_layout(window: QMainWindow, settings: QSettings) -> None:
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    if settings.value("window/layout_version", 0, type=int) != LAYOUT_VERSION:
        return
    state = settings.value("window/state")
    if isinstance(state, QByteArray):
        window.restoreState(state)
    for splitter in window.findChildren(QSplitter):
        saved = settings.value(f"splitters/{splitter.objectName()}")
        if isinstance(saved, QByteArray):
            splitter.restoreState(saved)


def save_layout(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    settings.setValue("window/layout_version", LAYOUT_VERSION)
    for splitter in window.findChildren(QSplitter):
        settings.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
    settings.sync()

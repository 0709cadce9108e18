"""Help ▸ About Mixscope: what the program is, its version and licence, with the application icon."""

from __future__ import annotations

import importlib.metadata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from mixscope.gui import icons


def version() -> str:
    try:
        return importlib.metadata.version("mixscope")
    except importlib.metadata.PackageNotFoundError:  # a source checkout that was never installed
        return "(source)"


def about_box(parent: QWidget | None = None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("about_box")
    box.setWindowTitle("About Mixscope")
    box.setIconPixmap(icons.app_icon().pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Mixscope {version()}")
    box.setInformativeText(
        "A desktop control panel and lab for verifiable mixnet e-voting: a websocket server, mix nodes, "
        "trustees and voters, ristretto255 ElGamal, Terelius–Wikström proofs of shuffle, t-of-n trustees and "
        "a stand-alone verifier of the published record.\n\nMIT licence.")
    return box


def show_about(parent: QWidget | None = None) -> None:
    about_box(parent).exec()

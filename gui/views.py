"""Table and text views configured for live data: fixed row heights, no per-row resizing, monospace logs."""

from __future__ import annotations

import html

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QPlainTextEdit, QTableView


class PlainLabel(QLabel):
    """A label that never renders its text as HTML. A plain QLabel guesses, so a mixer named
    `<b style="color:green">verified</b>` would show as a green "verified": node and voter text goes here."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)


def plain_tooltip(text: str) -> str:
    """A tooltip showing `text` literally (tooltips guess rich text like labels, and have no plain mode)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>" if text else ""


def live_table(model: QAbstractItemModel, name: str, widths: dict[int, int] | None = None,
               stretch: int | None = None) -> QTableView:
    """A table for live rows; `stretch` is the column that takes the spare width (default: the last)."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setCornerButtonEnabled(False)
    rows = view.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never ResizeToContents: cost per row
    rows.setDefaultSectionSize(view.fontMetrics().height() + 6)
    rows.hide()
    columns = view.horizontalHeader()
    columns.setStretchLastSection(stretch is None)
    if stretch is not None:
        columns.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)  # width only, no content scan
    columns.setHighlightSections(False)
    for column, width in (widths or {}).items():
        view.setColumnWidth(column, width)
    return view


def log_view(name: str, max_lines: int = 5_000) -> QPlainTextEdit:
    view = QPlainTextEdit()
    view.setObjectName(name)
    view.setReadOnly(True)
    view.setMaximumBlockCount(max_lines)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return view

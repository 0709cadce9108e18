"""Table and text views configured for live data: fixed row heights, no per-row resizing, monospace logs."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPlainTextEdit, QTableView


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

"""Results as a table and a bar chart; the verification report as one row per check (pass/fail, reason)."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from mixscope.gui.election.tracker_state import ElectionInfo
from mixscope.gui.models.table import ColumnsModel

PASS_COLOR, FAIL_COLOR = QColor("#16a34a"), QColor("#dc2626")


class _ListModel(ColumnsModel):
    """A table over a list of tuples, replaced wholesale (results and reports change rarely, all at once)."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[Any, ...]] = []

    def _set_rows(self, rows: list[tuple[Any, ...]]) -> None:
        if rows == self._rows:
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rows(self) -> list[tuple]:
        return list(self._rows)

    def row_count(self) -> int:
        return len(self._rows)

    def _cell(self, index: QModelIndex | QPersistentModelIndex) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < len(self.COLUMNS):
            return None
        return self._rows[index.row()][index.column()]


class ResultsModel(_ListModel):
    """One row per candidate (shares of the valid votes), then an "invalid" row when any output decrypted
    to no candidate."""

    COLUMNS = ("Candidate", "Votes", "Share")
    INVALID = "invalid (no candidate)"

    def refresh(self, info: ElectionInfo) -> None:
        counts = info.counts or []
        total = sum(counts)
        names = info.candidates or [f"candidate {i}" for i in range(len(counts))]
        rows = [(name, count, f"{100 * count / total:.1f} %" if total else "–") for name, count in zip(names, counts)]
        if info.counts is not None and info.invalid:
            rows.append((self.INVALID, info.invalid, "–"))
        self._set_rows(rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        value = self._cell(index)
        if value is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ChecksModel(_ListModel):
    COLUMNS = ("Check", "Result", "Reason")

    def refresh(self, info: ElectionInfo) -> None:
        self._set_rows([(c["name"], "pass" if c["ok"] else "FAIL", c["reason"]) for c in info.checks or []])

    @property
    def failed(self) -> int:
        return sum(row[1] != "pass" for row in self._rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        value = self._cell(index)
        if value is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return value
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1:
            return PASS_COLOR if value == "pass" else FAIL_COLOR
        return None


class ResultsChart(pg.PlotWidget):
    """Votes per candidate as bars, with the candidates' names on the x axis (invalid votes are in the table)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("results_chart")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setLabel("left", "votes")
        self.showGrid(y=True, alpha=0.3)
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#3b82f6")
        self.addItem(self._bars)
        self.shown: list[int] = []

    def refresh(self, info: ElectionInfo) -> None:
        counts = list(info.counts or [])
        if counts == self.shown:
            return
        self.shown = counts
        names = info.candidates or [f"#{i}" for i in range(len(counts))]
        self._bars.setOpts(x=list(range(len(counts))), height=counts, width=0.6)
        self.getAxis("bottom").setTicks([list(enumerate(names[:len(counts)]))])
        if counts:
            self.setXRange(-0.6, len(counts) - 0.4, padding=0)
            self.setYRange(0, max(max(counts), 1) * 1.1, padding=0)

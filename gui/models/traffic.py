"""The traffic log: one row per websocket frame the server saw, appended in batches, capped in size.

Rows are appended by `append_events` once per GUI timer tick (event_pump.py), never one insert per message,
and the oldest rows are dropped with `beginRemoveRows` once `max_rows` is exceeded, so memory and per-tick
cost stay bounded however heavy the traffic is.
"""

from __future__ import annotations

import collections
import json
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRegularExpression, QSortFilterProxyModel, Qt

from mixscope.gui.models.table import ColumnsModel
from mixscope.wire.events import Event

# Role that returns the searchable text of a row (client, type, direction and the frame itself).
FILTER_ROLE = Qt.ItemDataRole.UserRole + 1
# Role that returns the TrafficRow itself (for the detail pane).
ROW_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass(slots=True)
class TrafficRow:
    at: float
    direction: str
    client_id: str | None
    client: str
    type: str
    size: int
    text: str

    def pretty(self) -> str:
        """The frame as indented JSON (or as received, if it is not JSON)."""
        try:
            return json.dumps(json.loads(self.text), indent=2, sort_keys=True)
        except (TypeError, ValueError):
            return self.text


class TrafficModel(ColumnsModel):
    COLUMNS = ("Time", "Dir", "Client", "Type", "Size")

    def __init__(self, max_rows: int = 20_000, client_name: Callable[[str | None], str] | None = None,
                 parent=None):
        super().__init__(parent)
        self.max_rows = max_rows
        self._rows: collections.deque[TrafficRow] = collections.deque()
        self._client_name = client_name or (lambda client_id: client_id or "")
        self.paused = False
        self._held: collections.deque[TrafficRow] = collections.deque(maxlen=max_rows)
        self.total = 0  # every message seen, including dropped and held ones
        self.seen_clients: set[str] = set()  # for the quick filters' choices
        self.seen_types: set[str] = set()

    # --- feeding -------------------------------------------------------------------------------------------
    def append_events(self, events: Iterable[Event]) -> None:
        """Append the "message" events of one batch (other kinds are ignored)."""
        rows = [self._row(e) for e in events if e.kind == "message"]
        self.total += len(rows)
        self._note(rows)
        if self.paused:
            self._held.extend(rows)
        else:
            self._append(rows)

    def set_paused(self, paused: bool) -> None:
        """While paused, new rows are held back (up to `max_rows`) and appended on resume."""
        self.paused = paused
        if not paused and self._held:
            held, self._held = list(self._held), collections.deque(maxlen=self.max_rows)
            self._append(held)

    @property
    def held(self) -> int:
        return len(self._held)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._held.clear()
        self.endResetModel()

    def all_rows(self) -> list[TrafficRow]:
        """Every row shown and held, oldest first (what a session export saves)."""
        return [*self._rows, *self._held]

    def load_rows(self, rows: list[TrafficRow]) -> None:
        """Replace the log with saved rows (a replayed session); the cap still applies."""
        self.clear()
        self.total = len(rows)
        self._note(rows)
        self._append(list(rows))

    def _note(self, rows: list[TrafficRow]) -> None:
        for row in rows:
            self.seen_clients.add(row.client)
            self.seen_types.add(row.type)

    def _row(self, event: Event) -> TrafficRow:
        data = event.data
        return TrafficRow(event.at, str(data.get("direction", "")), event.client_id,
                          self._client_name(event.client_id), str(data.get("type") or "?"),
                          int(data.get("size") or 0), str(data.get("text", "")))

    def _append(self, rows: list[TrafficRow]) -> None:
        if not rows:
            return
        rows = rows[-self.max_rows:]
        overflow = len(self._rows) + len(rows) - self.max_rows
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                self._rows.popleft()
            self.endRemoveRows()
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    # --- Qt model ------------------------------------------------------------------------------------------
    def row_count(self) -> int:
        return len(self._rows)

    def row_at(self, row: int) -> TrafficRow:
        return self._rows[row]

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return time.strftime("%H:%M:%S", time.localtime(row.at)) + f".{int(row.at * 1000) % 1000:03d}"
            if column == 1:
                return "→" if row.direction == "out" else "←" if row.direction == "in" else row.direction
            if column == 2:
                return row.client
            if column == 3:
                return row.type
            if column == 4:
                return row.size
        elif role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return {"in": "client → server", "out": "server → client"}.get(row.direction, row.direction)
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == FILTER_ROLE:
            return f"{row.direction} {row.client} {row.type} {row.text}"
        elif role == ROW_ROLE:
            return row
        return None


class TrafficFilter(QSortFilterProxyModel):
    """Case-insensitive substring-or-regex filter over client, type, direction and frame text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(0)

    def set_pattern(self, text: str) -> None:
        pattern = QRegularExpression(text, QRegularExpression.PatternOption.CaseInsensitiveOption)
        if not pattern.isValid():  # a half-typed regex: match it literally instead
            pattern = QRegularExpression(QRegularExpression.escape(text),
                                         QRegularExpression.PatternOption.CaseInsensitiveOption)
        self.setFilterRegularExpression(pattern)


class QuickFilter(QSortFilterProxyModel):
    """Keeps only rows whose `column` equals one value exactly (None: keep everything). Chained in front of
    the text filter for the client and type combo boxes; all filtering stays in C++ (no Python per row)."""

    def __init__(self, column: int, parent=None):
        super().__init__(parent)
        self.setFilterKeyColumn(column)
        self.value: str | None = None

    def set_value(self, value: str | None) -> None:
        self.value = value or None
        pattern = "" if self.value is None else f"^{QRegularExpression.escape(self.value)}$"
        self.setFilterRegularExpression(QRegularExpression(pattern))

"""The connected-clients table: one row per websocket client, updated from client.* events.

A disconnected client keeps its row (state "disconnected") so the panel shows what went away; when a
client with the same name connects again, its old row is dropped in favour of the new one.
"""

from __future__ import annotations

import time
from typing import Any, Iterable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from mixscope.gui.models.table import ColumnsModel
from mixscope.wire.events import Event

ID_ROLE = Qt.ItemDataRole.UserRole + 1

_KINDS = ("client.connected", "client.updated", "client.disconnected")


def _bytes(n: Any) -> str:
    n = int(n or 0)
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


class ClientsModel(ColumnsModel):
    COLUMNS = ("Name", "Role", "State", "Peer", "In", "Out", "Bytes in", "Bytes out", "RTT ms", "Connected")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []

    # --- feeding -------------------------------------------------------------------------------------------
    def apply_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.kind in _KINDS and isinstance(event.data.get("client"), dict):
                snapshot = dict(event.data["client"])
                if event.kind == "client.disconnected":
                    snapshot["state"] = "disconnected"
                self._upsert(snapshot)
            elif event.kind == "server.stopped":
                self.mark_all_disconnected()

    def mark_all_disconnected(self) -> None:
        for row, client in enumerate(self._rows):
            if client.get("state") != "disconnected":
                client["state"] = "disconnected"
                self._changed(row)

    def _upsert(self, snapshot: dict[str, Any]) -> None:
        row = self._find(snapshot.get("id"))
        if row is None:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
            self._rows.append(snapshot)
            self.endInsertRows()
        else:
            self._rows[row] = snapshot
            self._changed(row)
        if snapshot.get("name") and snapshot.get("state") != "disconnected":
            self._forget_stale(snapshot["name"], snapshot.get("id"))

    def _forget_stale(self, name: str, live_id: str | None) -> None:
        """A node that reconnects gets a new id (and names itself only in its hello): drop its old row."""
        for row in reversed(range(len(self._rows))):
            client = self._rows[row]
            if client.get("name") == name and client.get("id") != live_id and client.get("state") == "disconnected":
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()

    def _changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def _find(self, client_id: str | None) -> int | None:
        return next((i for i, c in enumerate(self._rows) if c.get("id") == client_id), None)

    def clear_disconnected(self) -> None:
        for row in reversed(range(len(self._rows))):
            if self._rows[row].get("state") == "disconnected":
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()

    # --- lookups -------------------------------------------------------------------------------------------
    def client(self, row: int) -> dict[str, Any]:
        return self._rows[row]

    def clients(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def name_of(self, client_id: str | None) -> str:
        row = self._find(client_id)
        if row is None:
            return client_id or ""
        return self._rows[row].get("name") or client_id or ""

    # --- Qt model ------------------------------------------------------------------------------------------
    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        client = self._rows[index.row()]
        if role == ID_ROLE:
            return client.get("id")
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"id {client.get('id')}"
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == 0:
            return client.get("name") or client.get("id") or ""
        if column == 1:
            return client.get("role") or ""
        if column == 2:
            return client.get("state") or ""
        if column == 3:
            return str(client.get("peer") or "")
        if column == 4:
            return int(client.get("msgs_in") or 0)
        if column == 5:
            return int(client.get("msgs_out") or 0)
        if column == 6:
            return _bytes(client.get("bytes_in"))
        if column == 7:
            return _bytes(client.get("bytes_out"))
        if column == 8:
            rtt = client.get("rtt_ms")
            return "" if rtt is None else f"{float(rtt):.1f}"
        if column == 9:
            at = client.get("connected_at")
            return time.strftime("%H:%M:%S", time.localtime(at)) if isinstance(at, (int, float)) else ""
        return None

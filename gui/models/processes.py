"""The processes table: a view of ProcessManager's children (pid, name, state, CPU, memory, uptime, exit)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from mixscope.gui.models.table import ColumnsModel
from mixscope.gui.process_manager import ProcessManager


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProcessesModel(ColumnsModel):
    COLUMNS = ("PID", "Name", "Role", "State", "Node", "CPU %", "Memory", "Uptime", "Exit code")

    def __init__(self, manager: ProcessManager, parent=None):
        super().__init__(parent)
        self.manager = manager
        manager.about_to_add.connect(self._on_about_to_add)
        manager.added.connect(self._on_added)
        manager.changed.connect(self._on_changed)
        manager.sampled.connect(self._on_sampled)

    def _on_about_to_add(self, row: int) -> None:
        self.beginInsertRows(QModelIndex(), row, row)

    def _on_added(self, row: int) -> None:
        self.endInsertRows()

    def _on_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def _on_sampled(self) -> None:
        if self.manager.processes:
            self.dataChanged.emit(self.index(0, 5), self.index(len(self.manager.processes) - 1, 7))

    def row_count(self) -> int:
        return len(self.manager.processes)

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.manager.processes):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (0, 5, 6, 7, 8):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        entry = self.manager.processes[index.row()]
        column = index.column()
        if column == 0:
            return "" if entry.pid is None else entry.pid
        if column == 1:
            return entry.name
        if column == 2:
            return entry.role
        if column == 3:
            return entry.state
        if column == 4:
            return entry.node_status
        if column == 5:
            return "" if entry.cpu_percent is None else f"{entry.cpu_percent:.1f}"
        if column == 6:
            return "" if entry.rss_bytes is None else f"{entry.rss_bytes / 2**20:.1f} MiB"
        if column == 7:
            return _uptime(entry.uptime)
        if column == 8:
            return "" if entry.exit_code is None else entry.exit_code
        return None

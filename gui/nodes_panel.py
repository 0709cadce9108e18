"""The nodes row: connected clients on the left; the node processes this panel started, with the selected
one's output, on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QWidget

from mixscope.gui.models.clients import ID_ROLE, ClientsModel
from mixscope.gui.models.processes import ProcessesModel
from mixscope.gui.process_manager import ManagedProcess, ProcessManager
from mixscope.gui.views import live_table, log_view
from mixscope.gui.window_layout import boxed, splitter


class NodesPanel(QSplitter):
    selection_changed = Signal()  # clients or processes: the actions that act on a selection follow it

    def __init__(self, clients: ClientsModel, processes: ProcessManager, processes_model: ProcessesModel,
                 parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("top_splitter")
        self.setChildrenCollapsible(False)
        self.clients, self.processes = clients, processes
        self.clients_view = live_table(clients, "clients_view",
                                       {0: 90, 1: 60, 2: 95, 3: 80, 4: 45, 5: 45, 6: 70, 7: 70, 8: 60})
        self.clients_view.selectionModel().selectionChanged.connect(self.selection_changed)
        self.clients_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.processes_view = live_table(processes_model, "processes_view",
                                         {0: 60, 1: 80, 2: 55, 3: 65, 4: 75, 5: 55, 6: 80, 7: 65})
        self.processes_view.selectionModel().selectionChanged.connect(self._on_process_selected)
        self.process_log = log_view("process_log", max_lines=2_000)
        self.process_log.setPlaceholderText("Select a process to see its output")
        processes.log_appended.connect(self._on_process_log)

        process_split = splitter(Qt.Orientation.Vertical, "processes_splitter", self.processes_view, self.process_log)
        self.addWidget(boxed("Clients", self.clients_view))
        self.addWidget(boxed("Processes", process_split))
        self.setSizes([620, 660])

    # --- clients -------------------------------------------------------------------------------------------
    def has_client_selection(self) -> bool:
        return bool(self.clients_view.selectionModel().selectedRows())

    def selected_client_ids(self) -> list[str]:
        """The selected clients that are still connected."""
        rows = self.clients_view.selectionModel().selectedRows()
        return [self.clients.data(index, ID_ROLE) for index in rows
                if self.clients.client(index.row()).get("state") != "disconnected"]

    def selected_client_name(self) -> str | None:
        rows = self.clients_view.selectionModel().selectedRows()
        return self.clients.name_of(self.clients.data(rows[0], ID_ROLE)) if rows else None

    # --- processes -----------------------------------------------------------------------------------------
    def has_process_selection(self) -> bool:
        return bool(self.processes_view.selectionModel().selectedRows())

    def selected_processes(self) -> list[ManagedProcess]:
        return [self.processes.processes[i.row()] for i in self.processes_view.selectionModel().selectedRows()]

    def kill_selected(self) -> None:
        for entry in self.selected_processes():
            self.processes.kill(entry)

    def restart_selected(self) -> None:
        for entry in self.selected_processes():
            self.processes.restart(entry)

    def _on_process_selected(self) -> None:
        selected = self.selected_processes()
        self.process_log.setPlainText("\n".join(selected[0].log) if selected else "")
        self.selection_changed.emit()

    def _on_process_log(self, row: int) -> None:
        selected = self.selected_processes()
        if selected and selected[0] is self.processes.processes[row]:
            self.process_log.setPlainText("\n".join(selected[0].log))
            self.process_log.verticalScrollBar().setValue(self.process_log.verticalScrollBar().maximum())

"""The Cluster dock: where the server's proof work runs when the panel's server has a cluster
(engine/cluster.py). Fed by the `cluster.*` events of the one event channel; `ClusterState` folds them (no Qt),
`ClusterView` shows the fold: scheduler address, state, workers, tasks in flight and done, the dashboard link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from mixscope.gui.views import PlainLabel

KINDS = ("cluster.status", "cluster.tasks", "cluster.fallback")


@dataclass
class ClusterState:
    address: str = ""
    state: str = "none"  # connected | fallback
    reason: str = ""
    dashboard: str = ""
    workers: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    done: int = 0

    def apply(self, kind: str, data: dict[str, Any]) -> bool:
        """Fold one event; True if it was a cluster event."""
        if kind not in KINDS:
            return False
        self.address = str(data.get("address") or self.address)
        if kind == "cluster.status":
            self.state = str(data.get("state") or self.state)
            self.reason = str(data.get("reason") or "")
            link = str(data.get("dashboard") or "")
            self.dashboard = link if link.startswith(("http://", "https://")) else ""
            self.workers = [w for w in data.get("workers") or [] if isinstance(w, dict)]
        elif kind == "cluster.tasks":
            self.in_flight, self.done = int(data.get("in_flight") or 0), int(data.get("done") or 0)
        else:
            self.state, self.reason = "fallback", str(data.get("reason") or "")
        return True

    def state_text(self) -> str:
        if self.state == "fallback":
            return f"fell back to the local pool: {self.reason}"
        return {"connected": "connected", "none": "no cluster"}.get(self.state, self.state)

    def worker_lines(self) -> list[str]:
        lines = []
        for w in self.workers:
            memory = w.get("memory")
            mb = f", {memory / 1e6:.0f} MB" if isinstance(memory, (int, float)) else ""
            threads = w.get("threads", 1)
            lines.append(f"{w.get('name', '?')}  {w.get('address', '')}  "
                         f"({threads} thread{'' if threads == 1 else 's'}{mb})")
        return lines


class ClusterView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("cluster_view")
        self.state = ClusterState()
        self.address_label = self._label("cluster_address")
        self.state_label = self._label("cluster_state")
        self.tasks_label = self._label("cluster_tasks")
        self.dashboard_label = self._label("cluster_dashboard")
        self.dashboard_button = QToolButton()  # a button, not a rich-text link: every label here is plain text
        self.dashboard_button.setObjectName("cluster_dashboard_open")
        self.dashboard_button.setText("Open")
        self.dashboard_button.clicked.connect(self.open_dashboard)
        dashboard = QHBoxLayout()
        dashboard.addWidget(self.dashboard_label, 1)
        dashboard.addWidget(self.dashboard_button)
        self.workers_text = QPlainTextEdit()
        self.workers_text.setObjectName("cluster_workers")
        self.workers_text.setReadOnly(True)  # plain text: worker names come from the cluster
        self.workers_text.setMaximumHeight(90)
        form = QFormLayout()
        form.addRow(PlainLabel("Scheduler"), self.address_label)
        form.addRow(PlainLabel("State"), self.state_label)
        form.addRow(PlainLabel("Tasks"), self.tasks_label)
        form.addRow(PlainLabel("Dashboard"), dashboard)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(PlainLabel("Workers"))
        layout.addWidget(self.workers_text)
        self.refresh()

    @staticmethod
    def _label(name: str) -> PlainLabel:
        label = PlainLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        return label

    def open_dashboard(self) -> None:
        if self.state.dashboard:
            QDesktopServices.openUrl(QUrl(self.state.dashboard))

    def apply_events(self, events: list) -> bool:
        changed = False
        for event in events:
            changed = self.state.apply(event.kind, event.data) or changed
        if changed:
            self.refresh()
        return changed

    def refresh(self) -> None:
        s = self.state
        self.address_label.setText(s.address or "none (set one in the server strip)")
        self.state_label.setText(s.state_text())
        self.tasks_label.setText(f"{s.in_flight} in flight · {s.done} done")
        self.dashboard_label.setText(s.dashboard or "none running")
        self.dashboard_button.setEnabled(bool(s.dashboard))
        lines = s.worker_lines()
        self.workers_text.setPlainText("\n".join(lines) if lines else "no workers")

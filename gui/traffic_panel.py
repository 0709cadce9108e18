"""The traffic panel: every websocket frame in a filtered table, its quick filters and counters, and the
selected frame as JSON. The filters are proxy models (client and type exact, then a regex), all in C++."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from mixscope.gui.event_pump import EventPump
from mixscope.gui.models.traffic import ROW_ROLE, QuickFilter, TrafficFilter, TrafficModel
from mixscope.gui.views import PlainLabel, live_table, log_view
from mixscope.gui.window_layout import splitter


class TrafficPanel(QGroupBox):
    def __init__(self, traffic: TrafficModel, pump: EventPump, parent: QWidget | None = None):
        super().__init__("Traffic", parent)
        self.traffic, self.pump = traffic, pump
        # Quick filters (client, type: exact, from combo boxes) feed the text filter.
        self.client_quick = QuickFilter(2, self)
        self.client_quick.setSourceModel(traffic)
        self.type_quick = QuickFilter(3, self)
        self.type_quick.setSourceModel(self.client_quick)
        self.traffic_filter = TrafficFilter(self)
        self.traffic_filter.setSourceModel(self.type_quick)

        self.traffic_view = live_table(self.traffic_filter, "traffic_view", {0: 100, 1: 40, 2: 110, 4: 70},
                                       stretch=3)
        self.traffic_view.selectionModel().selectionChanged.connect(self._on_selected)
        self.traffic_detail = log_view("traffic_detail")
        self.traffic_detail.setPlaceholderText("Select a message to see it as JSON")
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("traffic_filter")
        self.filter_edit.setPlaceholderText("Filter: client, type or text (regex)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.traffic_filter.set_pattern)
        self.follow_check = QCheckBox("Follow")
        self.follow_check.setObjectName("traffic_follow")
        self.follow_check.setChecked(True)
        self.traffic_count = PlainLabel()
        self.traffic_count.setObjectName("traffic_count")
        self.client_combo = _quick_combo("traffic_client_filter", "all clients", self.client_quick)
        self.type_combo = _quick_combo("traffic_type_filter", "all types", self.type_quick)

        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.client_combo)
        bar.addWidget(self.type_combo)
        bar.addWidget(self.follow_check)
        bar.addWidget(self.traffic_count)
        split = splitter(Qt.Orientation.Horizontal, "traffic_splitter", self.traffic_view, self.traffic_detail)
        split.setSizes([700, 580])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

    def pause(self, paused: bool) -> None:
        self.traffic.set_paused(paused)
        self.update_count()

    def clear(self) -> None:
        self.traffic.clear()
        self.traffic_detail.clear()
        self.update_count()

    def follow_new_rows(self) -> None:
        """After a batch: keep the newest row in sight, unless the user unticked Follow or paused."""
        if self.follow_check.isChecked() and not self.traffic.paused:
            self.traffic_view.scrollToBottom()

    def show_client(self, name: str) -> None:
        """Show only this client's traffic (the client quick filter set to its name)."""
        if self.client_combo.findText(name) < 0:
            self.client_combo.addItem(name)
        self.client_combo.setCurrentText(name)

    def update_count(self) -> None:
        _refresh_combo(self.client_combo, self.traffic.seen_clients)
        _refresh_combo(self.type_combo, self.traffic.seen_types)
        text = f"{self.traffic_filter.rowCount()} shown · {self.traffic.total} seen"
        if self.traffic.paused:
            text += f" · paused ({self.traffic.held} held)"
        if self.pump.dropped:
            text += f" · {self.pump.dropped} dropped"
        self.traffic_count.setText(text)

    def _on_selected(self) -> None:
        rows = self.traffic_view.selectionModel().selectedRows()
        row = self.traffic_filter.data(rows[0], ROW_ROLE) if rows else None
        self.traffic_detail.setPlainText(row.pretty() if row else "")


def _quick_combo(name: str, everything: str, quick: QuickFilter) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.addItem(everything)
    combo.setMinimumContentsLength(12)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.currentIndexChanged.connect(lambda index: quick.set_value(combo.currentText() if index > 0 else None))
    return combo


def _refresh_combo(combo: QComboBox, seen: set[str]) -> None:
    """Add values seen since the last refresh (sorted after the "all" entry); never drops the current one."""
    present = {combo.itemText(i) for i in range(1, combo.count())}
    for value in sorted(v for v in seen - present if v):
        combo.addItem(value)

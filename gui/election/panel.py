"""The election panel (a dock): the state line, the election actions as buttons, the cascade picture, and
tabs for live graphs, results and the verification report. A thin view over ElectionTracker."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QSplitter, QTabWidget, QToolBar, QVBoxLayout, QWidget

from mixscope.gui.election.cascade import CascadeView
from mixscope.gui.election.graphs import RateGraphs
from mixscope.gui.election.results import ChecksModel, ResultsChart, ResultsModel
from mixscope.gui.election.tracker import ElectionTracker
from mixscope.gui.views import PlainLabel, live_table

BUTTONS = ("action_election_new", "action_election_spawn", "action_election_keygen", "action_election_voters",
           "action_election_close", "action_election_mix", "action_election_decrypt", "action_election_verify",
           "action_session_export")


class ElectionPanel(QWidget):
    def __init__(self, tracker: ElectionTracker, actions: dict[str, QAction], parent=None):
        super().__init__(parent)
        self.setObjectName("election_panel")
        self.tracker = tracker

        self.caption = _Caption("")
        self.caption.setObjectName("demo_caption")
        self.caption.setWordWrap(True)
        font = self.caption.font()
        font.setPixelSize(15)
        font.setBold(True)
        self.caption.setFont(font)
        self.caption.setStyleSheet("padding: 4px; border-left: 4px solid #3b82f6;")
        self.caption.hide()
        self.caption.setFixedHeight(2 * self.caption.fontMetrics().lineSpacing() + 12)  # two wrapped lines
        self.title = PlainLabel("No election yet: New election (Ctrl+Shift+N)")
        self.title.setObjectName("election_title")
        self.title.setStyleSheet("font-weight: bold;")
        self.state_label = PlainLabel("")
        self.state_label.setObjectName("election_state")
        self.voters_bar = QProgressBar()
        self.voters_bar.setObjectName("voters_progress")
        self.voters_bar.setMaximumWidth(220)
        self.voters_bar.setFormat("voters %v/%m")
        self.voters_bar.hide()

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.voters_bar)
        header.addWidget(self.state_label)
        # A toolbar, not a row of buttons: it folds what does not fit behind its extension arrow.
        buttons = QToolBar("Election")
        buttons.setObjectName("election_toolbar")
        buttons.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name in BUTTONS:
            buttons.addAction(actions[name])

        self.cascade = CascadeView()
        self.graphs = RateGraphs()
        self.results = ResultsModel(self)
        self.results_chart = ResultsChart()
        self.results_view = live_table(self.results, "results_view", {0: 160, 1: 70})
        results_tab = QSplitter(Qt.Orientation.Horizontal)
        results_tab.setObjectName("results_splitter")
        results_tab.addWidget(self.results_chart)
        results_tab.addWidget(self.results_view)
        results_tab.setSizes([700, 320])
        self.checks = ChecksModel(self)
        self.checks_view = live_table(self.checks, "checks_view", {0: 330, 1: 60})
        self.checks_summary = PlainLabel("Not verified yet")
        self.checks_summary.setObjectName("checks_summary")
        report_tab = QWidget()
        report_layout = QVBoxLayout(report_tab)
        report_layout.setContentsMargins(0, 0, 0, 0)
        report_layout.addWidget(self.checks_summary)
        report_layout.addWidget(self.checks_view, 1)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("election_tabs")
        self.tabs.addTab(self.graphs, "Live graphs")
        self.tabs.addTab(results_tab, "Results")
        self.tabs.addTab(report_tab, "Verification report")

        body = QSplitter(Qt.Orientation.Vertical)
        body.setObjectName("election_splitter")
        body.setChildrenCollapsible(False)
        body.addWidget(self.cascade)
        body.addWidget(self.tabs)
        for part in (self.cascade, self.tabs):
            part.setMinimumSize(200, 60)
        self.cascade.setMaximumHeight(175)  # cards need ~5 lines; spare height goes to the graphs and tables
        body.setStretchFactor(0, 0)
        body.setStretchFactor(1, 1)
        body.setSizes([160, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(3)
        layout.addWidget(self.caption)
        layout.addLayout(header)
        layout.addWidget(buttons)
        layout.addWidget(body, 1)

        tracker.changed.connect(self.refresh)
        self._ticker = QTimer(self)  # ETA and "running for" move on even without new events
        self._ticker.timeout.connect(self._tick)
        self._ticker.start(1000)
        self._shown_result, self._shown_checks = False, False
        self.refresh()

    def refresh(self) -> None:
        info = self.tracker.info
        if info.election_id:
            question = f"{info.question} · " if info.question else ""
            self.title.setText(f"{question}election {info.election_id}"
                               + (" (saved session, read-only)" if self.tracker.read_only else ""))
        state = info.state or "—"
        self.state_label.setText(f"state: {state}" + (f" — {info.reason}" if info.reason else "")
                                 + f" · {info.ballots} ballots")
        self.cascade.refresh(info)
        self.results.refresh(info)
        self.results_chart.refresh(info)
        self.checks.refresh(info)
        if info.checks is None:
            self.checks_summary.setText("Not verified yet")
        else:
            failed = self.checks.failed
            self.checks_summary.setText(f"All {len(info.checks)} checks pass: the record verifies" if not failed
                                        else f"{failed} of {len(info.checks)} checks FAIL: the record does not verify")
            self.checks_summary.setStyleSheet(f"font-weight: bold; color: {'#16a34a' if not failed else '#dc2626'};")
        # Bring a new result or report to the front once, without fighting the user's own tab choice later.
        if info.checks is not None and not self._shown_checks:
            self._shown_checks = True
            self.tabs.setCurrentIndex(2)
        elif info.counts is not None and not self._shown_result:
            self._shown_result = True
            self.tabs.setCurrentIndex(1)
        if info.counts is None:
            self._shown_result = False
        if info.checks is None:
            self._shown_checks = False

    def _tick(self) -> None:
        if any(s.state not in ("waiting", "verified", "rejected") for s in self.tracker.info.stages):
            self.cascade.refresh(self.tracker.info)

    def show_voters(self, done: int, total: int) -> None:
        self.voters_bar.setMaximum(max(1, total))
        self.voters_bar.setValue(done)
        self.voters_bar.setVisible(done < total)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def set_dark(self, dark: bool) -> None:
        background, foreground = ("#1c1c1f", "#d4d4d8") if dark else ("#ffffff", "#3f3f46")
        for plot in (self.graphs.messages_plot, self.graphs.ballots_plot, self.graphs.mixers_plot,
                     self.results_chart):
            plot.setBackground(background)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(pg.mkPen(foreground))
                plot.getAxis(axis).setTextPen(pg.mkPen(foreground))

    def stop(self) -> None:
        self._ticker.stop()
        self.graphs.stop()




class _Caption(PlainLabel):
    """A wrapped label that does not claim height-for-width: if it did, the dock's scroll area would lay the
    whole panel out at its preferred height (clipping the plots) instead of fitting it to the dock."""

    def hasHeightForWidth(self) -> bool:
        return False

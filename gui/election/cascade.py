"""The mix cascade as a picture: ballot box → mixer 1 … mixer K → trustees → tally, one card per stage (a
homomorphic election: ballot box → homomorphic sum → trustees → tally).

Plain widgets (QFrame cards in a row with arrows), restyled by a dynamic "state" property so a rejected
stage turns red and a verified one green in both themes. `refresh(info)` is cheap: cards are rebuilt only
when the number of stages changes, otherwise their labels are updated in place.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QProgressBar, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from mixscope.gui.election.tracker_state import ElectionInfo, StageInfo
from mixscope.gui.views import PlainLabel, plain_tooltip

_STYLE = """
StageCard { border: 2px solid palette(mid); border-radius: 8px; }
StageCard[state="receiving"], StageCard[state="shuffling"], StageCard[state="proving"],
StageCard[state="verifying"] { border-color: #3b82f6; }
StageCard[state="verified"] { border-color: #16a34a; }
StageCard[state="rejected"] { border-color: #dc2626; }
QLabel#stage_state[state="verified"] { color: #16a34a; font-weight: bold; }
QLabel#stage_state[state="rejected"] { color: #dc2626; font-weight: bold; }
"""


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


class StageCard(QFrame):
    def __init__(self, key: str, title: str, parent=None):
        super().__init__(parent)
        self.setObjectName(f"stage_card_{key}")
        self.setMinimumWidth(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.title = PlainLabel(title)
        self.title.setObjectName("stage_title")
        self.title.setStyleSheet("font-weight: bold;")
        self.state_label = PlainLabel("waiting")
        self.state_label.setObjectName("stage_state")
        self.bar = QProgressBar()
        self.bar.setObjectName("stage_progress")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.detail = PlainLabel("")
        self.detail.setObjectName("stage_detail")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addWidget(self.state_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail, 1)

    def set_content(self, title: str, state: str, fraction: float, detail: str) -> None:
        self.title.setText(title)
        self.state_label.setText(state)
        self.bar.setValue(round(1000 * max(0.0, min(1.0, fraction))))
        self.detail.setText(detail)
        self.detail.setToolTip(plain_tooltip(detail))
        if self.property("state") != state:
            for widget in (self, self.state_label):
                widget.setProperty("state", state)
                widget.style().unpolish(widget)
                widget.style().polish(widget)


class CascadeView(QScrollArea):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cascade_view")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._inner = QWidget()
        self._inner.setStyleSheet(_STYLE)
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(4, 4, 4, 4)
        self._row.setSpacing(4)
        self.setWidget(self._inner)
        self.cards: dict[str, StageCard] = {}
        self._shape: tuple[Any, ...] = ()
        self.refresh(ElectionInfo())

    def card(self, key: str | int) -> StageCard:
        """"ballots", "trustees", "tally", or a mix stage's 0-based index."""
        return self.cards[f"mix{key}" if isinstance(key, int) else key]

    def _rebuild(self, stage_count: int, summed: bool = False) -> None:
        while self._row.count():
            item = self._row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget:
                widget.deleteLater()
        self.cards = {}
        middle = ["sum"] if summed else [f"mix{i}" for i in range(stage_count)]  # a homomorphic election: no cascade
        keys = ["ballots", *middle, "trustees", "tally"]
        for position, key in enumerate(keys):
            if position:
                arrow = PlainLabel("→")
                arrow.setStyleSheet("font-size: 20px;")
                arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self._row.addWidget(arrow)
            card = StageCard(key, key)
            self.cards[key] = card
            self._row.addWidget(card, 1)

    def refresh(self, info: ElectionInfo) -> None:
        summed = info.tally == "homomorphic"
        stage_count = 0 if summed else max(len(info.stages), len(info.mixers))
        if self._shape != (stage_count, summed):
            self._shape = (stage_count, summed)
            self._rebuild(stage_count, summed)
        now = time.monotonic()
        box_state = "verified" if info.state not in ("", "created", "key_ceremony", "voting") else \
            ("receiving" if info.state == "voting" else "waiting")
        self.cards["ballots"].set_content(
            "Ballot box",
            box_state if info.state else "waiting",
            1.0 if box_state == "verified" else 0.0,
            f"{info.ballots} ballots" + (f"\nelection {info.election_id}" if info.election_id else ""),
        )
        for i in range(stage_count):
            stage = info.stages[i] if i < len(info.stages) else StageInfo(i, info.mixers[i])
            self.cards[f"mix{i}"].set_content(f"Mixer {i + 1}: {stage.name}", stage.state, stage.fraction,
                                       self._stage_detail(stage, now))
        if summed:
            added = info.state in ("decrypting", "tallied", "published") or info.counts is not None
            self.cards["sum"].set_content("Homomorphic sum", "verified" if added else
                                          ("receiving" if info.state in ("closed", "mixing") else "waiting"),
                                          1.0 if added else 0.0,
                                          f"{len(info.candidates)} sums of {info.ballots} ballots" if added else
                                          "each candidate's ciphertexts added")
        trustees = info.decrypt
        decrypt_state = trustees.state
        if info.state in ("tallied", "published") or info.counts is not None:
            decrypt_state = "verified"
        elif info.state == "decrypting" and decrypt_state == "waiting":
            decrypt_state = "receiving"
        detail = f"{info.threshold} of {info.trustees} to decrypt" if info.trustees else ""
        if trustees.total and decrypt_state != "verified":
            detail += f"\n{trustees.phase} {trustees.done}/{trustees.total}"
        self.cards["trustees"].set_content(
            "Trustees", decrypt_state, trustees.fraction if decrypt_state != "verified" else 1.0, detail
        )
        if info.counts is not None:
            names = info.candidates or [f"#{i}" for i in range(len(info.counts))]
            lines = [f"{name}: {count}" for name, count in zip(names, info.counts)]
            if info.invalid:
                lines.append(f"invalid: {info.invalid}")
            state = "verified" if info.verified is not False else "rejected"
            self.cards["tally"].set_content("Tally", state, 1.0, "\n".join(lines))
        else:
            failed = info.state == "failed"
            self.cards["tally"].set_content("Tally", "rejected" if failed else "waiting", 0.0,
                                     info.reason if failed else "")

    @staticmethod
    def _stage_detail(stage: StageInfo, now: float) -> str:
        lines = []
        if stage.count:
            lines.append(f"{stage.count} ciphertexts")
        if stage.state == "rejected":
            lines.append(f"rejected: {stage.reason or 'no reason given'}")
        elif stage.state == "verified":
            if stage.seconds is not None:
                rate = stage.throughput
                lines.append(f"{_seconds(stage.seconds)}" + (f" · {rate:,.0f} ct/s" if rate else ""))
        elif stage.total:
            eta = stage.eta(now)
            lines.append(f"{stage.phase} {stage.done}/{stage.total}" + (f" · ETA {_seconds(eta)}" if eta else ""))
        if stage.started is not None and stage.state not in ("verified", "rejected", "waiting"):
            lines.append(f"running {_seconds(now - stage.started)}")
        return "\n".join(lines)

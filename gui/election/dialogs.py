"""The "New election" dialog: question, candidates, t-of-n trustees, the tally mode, mixers, optionally one
cheater, and how many voters get a credential (the lab plays the credential authority and holds them)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QPlainTextEdit, QSpinBox

from mixscope.gui.views import PlainLabel
from mixscope.wire.protocol import MIXER_CHEAT_EFFECTS, MIXER_CHEATS

CHEATS = MIXER_CHEATS
MAX_VOTERS = 100_000
TALLY_MODES = ("mixnet", "homomorphic")


@dataclass(frozen=True)
class ElectionSpec:
    question: str
    candidates: tuple[str, ...]
    threshold: int
    trustees: int
    mixers: int
    cheat_mixer: int | None = None  # 0-based position of the cheating mixer
    cheat: str | None = None        # one of wire.protocol.MIXER_CHEATS
    voters: int = 100               # eligible voters: one credential each
    tally: str = "mixnet"           # or homomorphic: ballots summed, no cascade

    def problems(self) -> list[str]:
        found = []
        if not self.question.strip():
            found.append("the question is empty")
        if len(self.candidates) < 2:
            found.append("give at least two candidates")
        if len(set(self.candidates)) != len(self.candidates):
            found.append("candidates must be distinct")
        if not 1 <= self.threshold <= self.trustees:
            found.append("threshold must be between 1 and the number of trustees")
        if self.mixers < 1:
            found.append("at least one mixer")
        if not 1 <= self.voters <= MAX_VOTERS:
            found.append(f"voters must be 1..{MAX_VOTERS:,}")
        if self.tally not in TALLY_MODES:
            found.append("the tally is mixnet or homomorphic")
        if self.tally == "homomorphic" and self.cheat_mixer is not None:
            found.append("a homomorphic election has no mixer to cheat")
        if self.cheat_mixer is not None and (not 0 <= self.cheat_mixer < self.mixers or self.cheat not in CHEATS):
            found.append("the cheating mixer must be one of the mixers, with a cheat mode")
        return found

    def create_args(self) -> dict:
        """Arguments of the "election.create" bridge call (mixer names as the panel will spawn them)."""
        args = {"question": self.question, "candidates": list(self.candidates), "threshold": self.threshold,
                "trustees": self.trustees, "mixers": self.mixers, "tally": self.tally}
        if self.cheat_mixer is not None:  # this election's cheater alone: the server tells that stage's mixer
            args.update(cheat=self.cheat, cheat_mixer=self.cheat_mixer)
        return args


class NewElectionDialog(QDialog):
    def __init__(self, parent=None, spec: ElectionSpec | None = None):
        super().__init__(parent)
        self.setObjectName("new_election_dialog")
        self.setWindowTitle("New election")
        spec = spec or ElectionSpec("Which mixnet should we build next?", ("Verificatum", "Bayer-Groth", "Sako-Kilian"),
                                    2, 3, 3)
        self.question = QLineEdit(spec.question)
        self.question.setObjectName("election_question")
        self.candidates = QPlainTextEdit("\n".join(spec.candidates))
        self.candidates.setObjectName("election_candidates")
        self.candidates.setPlaceholderText("One candidate per line")
        self.candidates.setFixedHeight(90)
        self.trustees = _spin("election_trustees", 1, 9, spec.trustees)
        self.threshold = _spin("election_threshold", 1, 9, spec.threshold)
        self.mixers = _spin("election_mixers", 1, 8, spec.mixers)
        self.voters = _spin("election_voters", 1, MAX_VOTERS, spec.voters)
        self.voters.setToolTip("One credential per voter: the lab holds the private ones, the server gets the "
                               "public list")
        self.tally = QComboBox()
        self.tally.setObjectName("election_tally")
        self.tally.addItems(TALLY_MODES)
        self.tally.setCurrentText(spec.tally)
        self.tally.setToolTip("mixnet: a verified mix cascade, then every ballot decrypted; homomorphic: one 0/1 "
                              "ciphertext per candidate, summed, only the sums decrypted")
        self.tally.currentTextChanged.connect(self._mode_changed)
        self.cheat_mixer = QComboBox()
        self.cheat_mixer.setObjectName("election_cheat_mixer")
        self.cheat_mode = QComboBox()
        self.cheat_mode.setObjectName("election_cheat_mode")
        self.cheat_mode.addItems(CHEATS)
        for index, cheat in enumerate(CHEATS):
            self.cheat_mode.setItemData(index, MIXER_CHEAT_EFFECTS[cheat], Qt.ItemDataRole.ToolTipRole)
        self.mixers.valueChanged.connect(self._fill_cheaters)
        self._fill_cheaters(spec.mixers)
        if spec.cheat_mixer is not None:
            self.cheat_mixer.setCurrentIndex(spec.cheat_mixer + 1)
            self.cheat_mode.setCurrentText(spec.cheat or CHEATS[0])
        self.problem = PlainLabel("")
        self.problem.setObjectName("election_problem")
        self.problem.setStyleSheet("color: #dc2626;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow("Question", self.question)
        form.addRow("Candidates", self.candidates)
        form.addRow("Trustees (n)", self.trustees)
        form.addRow("Threshold (t of n)", self.threshold)
        form.addRow("Tally", self.tally)
        form.addRow("Mixers", self.mixers)
        form.addRow("Voters (credentials)", self.voters)
        form.addRow("Cheating mixer", self.cheat_mixer)
        form.addRow("Cheat mode", self.cheat_mode)
        form.addRow(self.problem)
        form.addRow(buttons)
        self._mode_changed(spec.tally)

    def _mode_changed(self, mode: str) -> None:
        mixing = mode != "homomorphic"  # no cascade: mixers and cheaters do not apply
        for widget in (self.mixers, self.cheat_mixer, self.cheat_mode):
            widget.setEnabled(mixing)
        if not mixing:
            self.cheat_mixer.setCurrentIndex(0)

    def _fill_cheaters(self, mixers: int) -> None:
        current = self.cheat_mixer.currentIndex()
        self.cheat_mixer.clear()
        self.cheat_mixer.addItem("none (all honest)")
        self.cheat_mixer.addItems([f"mixer {k + 1}" for k in range(mixers)])
        self.cheat_mixer.setCurrentIndex(current if 0 <= current <= mixers else 0)

    def spec(self) -> ElectionSpec:
        cheater = self.cheat_mixer.currentIndex() - 1
        return ElectionSpec(
            self.question.text().strip(),
            tuple(line.strip() for line in self.candidates.toPlainText().splitlines() if line.strip()),
            self.threshold.value(), self.trustees.value(), self.mixers.value(),
            cheater if cheater >= 0 else None, self.cheat_mode.currentText() if cheater >= 0 else None,
            self.voters.value(), self.tally.currentText())

    def accept(self) -> None:
        problems = self.spec().problems()
        if problems:
            self.problem.setText("; ".join(problems))
            return
        super().accept()


def _spin(name: str, low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setValue(value)
    return spin

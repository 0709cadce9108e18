"""The panel for a homomorphic election: New election offers the mode, and the cascade picture reads
ballot box → homomorphic sum → trustees → tally."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from mixscope.gui.actions import install_actions
from mixscope.gui.election.dialogs import ElectionSpec, NewElectionDialog
from mixscope.gui.election.panel import ElectionPanel
from mixscope.gui.election.tracker import ElectionTracker


def test_new_election_offers_the_tally_mode(qtbot):
    dialog = NewElectionDialog()
    qtbot.addWidget(dialog)
    assert [dialog.tally.itemText(i) for i in range(dialog.tally.count())] == ["mixnet", "homomorphic"]
    assert dialog.spec().create_args()["tally"] == "mixnet" and dialog.mixers.isEnabled()
    dialog.tally.setCurrentText("homomorphic")
    assert not dialog.mixers.isEnabled() and not dialog.cheat_mixer.isEnabled()
    assert dialog.spec().create_args()["tally"] == "homomorphic" and dialog.spec().problems() == []
    spec = ElectionSpec("Q?", ("a", "b"), 1, 1, 1, cheat_mixer=0, cheat="swap", tally="homomorphic")
    assert "a homomorphic election has no mixer to cheat" in spec.problems()


def test_the_cascade_reads_ballot_box_sum_trustees_tally(qtbot):
    host = QMainWindow()
    qtbot.addWidget(host)
    tracker = ElectionTracker(host)
    panel = ElectionPanel(tracker, install_actions(host))
    host.setCentralWidget(panel)
    status = {"election": {"id": "h1", "question": "Q?", "candidates": ["a", "b"], "threshold": 2, "trustees": 3,
                           "mixers": 3, "state": "voting"}, "ballots": 4, "stages": [], "lab": {"tally": "homomorphic"}}
    tracker.load_status(status)
    panel.cascade.refresh(tracker.info)
    cards = panel.cascade.cards
    assert list(cards) == ["ballots", "sum", "trustees", "tally"]
    assert cards["sum"].title.text() == "Homomorphic sum" and cards["sum"].state_label.text() == "waiting"
    tracker.load_status({**status, "election": {**status["election"], "state": "decrypting"}})
    panel.cascade.refresh(tracker.info)
    assert cards["sum"].state_label.text() == "verified" and "2 sums of 4 ballots" in cards["sum"].detail.text()
    panel.stop()


def test_a_published_homomorphic_record_reads_as_a_sum(qtbot):
    import json
    from pathlib import Path

    host = QMainWindow()
    qtbot.addWidget(host)
    tracker = ElectionTracker(host)
    panel = ElectionPanel(tracker, install_actions(host))
    record = json.loads((Path(__file__).parent / "data" / "record-homomorphic-small.json").read_text())
    tracker.load_record(record)
    panel.cascade.refresh(tracker.info)
    assert list(panel.cascade.cards) == ["ballots", "sum", "trustees", "tally"]
    assert tracker.info.counts == [1, 2, 1]
    assert "ann: 1" in panel.cascade.cards["tally"].detail.text()
    panel.stop()

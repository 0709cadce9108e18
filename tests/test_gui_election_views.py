"""The election views over real event streams: events are published on a real EventChannel and reach the
panel through the real EventPump, the panel's only input path."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from mixscope.gui.actions import install_actions
from mixscope.gui.election.dialogs import ElectionSpec, NewElectionDialog
from mixscope.gui.election.enabling import enabled_actions
from mixscope.gui.election.graphs import RateCounter
from mixscope.gui.election.panel import ElectionPanel
from mixscope.gui.election.tracker import ElectionTracker
from mixscope.gui.event_pump import EventPump
from mixscope.wire.events import Event, EventChannel
from mixscope.wire.protocol import MIXER_CHEATS

EID = "abc123"


@pytest.fixture
def lab(qtbot):
    """A real channel and pump feeding a tracker and the election panel (its actions on a bare window)."""
    channel = EventChannel()
    host = QMainWindow()
    qtbot.addWidget(host)
    actions = install_actions(host)
    pump = EventPump(channel, hz=50, parent=host)
    tracker = ElectionTracker(host)
    pump.batch.connect(tracker.apply_events)
    panel = ElectionPanel(tracker, actions)
    pump.batch.connect(panel.graphs.feed)
    host.setCentralWidget(panel)
    host.resize(1360, 500)
    host.show()

    def publish(kind: str, **data) -> None:
        channel.publish(kind, {"election_id": EID, **data})

    def settle() -> None:
        pump.pump()
        QApplication.processEvents()

    yield channel, tracker, panel, publish, settle
    panel.stop()
    pump.close()


def test_cascade_shows_every_stage_state_progress_and_the_rejected_reason(lab):
    _, tracker, panel, publish, settle = lab
    publish("election.state", state="created", reason=None)
    publish("election.state", state="voting", reason=None)
    publish("election.ballot", count=12)
    publish("election.state", state="closed", reason=None)
    publish("election.state", state="mixing", reason=None)
    publish("election.stage", stage=0, mixer="mixer-1", count=12, status="running", reason=None, seconds=0.0)
    settle()
    card = panel.cascade.card(0)
    assert card.state_label.text() == "receiving"
    assert "Mixer 1: mixer-1" in card.title.text()
    assert panel.cascade.card("ballots").detail.text().startswith("12 ballots")

    publish("election.progress", task="mix", stage=0, node="mixer-1", phase="reencrypt", done=1, total=4)
    settle()
    assert card.state_label.text() == "shuffling"
    assert card.bar.value() == 250
    publish("election.progress", task="mix", stage=None, node="mixer-1", phase="prove", done=3, total=4)
    settle()
    assert card.state_label.text() == "proving"
    assert "prove 3/4" in card.detail.text()
    publish("election.stage", stage=0, mixer="mixer-1", count=12, status="verifying", reason=None, seconds=1.0)
    settle()
    assert card.state_label.text() == "verifying"
    publish("election.stage", stage=0, mixer="mixer-1", count=12, status="accepted", reason=None, seconds=2.0)
    publish("election.stage", stage=1, mixer="mixer-2", count=12, status="running", reason=None, seconds=0.0)
    publish("election.stage", stage=1, mixer="mixer-2", count=12, status="rejected",
            reason="shuffle proof does not verify: check t4a fails", seconds=1.5)
    settle()
    card = panel.cascade.card(0)  # a new stage appeared: the row of cards was rebuilt
    assert card.state_label.text() == "verified"
    assert card.bar.value() == 1000
    assert "6 ct/s" in card.detail.text()  # 12 ciphertexts in 2.0 s
    bad = panel.cascade.card(1)
    assert bad.state_label.text() == "rejected"
    assert bad.property("state") == "rejected"
    assert "check t4a fails" in bad.detail.text()
    assert [s.name for s in tracker.info.rejected] == ["mixer-2"]

    publish("election.state", state="decrypting", reason=None)
    publish("election.progress", task="decrypt", stage=None, node="trustee-1", phase="decrypt", done=1, total=2)
    settle()
    assert panel.cascade.card("trustees").state_label.text() == "receiving"
    publish("election.state", state="tallied", reason=None)
    publish("election.result", counts=[7, 5], candidates=["yes", "no"])
    settle()
    assert panel.cascade.card("trustees").state_label.text() == "verified"
    assert panel.cascade.card("tally").detail.text() == "yes: 7\nno: 5"
    assert panel.results.rows() == [("yes", 7, "58.3 %"), ("no", 5, "41.7 %")]
    assert panel.results_chart.shown == [7, 5]
    assert panel.tabs.currentIndex() == 1  # the result comes to the front


def test_invalid_votes_are_listed_in_the_text_but_not_charted(lab, qtmodeltester):
    _, tracker, panel, publish, settle = lab
    publish("election.state", state="tallied", reason=None)
    publish("election.result", counts=[3, 1], invalid=2, candidates=["yes", "no"])
    settle()
    assert tracker.info.invalid == 2
    assert panel.cascade.card("tally").detail.text() == "yes: 3\nno: 1\ninvalid: 2"
    assert panel.results.rows() == [("yes", 3, "75.0 %"), ("no", 1, "25.0 %"), ("invalid (no candidate)", 2, "–")]
    assert panel.results_chart.shown == [3, 1]  # the chart has the candidates only
    qtmodeltester.check(panel.results)


def test_verification_report_lists_every_check(lab, qtmodeltester):
    _, tracker, panel, publish, settle = lab
    publish("election.state", state="tallied", reason=None)
    checks = [{"name": "format", "ok": True, "reason": "ok"},
              {"name": "mix stage 1 rejection justified", "ok": True, "reason": "proof fails: t4a"},
              {"name": "tally matches decrypted plaintexts", "ok": False, "reason": "counts[0] is 3, expected 2"}]
    publish("election.verified", ok=False, checks=checks)
    settle()
    assert panel.checks.rows() == [("format", "pass", "ok"),
                                   ("mix stage 1 rejection justified", "pass", "proof fails: t4a"),
                                   ("tally matches decrypted plaintexts", "FAIL", "counts[0] is 3, expected 2")]
    assert "1 of 3 checks FAIL" in panel.checks_summary.text()
    assert panel.tabs.currentIndex() == 2
    qtmodeltester.check(panel.checks)
    qtmodeltester.check(panel.results)


def test_a_new_election_resets_the_picture_and_stray_events_are_ignored(lab):
    _, tracker, panel, publish, settle = lab
    publish("election.state", state="mixing", reason=None)
    publish("election.stage", stage=0, mixer="mixer-1", count=4, status="rejected", reason="late", seconds=1.0)
    settle()
    assert tracker.info.stages[0].state == "rejected"
    lab[0].publish("election.state", {"election_id": "other", "state": "created", "reason": None})
    lab[0].publish("election.stage", {"election_id": EID, "stage": 0, "mixer": "mixer-1", "status": "accepted"})
    settle()
    assert tracker.info.election_id == "other"
    assert tracker.info.stages == []
    assert panel.cascade.cards.keys() == {"ballots", "trustees", "tally"}


def test_failed_election_shows_the_reason_on_the_tally_card(lab):
    _, tracker, panel, publish, settle = lab
    publish("election.state", state="failed", reason="no honest mixer left")
    settle()
    assert panel.cascade.card("tally").state_label.text() == "rejected"
    assert panel.cascade.card("tally").detail.text() == "no honest mixer left"
    assert "no honest mixer left" in panel.state_label.text()


@pytest.mark.parametrize("state, expected", [
    ("", {"action_election_new"}),
    ("created", {"action_election_new", "action_election_spawn", "action_election_keygen"}),
    # a ceremony a restart interrupted: the key ceremony resumes from here
    ("key_ceremony", {"action_election_new", "action_election_spawn", "action_election_keygen"}),
    ("voting", {"action_election_new", "action_election_voters", "action_election_close"}),
    ("closed", {"action_election_new", "action_election_mix"}),
    ("mixing", {"action_election_new", "action_election_mix"}),
    ("decrypting", {"action_election_new", "action_election_decrypt"}),
    ("tallied", {"action_election_new", "action_election_verify"}),
    ("published", {"action_election_new", "action_election_verify", "action_session_export"}),
    ("failed", {"action_election_new"}),
])
def test_actions_enabled_per_state(state, expected):
    assert enabled_actions(state, server_up=True) == expected
    assert enabled_actions(state, server_up=False) <= {"action_session_export"}
    assert enabled_actions(state, server_up=True, busy=True) <= {"action_session_export"}
    assert enabled_actions(state, server_up=True, read_only=True) == {"action_session_export"}


def test_rate_counter_turns_events_into_rates():
    counter = RateCounter()
    counter.sample(100.0)
    events = [Event("message", {}) for _ in range(30)]
    events += [Event("election.ballot", {"count": 10}), Event("election.ballot", {"count": 25})]
    events += [Event("election.stage", {"stage": 0, "mixer": "m1", "count": 100, "status": "running"}),
               Event("election.progress", {"task": "mix", "stage": 0, "node": "m1", "phase": "reencrypt",
                                           "done": 2, "total": 4})]
    counter.feed(events)
    counter.sample(102.0)  # two seconds later
    assert counter.messages[-1] == 15.0
    assert counter.ballots[-1] == 12.5
    assert counter.mixers["m1"][-1] == 25.0  # half of 100 ciphertexts in 2 s
    counter.feed([Event("election.progress", {"task": "mix", "stage": 0, "node": "m1", "phase": "reencrypt",
                                              "done": 3, "total": 4})])
    counter.sample(103.0)
    assert counter.mixers["m1"][-1] == 25.0 and counter.ballots[-1] == 0.0 and counter.messages[-1] == 0.0


def test_graph_axes_stay_still_while_the_curves_move(qtbot, monkeypatch):
    """x is seconds-ago over a fixed window and y moves in 1-2-5 steps, so pyqtgraph keeps the axes cached."""
    from mixscope.gui.election import graphs as graphs_mod
    from mixscope.gui.election.graphs import WINDOW, RateGraphs, nice_ceiling

    assert [nice_ceiling(v) for v in (0, 0.5, 1, 1.5, 3, 7, 10, 11, 4_999, 5_001)] == [
        1,
        1,
        1,
        2,
        5,
        10,
        10,
        20,
        5_000,
        10_000,
    ]
    clock = iter([100.0, 101.0, 102.0])
    monkeypatch.setattr(graphs_mod.time, "monotonic", lambda: next(clock))
    graphs = RateGraphs(interval_ms=60_000)
    qtbot.addWidget(graphs)
    graphs.feed([Event("message", {}) for _ in range(7)])
    graphs.tick()
    ranges = graphs.messages_plot.viewRange()
    assert ranges[0] == [-WINDOW, 0] and ranges[1] == [0, 10]  # 7 messages/s → a y range of 10
    graphs.feed([Event("message", {}) for _ in range(5)])
    graphs.tick()
    assert graphs.messages_plot.viewRange() == ranges  # a lower rate: the same axes
    x, _ = graphs._messages.getData()
    assert list(x) == [-1.0, 0.0]
    graphs.stop()


def test_new_election_dialog_refuses_bad_input(qtbot):
    dialog = NewElectionDialog()
    qtbot.addWidget(dialog)
    dialog.candidates.setPlainText("only one")
    dialog.trustees.setValue(2)
    dialog.threshold.setValue(3)
    dialog.accept()
    assert dialog.result() != NewElectionDialog.DialogCode.Accepted
    assert "at least two candidates" in dialog.problem.text() and "threshold" in dialog.problem.text()
    dialog.candidates.setPlainText("yes\nno\n")
    dialog.threshold.setValue(2)
    dialog.mixers.setValue(3)
    dialog.cheat_mixer.setCurrentIndex(2)
    modes = [dialog.cheat_mode.itemText(k) for k in range(dialog.cheat_mode.count())]
    assert modes == list(MIXER_CHEATS)  # every way a mixer node can spoil its stage
    tips = [dialog.cheat_mode.itemData(k, Qt.ItemDataRole.ToolTipRole) for k in range(len(modes))]
    assert tips[modes.index("identity")].endswith("not_rerandomised") and all(tips)  # what each does, and its class
    dialog.cheat_mode.setCurrentText("drop")
    assert dialog.spec() == ElectionSpec(dialog.question.text(), ("yes", "no"), 2, 2, 3, 1, "drop")
    dialog.accept()
    assert dialog.result() == NewElectionDialog.DialogCode.Accepted


def test_status_reply_fills_in_the_question_and_placeholder_mixers(lab):
    _, tracker, panel, publish, settle = lab
    tracker.load_status({"election": {"id": EID, "question": "Q?", "candidates": ["a", "b"], "threshold": 2,
                                      "trustees": 3, "mixers": 2, "state": "created"}, "ballots": 0, "stages": []})
    settle()
    assert panel.cascade.cards.keys() == {"ballots", "mix0", "mix1", "trustees", "tally"}
    assert panel.cascade.card(1).state_label.text() == "waiting"
    assert "Q?" in panel.title.text() and "2 of 3 to decrypt" in panel.cascade.card("trustees").detail.text()
    publish("election.stage", stage=0, mixer="mixer-7", count=5, status="running", reason=None, seconds=0.0)
    settle()
    assert panel.cascade.card(0).title.text() == "Mixer 1: mixer-7"


def test_a_rejected_stage_shows_its_class_live_and_from_a_record(lab, qtbot):
    """Record version 3: the cascade card says what kind of refusal it was (docs/verifier.md §4.1)."""
    from mixscope.mixnet.simulate import run_election

    _, tracker, panel, publish, settle = lab
    publish("election.state", state="mixing", reason=None)
    publish(
        "election.stage",
        stage=0,
        mixer="mixer-1",
        count=4,
        status="rejected",
        reason="answered for stage 1, not 0",
        seconds=1.0,
        **{"class": "malformed"},
    )
    settle()
    assert tracker.info.stages[0].reason == "malformed: answered for stage 1, not 0"
    record = run_election([0, 1, 1], ["yes", "no"], 1, 1, 2, cheat={0: "identity"})
    fresh = type(tracker)()
    fresh.load_record(record)
    assert fresh.info.stages[0].name == "mixer-1" and fresh.info.stages[0].reason.startswith("not_rerandomised: ")
    assert fresh.info.stages[1].state == "verified" and fresh.info.stages[1].count == 3

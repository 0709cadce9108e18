"""The tracker's state fold is plain Python: driven here without Qt, and importable without it."""

import subprocess
import sys

from mixscope.gui.election.tracker_state import ElectionState
from mixscope.server.election import states
from mixscope.wire.events import Event

EID = "e-1"


def _events(*items: tuple[str, dict]) -> list[Event]:
    return [Event(kind, {"election_id": EID, **data}) for kind, data in items]


def test_the_fold_follows_an_election_through_its_cascade_without_qt():
    fold = ElectionState()
    assert fold.apply_events(_events(("election.state", {"state": states.CREATED}),
                                     ("election.ballot", {"count": 12}),
                                     ("election.state", {"state": states.MIXING}),
                                     ("election.stage", {"stage": 0, "mixer": "mixer-1", "status": "running",
                                                         "count": 12})))
    info = fold.info
    assert (info.election_id, info.state, info.ballots) == (EID, states.MIXING, 12)
    assert [(s.name, s.state) for s in info.stages] == [("mixer-1", "receiving")]

    assert fold.apply_events(_events(("election.progress", {"task": "mix", "node": "mixer-1", "phase": "prove",
                                                            "done": 3, "total": 4})))
    assert (info.stages[0].state, info.stages[0].done, info.stages[0].total) == ("proving", 3, 4)
    fold.apply_events(_events(("election.stage", {"stage": 0, "mixer": "mixer-1", "status": "rejected",
                                                  "reason": "check t4a fails"})))
    assert [s.reason for s in info.rejected] == ["check t4a fails"]

    # Unrelated kinds and stray news of an older election change nothing (so the adapter emits nothing).
    assert not fold.apply_events([Event("client.message", {"type": "ping"})])
    assert not fold.apply_events([Event("election.ballot", {"election_id": "older", "count": 99})])
    assert info.ballots == 12

    fold.set_checks([("ballots", True, ""), ["shuffle", False, "bad proof"]])
    assert info.verified is False and [c["name"] for c in info.checks] == ["ballots", "shuffle"]


def test_a_saved_record_makes_the_fold_read_only():
    fold = ElectionState()
    fold.load_record({"election": {"id": EID, "question": "Q?", "candidates": ["a", "b"]},
                      "mix": [{"mixer": "mixer-1", "status": "accepted", "outputs": [1, 2]}],
                      "result": {"counts": [1, 1]}})
    assert fold.read_only and fold.info.state == states.PUBLISHED and fold.info.counts == [1, 1]
    assert not fold.apply_events(_events(("election.state", {"state": states.VOTING})))
    assert not fold.load_status({"nothing": "here"})


def test_the_fold_imports_no_qt():
    code = ("import sys, gui.election.tracker_state; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'shiboken6', 'pyqtgraph'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"

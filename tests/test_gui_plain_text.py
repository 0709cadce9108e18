"""Node- and voter-supplied text is shown literally: every label of the panel is plain text, and a saved session
keeps any string. Hostile names and reasons reach the panel the real way (channel -> pump -> tracker)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from mixscope.gui.actions import install_actions
from mixscope.gui.election.panel import ElectionPanel
from mixscope.gui.election.session import export_session, load_session
from mixscope.gui.election.tracker import ElectionTracker
from mixscope.gui.event_pump import EventPump
from mixscope.gui.main_window import MainWindow
from mixscope.gui.models.traffic import TrafficRow
from mixscope.wire.events import EventChannel

HOSTILE = '<b style="color:green">verified</b>'
REASON = '<img src="x"><a href="http://evil.example">complaint</a>'


def test_every_label_of_the_election_panel_is_plain_text_after_hostile_names(qtbot):
    channel = EventChannel()
    host = QMainWindow()
    qtbot.addWidget(host)
    pump = EventPump(channel, hz=50, parent=host)
    tracker = ElectionTracker(host)
    pump.batch.connect(tracker.apply_events)
    panel = ElectionPanel(tracker, install_actions(host))
    host.setCentralWidget(panel)
    host.show()
    for kind, data in [("election.state", {"state": "voting", "reason": None}),
                       ("election.state", {"state": "mixing", "reason": REASON}),
                       ("election.stage", {"stage": 0, "mixer": HOSTILE, "count": 3, "status": "rejected",
                                           "reason": REASON, "seconds": 1.0})]:
        channel.publish(kind, {"election_id": "e1", **data})
    pump.pump()
    QApplication.processEvents()

    labels = host.findChildren(QLabel)
    shown = " ".join(label.text() for label in labels)
    assert HOSTILE in shown and REASON in shown  # the markup is there, as characters
    rich = [label.objectName() or label.text()[:40] for label in labels
            if label.textFormat() != Qt.TextFormat.PlainText]
    assert rich == []
    tips = [label.toolTip() for label in labels if label.toolTip()]
    assert tips and all("<b " not in tip and "<img" not in tip for tip in tips)  # tooltips escaped
    panel.stop()
    pump.close()


def test_every_label_of_the_main_window_is_plain_text(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from mixscope.server.runner import ServerRunner

    window = MainWindow(ServerRunner(port=0, data_dir=str(tmp_path / "data")),
                        QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    try:
        assert [label for label in window.findChildren(QLabel)
                if label.textFormat() != Qt.TextFormat.PlainText and label.text()] == []
    finally:
        window.shutdown()


@pytest.mark.parametrize("name", ["\ud800-evil", "\udfff", "ok \U0001f600", HOSTILE])
def test_export_session_survives_any_string(tmp_path, name):
    row = TrafficRow(1.0, "in", "c1", name, "hello", 10, '{"type": "hello", "name": "\\ud800"}' + name)
    folder = export_session(tmp_path / "session", [row], {"election": {"id": name}})
    loaded = load_session(folder)
    assert loaded.rows == [row]
    assert loaded.record == {"election": {"id": name}}

"""Regression: PySide6 6.12.0 on Python 3.11 aborts after ~570 Signal.emit() calls (pitfalls.md).

The traffic log is fed by EventPump.batch; this pushes 100,000 emits through that exact signal into the
traffic model and its filter, and 100,000 more through the GuiBridge that carries bridge results. A PySide6
with the bug kills the interpreter here instead of passing.
"""

from __future__ import annotations

import pytest

from mixscope.gui.bridge import GuiBridge
from mixscope.gui.event_pump import EventPump
from mixscope.gui.models.traffic import TrafficFilter, TrafficModel
from mixscope.wire.events import Event, EventChannel

EMITS = 100_000


@pytest.mark.slow
def test_100k_emits_through_the_traffic_path():
    pump = EventPump(EventChannel(), hz=1)
    model = TrafficModel(max_rows=1_000)
    proxy = TrafficFilter()
    proxy.setSourceModel(model)
    proxy.set_pattern("mixed")
    pump.batch.connect(model.append_events)
    event = Event("message", {"direction": "in", "type": "mixed", "size": 16, "text": '{"type":"mixed"}'}, "c1")
    for _ in range(EMITS):
        pump.batch.emit([event])
    assert model.total == EMITS
    assert model.rowCount() == 1_000 and proxy.rowCount() == 1_000
    pump.close()


@pytest.mark.slow
def test_100k_emits_through_the_gui_bridge(qtbot):
    bridge = GuiBridge()
    received = []
    for i in range(EMITS):
        bridge.post(received.append, i)
    qtbot.waitUntil(lambda: len(received) == EMITS, timeout=60_000)
    assert received[:3] == [0, 1, 2] and received[-1] == EMITS - 1

"""Drain the server's event Subscription on a GUI timer and hand each batch to the models in one signal.

This is the only path from the server thread to the panel: the server publishes into a thread-safe
Subscription; this timer (default 25 Hz) takes everything queued and emits `batch` once per tick, so the GUI
cost is per tick, not per message, however heavy the traffic.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from mixscope.wire.events import EventChannel, Subscription


class EventPump(QObject):
    batch = Signal(list)  # list[wire.events.Event], oldest first; never emitted empty

    def __init__(self, channel: EventChannel, hz: float = 25.0, maxlen: int = 200_000, parent=None):
        super().__init__(parent)
        self.subscription: Subscription = channel.subscribe(maxlen=maxlen)
        self.events_seen = 0
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / hz)))
        self._timer.timeout.connect(self.pump)
        self._timer.start()

    @property
    def dropped(self) -> int:
        """Events lost because the panel fell more than `maxlen` events behind."""
        return self.subscription.dropped

    def pump(self) -> int:
        """Drain and deliver now; returns how many events were delivered."""
        events = self.subscription.drain()
        if events:
            self.events_seen += len(events)
            self.batch.emit(events)
        return len(events)

    def close(self) -> None:
        self._timer.stop()
        self.subscription.close()

"""The Qt side of the election tracker: a thin adapter over the Qt-free fold in `tracker_state.py`.

`ElectionTracker.apply_events` is connected to the EventPump batch like the other models; it hands the batch
to one `ElectionState` and emits `changed` once per batch that touched it. Views read `tracker.info`; they
never parse events themselves.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QObject, Signal

from mixscope.gui.election.tracker_state import (
    FINAL_STATES,
    STAGE_STATES,
    ElectionInfo,
    ElectionState,
    StageInfo,
    checks_json,
)
from mixscope.wire.events import Event

__all__ = ["FINAL_STATES", "STAGE_STATES", "ElectionInfo", "ElectionState", "ElectionTracker", "StageInfo",
           "checks_json"]


class ElectionTracker(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.state = ElectionState()

    @property
    def info(self) -> ElectionInfo:
        return self.state.info

    @property
    def read_only(self) -> bool:
        """A saved session is shown: live events are ignored."""
        return self.state.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self.state.read_only = value

    def apply_events(self, events: Iterable[Event]) -> None:
        if self.state.apply_events(events):
            self.changed.emit()

    def stage(self, index: int, mixer: str = "") -> StageInfo:
        return self.state.stage(index, mixer)

    def load_status(self, status: dict[str, Any]) -> None:
        if self.state.load_status(status):
            self.changed.emit()

    def load_record(self, record: dict[str, Any]) -> None:
        self.state.load_record(record)
        self.changed.emit()

    def set_checks(self, checks: Iterable[Any]) -> None:
        self.state.set_checks(checks)
        self.changed.emit()

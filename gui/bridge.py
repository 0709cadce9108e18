"""Deliver results from other threads (server bridge Futures, worker threads) to the GUI thread.

One `GuiBridge` is created in the GUI thread. Worker threads only ever call `post`, which emits a Qt signal;
because the receiver lives in the GUI thread and is connected to a bound method, Qt queues the call onto
the GUI event loop (pitfalls.md: never connect a worker-created QObject to a lambda).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal


class GuiBridge(QObject):
    _delivered = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._callbacks: dict[int, Callable[[Any], None]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._delivered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def post(self, callback: Callable[[Any], None], value: Any = None) -> None:
        """Run `callback(value)` on the GUI thread soon. Safe to call from any thread."""
        with self._lock:
            token = next(self._ids)
            self._callbacks[token] = callback
        self._delivered.emit(token, value)

    def watch(self, future: concurrent.futures.Future, callback: Callable[[concurrent.futures.Future], None]) -> None:
        """Call `callback(future)` on the GUI thread once `future` is done (result or exception)."""
        future.add_done_callback(lambda done: self.post(callback, done))

    def run_in_thread(self, work: Callable[[], Any], callback: Callable[[concurrent.futures.Future], None],
                      name: str = "gui-worker") -> None:
        """Run blocking `work()` on a daemon thread; hand its Future to `callback` on the GUI thread."""
        future: concurrent.futures.Future = concurrent.futures.Future()

        def target() -> None:
            try:
                future.set_result(work())
            except BaseException as exc:  # handed to the GUI callback, which reports it
                future.set_exception(exc)

        self.watch(future, callback)
        threading.Thread(target=target, name=name, daemon=True).start()

    def _deliver(self, token: int, value: Any) -> None:
        with self._lock:
            callback = self._callbacks.pop(token, None)
        if callback is not None:
            callback(value)

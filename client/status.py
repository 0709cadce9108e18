"""The node's status lines: one JSON object per line on stdout, flushed at once (the panel and tests read them)."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO


class StatusWriter:
    def __init__(self, stream: TextIO | None = None):
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()  # several threads report; lines must not interleave

    def __call__(self, event: str, **details: Any) -> None:
        line = json.dumps({"event": event, "time": time.time(), **details}, default=str)
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (BrokenPipeError, ValueError):  # the reader went away; the node keeps working
                pass

"""Reconnect delays: exponential, capped, with full jitter so a fleet of nodes does not reconnect in step."""

from __future__ import annotations

import secrets


class Backoff:
    def __init__(self, first: float = 0.25, cap: float = 5.0, factor: float = 2.0):
        self.first, self.cap, self.factor = first, cap, factor
        self.attempt = 0
        self._rng = secrets.SystemRandom()

    def next_delay(self) -> float:
        """The next wait: uniform in [ceiling/2, ceiling], ceiling = min(cap, first * factor**attempt)."""
        ceiling = min(self.cap, self.first * self.factor ** self.attempt)
        self.attempt += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0

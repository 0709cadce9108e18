"""Rate limits on ballot submission: a token bucket per remote address and one per voter id.

A bucket holds up to `burst` tokens and refills at `rate` tokens per second; each ballot POST takes one.
An empty bucket refuses with 429 and a Retry-After (seconds until a token is back). The address bucket is the
one that stops a flood; the voter bucket stops one voter's client hammering (it has one ballot anyway).
Defaults are generous (200/s per address, burst 400): the demo, the simulator and `mixscope bench voters`
run far below them on one loopback address; the load bench raises them (BallotLimits(rate=0) turns the
limit off). Thread-safe: Flask views run on several threads.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from flask import current_app

from mixscope.server.errors import HttpError

DEFAULT_ADDRESS_RATE, DEFAULT_ADDRESS_BURST = 200.0, 400.0
DEFAULT_VOTER_RATE, DEFAULT_VOTER_BURST = 5.0, 10.0
MAX_TRACKED_KEYS = 100_000  # beyond this the least recently used buckets are forgotten (bounded memory)


class RateLimited(HttpError):
    """429 with the seconds a client should wait (sent as the Retry-After header)."""

    def __init__(self, what: str, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(429, f"too many ballots from this {what}; retry after {self.retry_after} s")


class TokenBucketLimiter:
    def __init__(self, rate: float, burst: float, max_keys: int = MAX_TRACKED_KEYS,
                 clock: Callable[[], float] = time.monotonic):
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 and burst >= 1")
        self.rate, self.burst, self.max_keys, self._clock = rate, burst, max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for `key`: 0.0 if it was there, else the seconds until one will be."""
        if self.rate == 0:
            return 0.0  # limit off
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass(frozen=True)
class BallotLimits:
    """The configuration: per-address and per-voter rate (tokens/s; 0 = no limit) and burst."""

    address_rate: float = DEFAULT_ADDRESS_RATE
    address_burst: float = DEFAULT_ADDRESS_BURST
    voter_rate: float = DEFAULT_VOTER_RATE
    voter_burst: float = DEFAULT_VOTER_BURST

    @classmethod
    def off(cls) -> "BallotLimits":
        return cls(address_rate=0, voter_rate=0)


class BallotRateLimiter:
    def __init__(self, limits: BallotLimits | None = None, clock: Callable[[], float] = time.monotonic):
        self.limits = limits or BallotLimits()
        self.by_address = TokenBucketLimiter(self.limits.address_rate, self.limits.address_burst, clock=clock)
        self.by_voter = TokenBucketLimiter(self.limits.voter_rate, self.limits.voter_burst, clock=clock)

    def check_address(self, address: str | None) -> None:
        """Raise RateLimited when this remote address is over its limit; else take one of its tokens."""
        wait = self.by_address.take(address or "?")
        if wait:
            raise RateLimited("address", wait)

    def check_voter(self, voter_id: object) -> None:
        if isinstance(voter_id, str):
            wait = self.by_voter.take(voter_id)
            if wait:
                raise RateLimited("voter", wait)


EXTENSION = "mixscope.ballot_limiter"


def ballot_limiter() -> BallotRateLimiter:
    """The running Flask app's limiter (create_flask_app installs one; default limits if none was)."""
    return current_app.extensions.setdefault(EXTENSION, BallotRateLimiter())

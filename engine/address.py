"""The `--cluster ADDRESS` forms: a scheduler `tcp://host:port`, or `local:N` for N local worker processes."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LOCAL_WORKERS = 64


class ClusterAddressError(ValueError):
    """Not a cluster address this program understands; the message says what is expected."""


@dataclass(frozen=True)
class ClusterAddress:
    scheduler: str | None  # tcp://host:port, or None for a local cluster
    local_workers: int = 0

    def __str__(self) -> str:
        return self.scheduler or f"local:{self.local_workers}"


_TCP = re.compile(r"^tcp://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$")


def parse_address(text: str) -> ClusterAddress:
    text = (text or "").strip()
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise ClusterAddressError(f"{text!r}: local:N needs N from 1 to {MAX_LOCAL_WORKERS} worker processes")
        return ClusterAddress(None, int(count))
    match = _TCP.match(text)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise ClusterAddressError(f"{text!r} is not a cluster address: give tcp://HOST:PORT (a Dask scheduler) "
                                  "or local:N (N worker processes on this machine)")
    return ClusterAddress(text)

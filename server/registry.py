"""Who is connected: one `ClientInfo` per websocket, with traffic counters and round-trip time.

Touched only on the server's loop thread, so it needs no locks; other threads read it through the bridge
("clients" action) or the snapshots carried by events.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClientInfo:
    id: str
    peer: str
    connected_at: float = field(default_factory=time.time)
    role: str | None = None
    name: str | None = None
    last_seen: float = field(default_factory=time.time)
    msgs_in: int = 0
    msgs_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    rtt_ms: float | None = None
    state: str = "connected"

    def count_in(self, size: int) -> None:
        self.msgs_in += 1
        self.bytes_in += size
        self.last_seen = time.time()

    def count_out(self, size: int) -> None:
        self.msgs_out += 1
        self.bytes_out += size

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id, "peer": self.peer, "role": self.role, "name": self.name,
            "connected_at": self.connected_at, "last_seen": self.last_seen,
            "msgs_in": self.msgs_in, "msgs_out": self.msgs_out,
            "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
            "rtt_ms": self.rtt_ms, "state": self.state,
        }


class ClientRegistry:
    """Connected clients by id. Ids ("c1", "c2", ...) never repeat for one registry, even across restarts."""

    def __init__(self) -> None:
        self._clients: dict[str, ClientInfo] = {}
        self._ids = itertools.count(1)

    def add(self, peer: str) -> ClientInfo:
        info = ClientInfo(id=f"c{next(self._ids)}", peer=peer)
        self._clients[info.id] = info
        return info

    def remove(self, client_id: str) -> ClientInfo | None:
        info = self._clients.pop(client_id, None)
        if info is not None:
            info.state = "disconnected"
        return info

    def get(self, client_id: str) -> ClientInfo | None:
        return self._clients.get(client_id)

    def __iter__(self):
        return iter(list(self._clients.values()))

    def __len__(self) -> int:
        return len(self._clients)

    def snapshots(self) -> list[dict[str, Any]]:
        return [info.snapshot() for info in self._clients.values()]

"""What the election modules share: the step error, a joined node, and small awaiting helpers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

MAX_REASON = 900  # the board keeps reasons up to 1000 characters


class ElectionError(Exception):
    """A step that cannot run now (wrong state, too few nodes, bad arguments). `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ElectionNotFound(ElectionError):
    """The step names an election the board does not hold, or none was created yet."""


@dataclass(frozen=True)
class NodeRef:
    """A connected node that proved its identity (join token + signed hello)."""

    client_id: str
    name: str
    role: str
    public_key: str


async def named(name: str, future: asyncio.Future):
    return name, await future


async def gather_named(futures: dict[str, asyncio.Future]) -> dict[str, Any]:
    values = await asyncio.gather(*futures.values())
    return dict(zip(futures, values))

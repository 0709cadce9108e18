"""Waiting for a node's answer on the server loop: one Future per (client, message type, election).

The hub delivers every verified node message here; the coordinator awaits the ones it asked for. A node
that disconnects fails its pending waits with `NodeGone`, and one that answers a request with an `error`
fails the matching wait with `NodeRefused`, so a cascade never hangs on a dead or failing mixer.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable


class NodeGone(Exception):
    """The node disconnected before it answered."""


class NodeRefused(Exception):
    """The node answered the request with an error instead (its reason is the message)."""


# A node's `error` names the request it answers (`ref`); this is the reply that request was awaiting.
REPLY_TO = {
    "seat.request": "seat",
    "keygen.request": "keygen.commitment",
    "keygen.shares": "keygen.done",
    "mix.request": "mix.response",
    "decrypt.request": "decrypt.response",
}


class Inbox:
    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str, str], asyncio.Future] = {}
        self._stale: dict[tuple[str, str, str], Callable[[dict[str, Any]], bool]] = {}

    def expect(self, client_id: str, kind: str, election_id: str,
               stale: Callable[[dict[str, Any]], bool] | None = None) -> asyncio.Future:
        """The Future of the node's next `kind` message for the election. `stale`: which messages answer an
        earlier request of the same kind (a late answer to it): they are not taken for this one."""
        key = (client_id, kind, election_id)
        old = self._waiting.get(key)
        if old is not None and not old.done():
            old.cancel()
        future = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        if stale is None:
            self._stale.pop(key, None)
        else:
            self._stale[key] = stale

        def settled(f: asyncio.Future) -> None:
            if self._waiting.get(key) is f:
                self._waiting.pop(key, None)
                self._stale.pop(key, None)

        future.add_done_callback(settled)
        return future

    def deliver(self, client_id: str, message: dict[str, Any]) -> bool:
        """Hand a node message to whoever waits for it; False if nobody asked (the caller logs it)."""
        key = (client_id, message["type"], message.get("election_id", ""))
        future = self._waiting.get(key)
        if future is None or future.done():
            return False
        stale = self._stale.get(key)
        if stale is not None and stale(message):
            return False
        future.set_result(message)
        return True

    def refused(self, client_id: str, error: dict[str, Any]) -> bool:
        """Fail the wait an `error` reply answers (by its `ref` and `election_id`); False if none matches."""
        ref = error.get("ref")
        kind = REPLY_TO.get(ref) if isinstance(ref, str) else None
        if kind is None:
            return False
        key = (client_id, kind, error.get("election_id", ""))
        future = self._waiting.get(key)
        if future is None or future.done():
            return False
        stale = self._stale.get(key)
        if stale is not None and stale(error):  # it refuses an earlier request, not this one
            return False
        detail = str(error.get("detail", ""))[:300]
        future.set_exception(NodeRefused(f"{error['reason']}: {detail}" if detail else error["reason"]))
        return True

    def gone(self, client_id: str) -> None:
        for (cid, _, _), future in list(self._waiting.items()):
            if cid == client_id and not future.done():
                future.set_exception(NodeGone(f"{client_id} disconnected"))

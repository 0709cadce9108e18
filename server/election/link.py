"""What the coordinator and its steps see of the server: a narrow node link, and the context a step runs in.

`NodeLink` is all the coordinator needs of the websocket side (the hub implements it): send a message to a
joined node, list the joined nodes of a role, log, emit an event. `Election` is what the hub needs of the
coordinator: where verified node messages go. Neither side imports the other; the runner wires them.

`StepContext` is what the exchanges in ceremony.py, cascade.py and decryption.py use: the link, the inbox
their answers arrive in, the board, the executors, the lab settings' folder, and the coordinator's two pieces
of shared step state (which stage each mixer is mixing, whether the server is stopping).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from mixscope.server.election.common import NodeRef
from mixscope.server.election.inbox import Inbox
from mixscope.wire import chunks

if TYPE_CHECKING:
    from mixscope.server.board import Board
    from mixscope.server.executors import Executors


class NodeLink(Protocol):
    def send_large(self, client_id: str, message: dict[str, Any]) -> bool:
        """Send `message` of any size to a connected client; False if it is gone."""

    def send_encoded(self, client_id: str, text: str, kind: str, planned: chunks.Plan | None = None) -> bool:
        """Send a message already encoded by protocol.encode, of any size (the same text can go to several
        clients: it is encoded once; `planned`: its chunks.plan, also made once); False if gone."""

    def election_nodes(self, role: str) -> list[NodeRef]:
        """The connected nodes of `role` that joined with the token and a signed hello."""

    def log(self, level: str, text: str, client_id: str | None = None) -> None: ...

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Publish one event on the server's channel (the panel, the admin event stream)."""


class Election(Protocol):
    """The coordinator as the hub sees it."""

    async def load(self) -> None: ...

    def node_message(self, node: NodeRef, message: dict[str, Any]) -> None: ...

    def node_error(self, node: NodeRef, error: dict[str, Any]) -> None: ...

    def node_gone(self, client_id: str) -> None: ...


@dataclass
class StepContext:
    link: NodeLink
    inbox: Inbox
    board: Board
    executors: Executors
    data_dir: Path
    mixing_stage: dict[str, int] = field(default_factory=dict)  # client id -> the cascade position it is mixing now
    closing: bool = False  # the server is stopping: a step cut short records nothing more
    # election id -> {trustee client id: the list hash ending the stages forwarded to it during the mix}
    forwarded: dict[str, dict[str, str]] = field(default_factory=dict)

    def send(self, node: NodeRef, message: dict[str, Any]) -> bool:
        return self.link.send_large(node.client_id, message)

    async def send_prepared(self, nodes: list[NodeRef], message: dict[str, Any]) -> list[str]:
        """Send `message` to each of `nodes`, encoded and cut into chunks once, off the loop (a list of
        ciphertexts is megabytes); the client ids it went to (a node gone meanwhile is left out)."""
        text, planned = await self.on_worker(chunks.prepare, message)
        return [n.client_id for n in nodes if self.link.send_encoded(n.client_id, text, message["type"], planned)]

    def log(self, level: str, text: str) -> None:
        self.link.log(level, text)

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        self.link.emit(kind, data)

    def progress(self, task, election_id, node, phase, done, total, stage=None) -> None:
        self.emit("election.progress", {"election_id": election_id, "task": task, "stage": stage, "node": node,
                                        "phase": phase, "done": done, "total": total})

    async def on_io(self, fn: Callable, *args, **kwargs):
        return await self.executors.on_io(fn, *args, **kwargs)

    async def on_worker(self, fn: Callable, *args, **kwargs):
        return await self.executors.on_worker(fn, *args, **kwargs)

    def map_fn(self) -> Callable:
        return self.executors.map_fn()

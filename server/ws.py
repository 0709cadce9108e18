"""The `/ws` endpoint: one handler per websocket, handing everything to the Hub on the loop thread."""

from __future__ import annotations

from tornado.websocket import WebSocketHandler

from mixscope.server.hub import Hub
from mixscope.server.registry import ClientInfo
from mixscope.wire import protocol


class NodeSocket(WebSocketHandler):
    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.client: ClientInfo | None = None

    def open(self) -> None:
        self.client = self.hub.connected(self)

    def on_message(self, message: str | bytes) -> None:
        if self.client is None:  # open() registers every connection before its first frame
            return
        try:
            self.hub.received(self, message)
        except RecursionError:  # a frame that parsed but is nested too deeply for the checks behind the parser
            self.hub.send(self.client.id, protocol.error_reply(protocol.NOT_JSON, "frame is JSON nested too deeply"))
        except Exception as exc:  # a server bug: tell the sender and the log, keep the connection
            self.hub.log("error", f"handling a frame from {self.client.id} failed: {exc!r}", self.client.id)
            self.hub.send(self.client.id, protocol.error_reply("internal_error", "the server failed on this frame"))

    def on_pong(self, data: bytes) -> None:
        self.hub.ponged(self, data)

    def on_close(self) -> None:
        self.hub.disconnected(self, self.close_code, self.close_reason)

"""The admin token check, in one place, and the gate that applies it before an admin request's body is read.

Every admin route takes `Authorization: Bearer <admin token>`, compared in constant time. The Flask views
(server/webapp.py's require_admin) and the event stream (server/admin_events.py) check it themselves; the
gate below checks it first, on the request's head: Tornado would otherwise buffer a body of up to 100 MB for
anyone before Flask could refuse them, so a few unauthenticated connections could take gigabytes.
"""

from __future__ import annotations

import hmac
import json

import tornado.web

from mixscope.server.hub import Hub

# Every path an admin route may have (server/routes.py); /api/admin/events is routed before it.
ADMIN_PATHS = r"/(?:over|api/clients|api/admin/.+)"
UNAUTHORIZED = {"error": "unauthorized", "detail": "send Authorization: Bearer <admin token>"}


def bearer_ok(header: str | None, expected: str | None) -> bool:
    """Whether an Authorization header carries the admin token (constant-time; no token set: nobody)."""
    if not expected:
        return False
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())


@tornado.web.stream_request_body
class AdminGate(tornado.web.RequestHandler):
    """Refuses an admin request without the token from its head alone (401, the body never read: the
    connection closes after the answer); hands an authorized one, body collected, to the Flask app."""

    def initialize(self, hub: Hub, fallback) -> None:
        self.hub, self.fallback = hub, fallback
        self._chunks: list[bytes] | None = None

    def prepare(self) -> None:
        if not bearer_ok(self.request.headers.get("Authorization"), getattr(self.hub, "admin_token", None)):
            self.set_status(401)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(UNAUTHORIZED))
            return
        self._chunks = []

    def data_received(self, chunk: bytes) -> None:
        if self._chunks is not None:
            self._chunks.append(chunk)

    def _forward(self, *_args) -> None:
        self.request.body = b"".join(self._chunks or ())
        self._chunks = None
        self.fallback(self.request)  # as tornado.web.FallbackHandler does: the WSGI container answers
        self._finished = True
        self.on_finish()

    get = post = put = patch = delete = head = options = _forward

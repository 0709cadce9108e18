"""The one route table: every URL the server answers, websocket and Flask alike.

Tornado matches TORNADO_ROUTES first; every other path falls through to the Flask app, which registers
exactly FLASK_ROUTES (no scattered decorators). Admin routes need `Authorization: Bearer <admin token>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from server import views
from server.ws import NodeSocket

TORNADO_ROUTES = [
    (r"/ws", NodeSocket),  # nodes: JSON messages, see server/protocol.py
]


@dataclass(frozen=True)
class FlaskRoute:
    path: str
    view: Callable
    methods: tuple[str, ...] = ("GET",)
    admin: bool = False


FLASK_ROUTES = [
    FlaskRoute("/", views.index),                                # what this server is
    FlaskRoute("/over", views.over, ("GET", "POST"), admin=True),  # the seed's route: ask every mixer to mix
    FlaskRoute("/api/clients", views.clients, admin=True),       # connected clients, as registry snapshots
]

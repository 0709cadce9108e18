"""The one route table: every URL the server answers, websocket and Flask alike.

Tornado matches TORNADO_ROUTES first; every other path falls through to the Flask app, which registers
exactly FLASK_ROUTES (no scattered decorators). Admin routes need `Authorization: Bearer <admin token>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mixscope.server import views, views_admin, views_api, views_election
from mixscope.server.admin_events import AdminEvents
from mixscope.server.ws import NodeSocket

TORNADO_ROUTES = [
    (r"/ws", NodeSocket),  # nodes: JSON messages, see wire/protocol.py
    (r"/api/admin/events", AdminEvents),  # admin: the event stream (Bearer admin token), server/admin_events.py
]


@dataclass(frozen=True)
class FlaskRoute:
    path: str
    view: Callable
    methods: tuple[str, ...] = ("GET",)
    admin: bool = False


FLASK_ROUTES = [
    FlaskRoute("/", views.index),                                # the landing page: what this lab is
    FlaskRoute("/static/<path:filename>", views.static_file),    # the pages' stylesheet
    FlaskRoute("/over", views.over, ("GET", "POST"), admin=True),  # the seed's route: ask every mixer to mix
    FlaskRoute("/api/clients", views.clients, admin=True),       # connected clients, as registry snapshots
    FlaskRoute("/api/admin/<action>", views.admin_action, ("POST",), admin=True),  # send/broadcast/disconnect/mix
    # the election lifecycle (docs/protocol.md, Admin API): long steps answer 202 with a job to poll
    FlaskRoute("/api/admin/election.<step>", views_admin.election_action, ("POST",), admin=True),
    FlaskRoute("/api/admin/jobs/<job_id>", views_admin.job_status, admin=True),
    FlaskRoute("/api/admin/elections/<election_id>/voters", views_admin.election_voters, admin=True),
    FlaskRoute("/api/admin/server", views_admin.server_info, admin=True),  # ws URL and join token for nodes
    # voters and observers (HTML pages; the vote form is demo mode: the server encrypts)
    FlaskRoute("/elections", views_election.elections_page),
    FlaskRoute("/elections/<election_id>", views_election.election_page),
    FlaskRoute("/elections/<election_id>/vote", views_election.vote_page, ("GET", "POST")),
    FlaskRoute("/elections/<election_id>/vote/expired", views_election.vote_expired_page),  # after a stale form
    FlaskRoute("/elections/<election_id>/board", views_election.board_page),
    FlaskRoute("/elections/<election_id>/results", views_election.results_page),
    # the public JSON API (voters encrypt their own ballots)
    FlaskRoute("/api/elections", views_api.list_elections),
    FlaskRoute("/api/elections/<election_id>", views_api.get_election),
    FlaskRoute("/api/elections/<election_id>/ballots", views_api.list_ballots),
    FlaskRoute("/api/elections/<election_id>/ballots", views_api.cast_ballot, ("POST",)),
    FlaskRoute("/api/elections/<election_id>/record", views_api.get_record),  # ?download=1: as a file
    FlaskRoute("/api/elections/<election_id>/record/<part>", views_api.get_record_part),  # a record in parts
    FlaskRoute("/api/elections/<election_id>/credentials", views_api.list_credentials),  # who may vote
]

"""Flask views. They never touch websockets directly: state-changing work goes through the bridge.

Each view finds the server it belongs to in `current_app.extensions["mixscope"]` (a `WebContext`).
The URL of each view is in server/routes.py, the one route table.
"""

from __future__ import annotations

import concurrent.futures
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from flask import current_app, jsonify, render_template, request, send_from_directory

from mixscope.server.board import Board
from mixscope.server.bridge import MAX_TIMEOUT
from mixscope.server.election import states
from mixscope.server.errors import BridgeError, HttpError  # noqa: F401  (HttpError: re-exported for the views)
from mixscope.wire.events import EventChannel


@dataclass(frozen=True)
class WebContext:
    call: Callable[[str, dict[str, Any] | None], concurrent.futures.Future]  # ServerRunner.call
    admin_token: str
    board: Board  # the runner's one bulletin board (thread-safe; Flask threads may write ballots directly)
    channel: EventChannel  # publish events (e.g. "election.ballot") from Flask threads
    pool: concurrent.futures.Executor | None = None  # the runner's process pool, for CPU-bound checks off the GIL
    join_token: str = ""  # handed to admins (GET /api/admin/server) so a remote panel can spawn nodes


def context() -> WebContext:
    return current_app.extensions["mixscope"]


def index():
    """The landing page: what the lab is, how an election runs, links to the elections."""
    return render_template("index.html")


STATIC_DIR = Path(__file__).resolve().parent / "static"


def static_file(filename: str):
    return send_from_directory(STATIC_DIR, filename, max_age=3600)  # refuses paths leaving the folder


def over():
    """The seed's `/over`: run the mix cascade of the latest election when it is closed (or resume one that
    is mixing); with no such election, a roll call of the connected mixers (docs/protocol.md, Roll call)."""
    body = request.get_json(silent=True) if request.method == "POST" else None
    timeout = seconds((body if isinstance(body, dict) else {}).get("timeout", request.args.get("timeout", 10.0)))
    elections = context().board.list_elections()
    if elections and states.may_run(states.MIX, elections[-1].state):
        return jsonify(call_bridge("election.mix", {"election_id": elections[-1].id}, wait=max(timeout, 3600)))
    return jsonify(call_bridge("roll_call", {"timeout": timeout}, wait=timeout + 5))


def clients():
    return jsonify(call_bridge("clients", {}, wait=10))


# What POST /api/admin/<action> may run: the panel's client actions, for scripts and curl.
ADMIN_ACTIONS = ("send", "broadcast", "disconnect", "roll_call")


def admin_action(action: str):
    """Run one bridge action with the JSON body as its args, e.g. POST /api/admin/broadcast {"message": {...}}."""
    if action not in ADMIN_ACTIONS:
        raise HttpError(404, f"no admin action {action[:40]!r}; known: {list(ADMIN_ACTIONS)}")
    args = request.get_json(silent=True)
    if args is None and request.get_data():
        raise HttpError(400, "the body must be a JSON object")
    body = args or {}
    if not isinstance(body, dict):
        raise HttpError(400, "the body must be a JSON object")
    wait = seconds(body["timeout"]) if action == "roll_call" and "timeout" in body else 10.0
    return jsonify(call_bridge(action, body, wait=wait + 5))


def seconds(value: Any) -> float:
    """An admin's timeout argument (number or numeric text): finite, in (0, MAX_TIMEOUT]; else 400."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not 0 < number <= MAX_TIMEOUT:  # NaN fails every comparison; inf and 1e309 are over the bound
        raise HttpError(400, f"timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}]")
    return number


def call_bridge(action: str, args: dict[str, Any], wait: float) -> dict[str, Any]:
    try:
        return context().call(action, args).result(timeout=wait)
    except BridgeError as exc:
        raise HttpError(exc.status or 400, exc.reason) from None
    except concurrent.futures.TimeoutError:
        raise HttpError(504, f"{action} did not finish in {wait:g} s") from None

"""The admin API for the election lifecycle: `POST /api/admin/election.<step>` runs one bridge action.

JSON in (the action's args as the body), JSON out. A client's mistake is a 4xx with `{error}`: 400 bad
arguments, 404 no such election or action, 409 the election's state (or a step already running) does not
allow it. Short actions answer when done (or as a job past 25 s). Long ones (keygen, mix, decrypt, publish)
wait at most `?wait=S` seconds (default 1, at most 25): a step done or refused by then is answered 200 / 4xx,
otherwise 202 with a job to poll at `GET /api/admin/jobs/<job>` (server/admin_jobs.py), so no HTTP worker is
held for a minute.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from flask import current_app, jsonify, request

from mixscope.server import board as board_mod
from mixscope.server.admin_jobs import jobs_for
from mixscope.server.election import lab, states
from mixscope.server.errors import BridgeError
from mixscope.server.views import HttpError, context

# step -> the states it may start from (checked here so a wrong state is a 409 at once, with the reason)
STEP_STATES = {f"election.{step}": states.runs_in(step)  # server/election/states.py
               for step in (states.KEYGEN, states.CLOSE, states.MIX, states.DECRYPT, states.PUBLISH)}
LONG_STEPS = ("election.keygen", "election.mix", "election.decrypt", "election.publish")
READS = ("election.status", "election.current", "election.list")
ELECTION_ACTIONS = ("election.create", *STEP_STATES, *READS)
MAX_WAIT, DEFAULT_WAIT, SHORT_WAIT = 25.0, 1.0, 25.0  # under the clients' 30 s request timeout
MAX_JOB_WAIT = 5.0
MAX_ELECTION_ID = 200  # far above the board's ids; a longer or unprintable one names no election


def election_action(step: str):
    action = f"election.{step}"
    if action not in ELECTION_ACTIONS:
        raise HttpError(404, f"no admin action {action[:60]!r}; known: {list(ELECTION_ACTIONS)}")
    args = _body()
    jobs = jobs_for(current_app.extensions, context().channel)
    election_id = None
    if action == "election.publish" and not isinstance(args.get("full", True), bool):
        raise HttpError(400, "full must be true or false")
    if action in STEP_STATES:
        election_id = _check_state(action, args)
        running = jobs.running(election_id)
        if running:
            raise HttpError(409, f"election {election_id} is busy with {running[0]['action']} "
                                 f"(job {running[0]['job']})")
    elif action == "election.status" and "election_id" not in args:
        raise HttpError(400, "election_id is required (election.current gives the latest election)")
    future = context().call(action, args)
    wait = _wait(DEFAULT_WAIT, MAX_WAIT) if action in LONG_STEPS else SHORT_WAIT
    try:
        result = future.result(timeout=wait)
    except concurrent.futures.TimeoutError:
        job = jobs.start(action, election_id, future)
        return jsonify(job.to_json()), 202, {"Location": f"/api/admin/jobs/{job.id}"}
    except BridgeError as exc:
        raise HttpError(status_of(action, exc), exc.reason) from None
    if action in ("election.status", "election.current"):
        eid = result.get("election_id")
        result = {**result, "progress": jobs.progress(eid), "jobs": jobs.running(eid), "nodes": _nodes()}
    return jsonify(result)


def _nodes() -> list[dict[str, Any]]:
    """The connected clients that say they are trustees or mixers, in the order the election takes them. Only
    the `joined` ones (join token and signed hello) take part in an election; the others are shown as such."""
    try:
        clients = context().call("clients", {}).result(timeout=10)["clients"]
    except (BridgeError, concurrent.futures.TimeoutError):
        return []
    nodes = [{"name": c.get("name"), "role": c.get("role"), "rtt_ms": c.get("rtt_ms"), "joined": c.get("joined")}
             for c in clients
             if c.get("role") in ("trustee", "mixer") and c.get("state") != "disconnected" and c.get("name")]
    return sorted(nodes, key=lambda n: (n["role"], lab.natural_key(n["name"])))


def job_status(job_id: str):
    """One job: running, done (with the step's result) or failed (with the reason). `?wait=S` (at most 5)
    waits that long for it to finish first."""
    job = jobs_for(current_app.extensions, context().channel).get(job_id)
    if job is None:
        raise HttpError(404, f"no job {job_id[:40]!r} (finished jobs are kept for a while, then forgotten)")
    try:
        job.future.exception(timeout=_wait(0.0, MAX_JOB_WAIT))
    except concurrent.futures.TimeoutError:
        pass
    return jsonify(job.to_json())


def election_voters(election_id: str):
    """The election's voters and those of them who have not voted yet: its public credentials (a ballot's
    voter id is its credential), or for an election without any, the lab's list of voter ids."""
    board = context().board
    try:
        board.get_election(election_id)
        listed = sorted(board.credentials(election_id))
    except board_mod.NotFoundError:
        raise HttpError(404, f"no election {election_id[:40]!r}") from None
    except board_mod.BoardError as exc:
        raise HttpError(400, str(exc)) from None
    voters = listed or lab.load(board.path.parent, election_id).voters
    voted = {b.voter_id for b in board.ballots(election_id)} if voters else set()
    return jsonify({"election_id": election_id, "voters": voters, "not_voted": [v for v in voters if v not in voted]})


def server_info():
    """What a remote panel needs to spawn nodes here: the websocket URL as this client reaches the server,
    and the join token."""
    scheme = "wss" if request.scheme == "https" else "ws"
    return jsonify({"url": request.host_url.rstrip("/"), "ws_url": f"{scheme}://{request.host}/ws",
                    "join_token": context().join_token, "events": f"{scheme}://{request.host}/api/admin/events"})


def _body() -> dict[str, Any]:
    if not request.get_data():
        return {}
    try:
        args = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser goes: the client's mistake, not the server's
        raise HttpError(400, "the body is JSON nested too deeply") from None
    if not isinstance(args, dict):
        raise HttpError(400, "the body must be a JSON object")
    return args


def _wait(default: float, most: float) -> float:
    text = request.args.get("wait")
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise HttpError(400, "wait must be a number of seconds") from None
    if not 0 <= value <= most:
        raise HttpError(400, f"wait must be between 0 and {most:g} seconds")
    return value


def _check_state(action: str, args: dict[str, Any]) -> str:
    election_id = args.get("election_id")
    if not isinstance(election_id, str) or not election_id:
        raise HttpError(400, "election_id must be a non-empty string")
    if len(election_id) > MAX_ELECTION_ID or not election_id.isprintable():  # e.g. a lone surrogate (\ud800)
        raise HttpError(404, f"no election {election_id[:40]!r}")
    try:
        election = context().board.get_election(election_id)
    except board_mod.NotFoundError:
        raise HttpError(404, f"no election {election_id[:40]!r}") from None
    except board_mod.BoardError as exc:
        raise HttpError(400, str(exc)) from None
    allowed = STEP_STATES[action]
    if election.state not in allowed:
        raise HttpError(409, f"election {election_id} is {election.state}; {action} needs it "
                             f"{' or '.join(allowed)}")
    return election_id


def status_of(action: str, exc: BridgeError) -> int:
    """By the failure's type: 503 server unavailable, 404 unknown election; else by the action."""
    if exc.status is not None:
        return exc.status
    if action == "election.create" or action in READS:
        return 400
    return 409  # the state was right a moment ago: nodes missing, a step running, the state moved on

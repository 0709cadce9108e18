"""The bridge: any thread (the GUI, a Flask worker) asks the websocket side to act.

`dispatch` runs on the server's own loop (the runner schedules it there with that loop's `add_callback`,
the only thread-safe IOLoop method) and settles a `concurrent.futures.Future` the caller holds. Each action
is a coroutine `action(hub, args) -> JSON-able dict`, registered in ACTIONS by name.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any, Awaitable, Callable

from mixscope.server.election.common import ElectionError, ElectionNotFound
from mixscope.server.election.coordinator import Coordinator
from mixscope.server.errors import BridgeError, UnknownElection
from mixscope.server.hub import Hub
from mixscope.wire import protocol

MAX_TIMEOUT = 300.0  # seconds an admin may ask a roll call (or /over) to wait


async def roll_call(hub: Hub, args: dict[str, Any]) -> dict[str, Any]:
    return await hub.roll_call(_timeout(args))


async def send(hub: Hub, args: dict[str, Any]) -> dict[str, Any]:
    client_id, message = _client_id(args), _message(args)
    if not hub.send(client_id, message):
        raise BridgeError(f"no connected client {client_id!r}")
    return {"sent_to": [client_id]}


async def broadcast(hub: Hub, args: dict[str, Any]) -> dict[str, Any]:
    return {"sent_to": hub.broadcast(_message(args))}


async def disconnect(hub: Hub, args: dict[str, Any]) -> dict[str, Any]:
    client_id = _client_id(args)
    if not hub.disconnect(client_id):
        raise BridgeError(f"no connected client {client_id!r}")
    return {"disconnected": client_id}


async def clients(hub: Hub, args: dict[str, Any]) -> dict[str, Any]:
    """Every connected client; `joined` says whether it proved a node identity (join token + signed hello)."""
    return {"clients": [{**snapshot, "joined": hub.auth.node(snapshot["id"]) is not None}
                        for snapshot in hub.registry.snapshots()]}


def _coordinator(hub: Hub) -> Coordinator:
    """The election coordinator the runner attached to the hub."""
    coordinator = hub.election
    if not isinstance(coordinator, Coordinator):
        raise BridgeError("this server has no bulletin board")
    return coordinator


async def election_list(hub: Hub, args: dict[str, Any]) -> dict[str, Any]:
    coordinator = _coordinator(hub)
    elections = await coordinator.on_io(coordinator.board.list_elections)
    return {"elections": [e.to_json() for e in elections]}


def _election_action(step_name: str | None):
    """A bridge action running one coordinator step; `election_id` defaults to the latest election."""

    async def action(hub: Hub, args: dict[str, Any]) -> dict[str, Any]:
        coordinator = _coordinator(hub)
        try:
            if step_name is None:
                return await coordinator.create(args)
            if step_name == "status":  # a read: allowed while a step runs
                return await coordinator.status(await coordinator.find(args))
            options = {}
            if step_name == "publish":
                options["full"] = args.get("full", True)
                if not isinstance(options["full"], bool):
                    raise BridgeError("full must be true or false")
            return await coordinator.run_exclusive(args, getattr(coordinator, step_name), **options)
        except ElectionError as exc:
            raise (UnknownElection if isinstance(exc, ElectionNotFound) else BridgeError)(exc.reason) from None

    action.__name__ = f"election_{step_name or 'create'}"
    return action


ACTIONS: dict[str, Callable[[Hub, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "roll_call": roll_call, "send": send, "broadcast": broadcast, "disconnect": disconnect, "clients": clients,
    "election.create": _election_action(None),  # {question, candidates, threshold, trustees, mixers, credentials,
                                                # voters, tally, cheat, cheat_mixer} (server/election/lab.py)
    "election.keygen": _election_action("keygen"),  # the key ceremony with the connected trustees; opens voting
    "election.close": _election_action("close_voting"),
    "election.mix": _election_action("mix"),  # the cascade; resumes after the last accepted stage
    "election.decrypt": _election_action("decrypt"),  # proven decryption + tally
    "election.publish": _election_action("publish"),  # build the record, verify ({full: false}: not the proofs
                                                      # checked on arrival), publish
    "election.status": _election_action("status"),
    "election.current": _election_action("status"),  # the latest election's status
    "election.list": election_list,  # every election on the board, oldest first
}


def check_call(action: str, args: Any) -> dict[str, Any]:
    """Reject a call before it reaches the loop: unknown action or args that are not an object."""
    if action not in ACTIONS:
        raise BridgeError(f"unknown action {str(action)[:40]!r}; known: {sorted(ACTIONS)}")
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise BridgeError("args must be a JSON object")
    return args


async def dispatch(hub: Hub, action: str, args: dict[str, Any], future: concurrent.futures.Future) -> None:
    hub.channel.publish("bridge.called", {"action": action, "args": protocol.masked(args)})
    try:
        result = await ACTIONS[action](hub, args)
    except BridgeError as exc:
        hub.channel.publish("bridge.result", {"action": action, "ok": False, "error": exc.reason})
        _settle(future, exc)
    except Exception as exc:  # an action bug must not leave the caller waiting forever
        hub.log("error", f"bridge action {action!r} failed: {exc!r}")
        hub.channel.publish("bridge.result", {"action": action, "ok": False, "error": f"internal error: {exc!r}"})
        _settle(future, BridgeError(f"internal error in {action!r}"))
    else:
        hub.channel.publish("bridge.result", {"action": action, "ok": True, "result": protocol.masked(result)})
        _settle(future, result)


def _settle(future: concurrent.futures.Future, outcome: Any) -> None:
    if future.done():  # the caller may have cancelled it
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _timeout(args: dict[str, Any]) -> float:
    timeout = args.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        raise BridgeError(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}]")
    return float(timeout)


def _client_id(args: dict[str, Any]) -> str:
    client_id = args.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise BridgeError("client_id must be a non-empty string")
    return client_id


def _message(args: dict[str, Any]) -> dict[str, Any]:
    message = args.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise BridgeError('message must be a JSON object with a string "type"')
    try:
        size = len(protocol.encode(message).encode("utf-8"))
    except (TypeError, ValueError):
        raise BridgeError("message must be plain JSON") from None
    if size > protocol.MAX_MESSAGE_BYTES:
        raise BridgeError(f"message of {size} bytes is over the {protocol.MAX_MESSAGE_BYTES}-byte limit")
    return message

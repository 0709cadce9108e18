"""One stage of the mix cascade: send the list to a mixer (chunked), await its signed answer (or its timeout or
disconnect), check the proof of shuffle off the loop, and record the stage accepted or rejected with the reason."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from mixnet.record import mix_context
from server import board as board_mod
from server import signed_text
from server.board import content_hash
from server.election import lab, work
from server.election.common import MAX_REASON, ElectionError, NodeRef
from server.election.inbox import NodeGone, NodeRefused

if TYPE_CHECKING:
    from server.election.coordinator import Coordinator

MIX_TIMEOUT_BASE, MIX_TIMEOUT_PER_BALLOT = 30.0, 0.01  # shuffle+prove is ~0.5 ms per ciphertext on one core


async def run_stage(coord: "Coordinator", election: board_mod.Election, node: NodeRef, position: int, index: int,
                    inputs: list) -> list | None:
    """One mixer's turn: its accepted outputs, or None when the stage was rejected (reason recorded)."""
    eid, started = election.id, time.perf_counter()
    context = mix_context(eid, position, node.name)
    timeout = MIX_TIMEOUT_BASE + MIX_TIMEOUT_PER_BALLOT * len(inputs)
    event = {"election_id": eid, "stage": position, "mixer": node.name, "count": len(inputs)}
    coord.emit("election.stage", {**event, "status": "running", "reason": None, "seconds": 0.0})
    reply = coord.inbox.expect(node.client_id, "mix.response", eid)
    coord.mixing_stage[node.client_id] = position
    hashed = await coord.on_worker(work.list_hash, inputs)
    cheat = lab.cheat_field(await coord.on_io(lab.load, coord.data_dir, eid), position)  # lab demos only
    coord.send(node, {"type": "mix.request", "election_id": eid, "stage": position,
                      "public_key": election.public_key, "context": context.hex(), "ciphertexts": inputs,
                      "list_hash": hashed, **cheat})
    outputs, proof, reason = None, None, None
    stored_outputs, stored_proof = None, None  # as the board gets them: canonical texts when the pool made them
    sent = time.perf_counter()
    try:
        message = await asyncio.wait_for(reply, timeout)
    except asyncio.TimeoutError:
        reason = f"mixer {node.name} did not answer within {timeout:.0f} s"
    except NodeRefused as exc:
        reason = f"mixer {node.name} refused the stage: {exc}"
    except NodeGone:
        reason = f"mixer {node.name} disconnected during its stage"
    else:
        outputs, proof = message["outputs"], message["proof"]
        stored_outputs, stored_proof = (signed_text.stored_form(message, name) for name in ("outputs", "proof"))
        if message["stage"] != position:
            reason = f"answered for stage {message['stage']}, not {position}"
        else:
            coord.emit("election.stage", {**event, "status": "verifying", "reason": None,
                                          "seconds": round(time.perf_counter() - started, 3)})
            answered = time.perf_counter()
            reason = await coord.on_worker(work.verify_stage, election.public_key, inputs, outputs, proof,
                                           context, coord.map_fn())
            coord.hub.log("info", f"election {eid} stage {position}: {node.name} answered in "
                          f"{answered - sent:.2f} s, verified in {time.perf_counter() - answered:.2f} s")
    coord.mixing_stage.pop(node.client_id, None)
    if coord.closing:
        raise ElectionError("server stopping: the cascade resumes from the last accepted stage")
    status = "accepted" if reason is None else "rejected"
    storing = time.perf_counter()
    input_hash = await coord.on_worker(content_hash, inputs)  # canonical JSON of the whole list: not on the loop
    await coord.on_io(coord.board.add_mix_stage, eid, index, node.name, status, input_hash=input_hash,
                      output=stored_outputs, proof=stored_proof,
                      reason=None if reason is None else reason[:MAX_REASON])
    coord.hub.log("info", f"election {eid} stage {position}: stored in {time.perf_counter() - storing:.2f} s "
                  f"(prepared in {sent - started:.2f} s)")
    if reason is not None:
        coord.hub.log("warning", f"election {eid}: stage {position} by {node.name} rejected: {reason[:200]}")
    coord.emit("election.stage", {**event, "status": status, "reason": reason,
                                     "seconds": round(time.perf_counter() - started, 3)})
    return outputs if reason is None else None

"""One stage of the mix cascade: send the list to a mixer (chunked), await its signed answer (or its timeout or
disconnect), judge it off the loop exactly as the verifier will (mixnet/stages.py), and record the stage accepted
or rejected with its class and reason, keeping the signed response whole as the record's evidence."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mixscope.mixnet import stages, submission
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.record import mix_context
from mixscope.server import board as board_mod
from mixscope.server import signed_text
from mixscope.server.board import content_hash
from mixscope.server.board.canonical import text_hash
from mixscope.server.election import lab, records
from mixscope.server.election.common import MAX_REASON, ElectionError, NodeRef
from mixscope.server.election.inbox import NodeGone, NodeRefused

if TYPE_CHECKING:
    from mixscope.server.election.link import StepContext

MIX_TIMEOUT_BASE, MIX_TIMEOUT_PER_BALLOT = 30.0, 0.01  # shuffle+prove is ~0.5 ms per ciphertext on one core


@dataclass
class Answer:
    """A mixer's turn up to its answer: the signed response (None: no answer, `reason` says why)."""

    node: NodeRef
    position: int
    inputs: list
    context: bytes
    inputs_hash: str
    event: dict[str, Any]
    response: dict | None
    reason: str | None
    started: float
    sent: float


async def run_stage(coord: StepContext, election: board_mod.Election, node: NodeRef, position: int, index: int,
                    inputs: list, nonce: bytes = b"") -> list | None:
    """One mixer's turn: its accepted outputs, or None when the stage was rejected (reason recorded)."""
    return await settle(coord, election, await ask(coord, election, node, position, inputs, nonce), index)


async def ask(coord: StepContext, election: board_mod.Election, node: NodeRef, position: int, inputs: list,
              nonce: bytes = b"", inputs_hash: str | None = None, stale_hash: str | None = None) -> Answer:
    """Send the mix request and await the signed answer (or the timeout, a refusal, a disconnect). `inputs_hash`:
    the inputs' list_hash when it is already known; `stale_hash`: the list_hash of a request for this stage index
    this mixer had before (its answer was dropped): a late answer to that one is not taken for this one."""
    eid, started = election.id, time.perf_counter()
    context = mix_context(eid, position, node.public_key, nonce)
    timeout = MIX_TIMEOUT_BASE + MIX_TIMEOUT_PER_BALLOT * len(inputs)
    event = {"election_id": eid, "stage": position, "mixer": node.name, "count": len(inputs)}
    coord.emit("election.stage", {**event, "status": "running", "reason": None, "seconds": 0.0})
    coord.mixing_stage[node.client_id] = position
    hashed = inputs_hash if inputs_hash is not None else await coord.on_worker(stages.list_hash, inputs)
    # The wait starts once the list is hashed (a node gone meanwhile fails the send below instead). Asked again on
    # the same list, an answer to the first request is as good an answer to this one: nothing is stale then.
    stale = None if stale_hash in (None, hashed) else (
        lambda m: m.get("stage") == position and m.get("input_hash") == stale_hash)
    reply = coord.inbox.expect(node.client_id, "mix.response", eid, stale)
    cheat = lab.cheat_field(await coord.on_io(lab.load, coord.data_dir, eid), position)  # lab demos only
    delivered = bool(await coord.send_prepared([node], {
        "type": "mix.request", "election_id": eid, "stage": position, "public_key": election.public_key,
        "context": context.hex(), "list_hash": hashed, **cheat,
        # the previous answer's outputs as the text they arrived in: megabytes not encoded again
        "ciphertexts": inputs.text if isinstance(inputs, signed_text.EncodedList) else inputs}))
    response, reason = None, None
    sent = time.perf_counter()
    try:
        if not delivered:  # gone before its request went out (asked again, or waiting in the queue): no wait
            if not reply.cancel():  # already failed by the disconnect: that NodeGone says it
                reply.result()
            raise NodeGone(node.client_id)
        response = await asyncio.wait_for(reply, timeout)
    except asyncio.TimeoutError:
        reason = f"mixer {node.name} did not answer within {timeout:.0f} s"
    except NodeRefused as exc:
        reason = f"mixer {node.name} refused the stage: {exc}"
    except NodeGone:
        reason = f"mixer {node.name} disconnected during its stage"
    return Answer(node, position, inputs, context, hashed, event, response, reason, started, sent)


def proposed_outputs(answer: Answer) -> tuple[list, str] | None:
    """Worker thread: the answer's outputs and their list_hash, if they have the shape of the next stage's inputs
    (a list of len(inputs) pairs of 32-byte hex values, hashing to the answer's list_hash): what the next mixer may
    start on while this stage is judged. None: judge it first (a list no mix request can carry is never sent)."""
    response = answer.response
    if not isinstance(response, dict) or "join_token" in response:
        return None
    outputs = response.get("outputs")
    if not isinstance(outputs, list) or len(outputs) != len(answer.inputs):
        return None
    try:
        hashed = stages.list_hash(outputs)
    except ValueError:
        return None
    return (signed_text.with_text(response, "outputs"), hashed) if hashed == response.get("list_hash") else None


async def settle(coord: StepContext, election: board_mod.Election, answer: Answer, index: int) -> list | None:
    """Forward the answer to the trustees, judge it off the loop exactly as the verifier will, store the stage
    accepted or rejected (`index`: the accepted stages before it). Its accepted outputs, or None."""
    eid, node, position, inputs, event = election.id, answer.node, answer.position, answer.inputs, answer.event
    response, reason, rejected_as = answer.response, answer.reason, None
    forwarded_to = []
    if isinstance(response, dict):  # the trustees check it while the server does
        forwarded_to = await forward_stage(coord, election, index, inputs, response)
    if response is not None:
        coord.emit("election.stage", {**event, "status": "verifying", "reason": None,
                                      "seconds": round(time.perf_counter() - answer.started, 3)})
        answered = time.perf_counter()
        verdict = await coord.on_worker(judge_stage, response, eid, position, inputs, election.public_key,
                                        answer.context, coord.map_fn(), answer.inputs_hash)
        rejected_as, reason = verdict.rejected_as, None if verdict.rejected_as is None else verdict.reason
        if verdict.rejected_as == stages.NO_ANSWER:
            response = None  # signed, but not in the form the record can carry: nothing signed to publish
        coord.log("info", f"election {eid} stage {position}: {node.name} answered in "
                      f"{answered - answer.sent:.2f} s, judged in {time.perf_counter() - answered:.2f} s")
    else:
        rejected_as = stages.NO_ANSWER
    if coord.mixing_stage.get(node.client_id) == position:
        coord.mixing_stage.pop(node.client_id, None)
    if coord.closing:
        raise ElectionError("server stopping: the cascade resumes from the last accepted stage")
    status = "accepted" if rejected_as is None else "rejected"
    storing = time.perf_counter()
    input_hash = await coord.on_worker(_content_hash, inputs)  # canonical JSON of the whole list: not on the loop
    envelope, stored_outputs, stored_proof = split_response(response)
    await coord.on_io(coord.board.add_mix_stage, eid, index, node.name, status, input_hash=input_hash,
                      output=stored_outputs, proof=stored_proof,
                      reason=None if reason is None else reason[:MAX_REASON],
                      mixer_key=node.public_key, rejected_as=rejected_as, envelope=envelope)
    coord.log("info", f"election {eid} stage {position}: stored in {time.perf_counter() - storing:.2f} s "
                  f"(prepared in {answer.sent - answer.started:.2f} s)")
    if reason is not None:
        coord.log("warning", f"election {eid}: stage {position} by {node.name} rejected ({rejected_as}): "
                      f"{reason[:200]}")
    coord.emit("election.stage", {**event, "status": status, "class": rejected_as, "reason": reason,
                                  "seconds": round(time.perf_counter() - answer.started, 3)})
    if rejected_as is not None or response is None:  # an accepted stage has its response
        return None
    for client_id in forwarded_to:  # each checked it itself (or will say it did not): decrypting needs no more
        coord.forwarded.setdefault(eid, {})[client_id] = response["list_hash"]
    return signed_text.with_text(response, "outputs")


def _content_hash(inputs: list) -> str:
    """content_hash(inputs), from their canonical text when they came with it (the previous stage's outputs)."""
    return text_hash(inputs.text) if isinstance(inputs, signed_text.EncodedList) else content_hash(inputs)


def judge_stage(response: dict, election_id: str, position: int, inputs: list, public_key: str, context: bytes,
                map_fn, inputs_hash: str | None = None) -> stages.Verdict:
    """Worker thread: the stage judged exactly as the verifier will judge it (mixnet/stages.py). A response the
    record's canonical form cannot carry (a float, a boolean...) counts as no answer: nothing publishable."""
    if "join_token" in response:  # a secret: never published, so this response is no evidence
        return stages.Verdict(stages.NO_ANSWER, "response cannot be published: it carries a join token")
    try:
        submission.check_canonical_subset(response)
    except submission.SubmissionError as exc:
        return stages.Verdict(stages.NO_ANSWER, f"response cannot be published: {exc}")
    decoded = Ciphertext.list_from_json(inputs, validate=False)  # validated when they were stored
    return stages.judge(dict(response), election_id=election_id, stage=position, inputs_json=inputs, inputs=decoded,
                        public_key=bytes.fromhex(public_key), context=context, map_fn=map_fn,
                        inputs_hash=inputs_hash)


def split_response(response: dict | None) -> tuple[Any, Any, Any]:
    """(envelope, outputs, proof) as the board stores a signed response: a well-shaped one's outputs and proof
    in their own columns (as canonical texts when the pool made them), every other field in the envelope."""
    if response is None:
        return None, None, None
    if not (isinstance(response.get("outputs"), list) and isinstance(response.get("proof"), dict)):
        return dict(response), None, None
    envelope = {k: v for k, v in response.items() if k not in ("outputs", "proof")}
    return envelope, signed_text.stored_form(response, "outputs"), signed_text.stored_form(response, "proof")


async def forward_stage(coord: StepContext, election: board_mod.Election, index: int, inputs: list,
                        response: dict) -> list[str]:
    """Send a stage as it arrives to the trustees that will be asked to decrypt (the lowest indices first): each
    checks it while the server does (client/trustee.py), and at decryption only compares the list with the end
    of the cascade it checked itself. Returns the client ids it went to. A trustee that missed a stage (it
    joined later, the server restarted) or failed one gets the whole cascade when asked to decrypt instead."""
    eid = election.id
    if "join_token" in response or not isinstance(response.get("input_hash"), str) \
            or not isinstance(response.get("list_hash"), str):
        return []  # a secret never leaves the server; a stage without its hashes cannot extend a chain
    dealt = await coord.on_io(records.dealings, coord.board, eid)
    index_of = {name: body["index"] for name, body in dealt.items()}
    nodes = sorted((n for n in coord.link.election_nodes("trustee") if n.name in index_of),
                   key=lambda n: index_of[n.name])[:election.threshold]
    forwarded = coord.forwarded.setdefault(eid, {})
    # the signed answer as the text it arrived in (signed_text.Received), not encoded again: megabytes
    encoded = response.encoded() if isinstance(response, signed_text.Received) else None
    message: dict[str, Any] = {"type": "cascade.stage", "election_id": eid,
                               "response": dict(response) if encoded is None else encoded}
    if index == 0:  # no stage accepted yet: its inputs are the cast ballots
        manifest = await coord.on_io(records.manifest, coord.board, eid)
        if manifest is None:
            return []  # an election from before manifests: the trustees check the whole cascade at decryption
        message["start"] = {"manifest": manifest, "cast": inputs}
        forwarded.clear()
    # it missed a stage before: it will check the whole cascade
    nodes = [n for n in nodes if not index or forwarded.get(n.client_id) == response["input_hash"]]
    if not nodes:
        return []
    return await coord.send_prepared(nodes, message)  # megabytes: encoded and cut once, off the loop

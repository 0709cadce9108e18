"""Proven decryption: ask t of the election's connected trustees for partial decryptions of the final list
(the lowest indices first), check each one's batched proof off the loop as it arrives, and keep the first t
valid ones on the board. A spare trustee is asked at once when an asked one fails (refuses, disconnects,
sends a share that does not verify), and every spare is asked when the asked ones straggle: the spares'
work would be thrown away otherwise, and on a small machine it slows down the trustees that count."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from mixscope.mixnet import stages
from mixscope.mixnet import trustees as dkg
from mixscope.server import board as board_mod
from mixscope.server.election import records, work
from mixscope.server.election.common import MAX_REASON, ElectionError, NodeRef, named
from mixscope.server.election.inbox import NodeRefused

if TYPE_CHECKING:
    from mixscope.server.election.link import StepContext

DECRYPT_TIMEOUT_BASE, DECRYPT_TIMEOUT_PER_BALLOT = 30.0, 0.005
SPARES_AFTER_BASE, SPARES_AFTER_PER_BALLOT = 10.0, 0.002  # ask every spare if the asked have not all answered
# Before decrypting, each trustee re-checks every accepted stage (mixnet/cascade_check.py): ~0.6 ms per ciphertext
# and stage on a quiet core, so both bounds grow with that work (with room for a loaded machine).
CHECK_PER_BALLOT_STAGE, SPARES_PER_BALLOT_STAGE = 0.01, 0.004
STRAGGLER_FACTOR = 2.0  # ...or once the first valid share is in and the rest take this much longer again


async def collect_partials(coord: StepContext, election, final: list, index_of: dict[str, int], dealings,
                           verified: dict, evidence_of=None) -> None:
    """Fill `verified` (trustee name -> partial) up to the threshold; ElectionError when it cannot be reached.
    `evidence_of(board, id)`: what the trustees check before decrypting (default: the signed cascade)."""
    eid, t = election.id, election.threshold
    nodes = [n for n in coord.link.election_nodes("trustee") if n.name in index_of and n.name not in verified]
    if len(nodes) + len(verified) < t:
        raise ElectionError(f"decryption needs {t} trustees; {len(nodes) + len(verified)} of the election's "
                            "trustees are connected")
    nodes.sort(key=lambda n: index_of[n.name])
    keys = {n.name: dkg.verification_key(dealings, index_of[n.name]).hex() for n in nodes}
    hashed = await coord.on_worker(stages.list_hash, final)
    nonce = await coord.on_io(records.nonce, coord.board, eid)
    forwarded = coord.forwarded.get(eid, {})
    whole: dict = {}  # the cascade evidence, read from the board only for a trustee that needs it

    async def cascade_for(node) -> dict:
        """What this trustee checks first: a homomorphic election's ballots (`evidence_of`); nothing more than
        the final list's hash when it checked each stage as it was forwarded during the mix; otherwise the
        whole cascade."""
        if evidence_of is None and forwarded.get(node.client_id) == hashed:
            return {"checked": hashed}
        if not whole:
            whole.update(await coord.on_io(evidence_of or records.cascade_evidence, coord.board, eid))
        return whole

    summaries = await coord.on_io(coord.board.mix_stage_summaries, eid)
    stage_count = sum(s["status"] == "accepted" for s in summaries)
    asked: dict[asyncio.Future, NodeRef] = {}
    loop = asyncio.get_running_loop()
    sent = time.perf_counter()
    checked = len(final) * stage_count  # ciphertexts × accepted stages each trustee re-checks
    if evidence_of is not None:  # a homomorphic election: each trustee checks every ballot's proofs instead
        checked = await coord.on_io(coord.board.count_ballots, eid)
    deadline = (
        loop.time() + DECRYPT_TIMEOUT_BASE + DECRYPT_TIMEOUT_PER_BALLOT * len(final) + CHECK_PER_BALLOT_STAGE * checked
    )
    spares_at = (
        loop.time() + SPARES_AFTER_BASE + SPARES_AFTER_PER_BALLOT * len(final) + SPARES_PER_BALLOT_STAGE * checked
    )
    spares, pending = list(nodes), set()

    async def ask_node(node) -> None:
        wait = coord.inbox.expect(node.client_id, "decrypt.response", eid)
        await coord.send_prepared([node], {"type": "decrypt.request", "election_id": eid, "ciphertexts": final,
                                           "list_hash": hashed, "cascade": await cascade_for(node)})
        task = asyncio.ensure_future(named(node.name, wait))
        asked[task] = node
        pending.add(task)

    async def ask(count: int) -> None:
        chosen = spares[:count]
        del spares[:count]
        for node in chosen:
            await ask_node(node)

    await ask(t - len(verified))
    try:
        while pending and len(verified) < t:
            wake = min(deadline, spares_at) if spares else deadline
            done, pending = await asyncio.wait(pending, timeout=max(wake - loop.time(), 0),
                                               return_when=asyncio.FIRST_COMPLETED)
            if not done:
                if spares and loop.time() >= spares_at:
                    coord.log("info", f"election {eid}: trustees slow to decrypt; asking the "
                                  f"{len(spares)} spare(s) too")
                    await ask(len(spares))
                    continue
                break
            for task in done:
                if len(verified) >= t:
                    break  # enough: the remaining answers need no checking
                if task.exception() is not None:
                    refusal = task.exception()
                    if isinstance(refusal, NodeRefused) and str(refusal).startswith("unchecked_cascade"):
                        forwarded.pop(asked[task].client_id, None)
                        await ask_node(asked[task])  # it has not checked each stage itself: the whole cascade
                        continue
                    if isinstance(refusal, NodeRefused) and str(refusal).startswith("refused_cascade"):
                        await record_refusal(coord, eid, asked[task], str(refusal))
                    await ask(1)  # that trustee left or refused: a spare takes its place
                    continue
                name, message = task.result()
                partial = {"trustee": index_of[name], "factors": message["partials"], "proof": message["proof"]}
                arrived = time.perf_counter()
                reason = (f"answered as trustee {message['index']}" if message["index"] != index_of[name] else
                          await coord.on_worker(work.verify_partial, eid, keys[name], final, partial, coord.map_fn(),
                                                nonce))
                coord.log("info", f"election {eid}: partial decryption of {name} arrived after "
                             f"{arrived - sent:.2f} s, checked in {time.perf_counter() - arrived:.2f} s")
                if reason:
                    coord.log("warning", f"election {eid}: partial decryption of {name} refused: {reason[:200]}")
                    await ask(1)
                    continue
                if len(verified) < t:
                    # the whole signed message: the record carries it as the trustee's attributable share
                    share = {k: v for k, v in message.items() if k != "join_token"}
                    await coord.on_io(coord.board.add_decryption_share, eid, name, share)
                    verified[name] = share
                    coord.progress("decrypt", eid, name, "verified", len(verified), t)
                    waited = time.perf_counter() - sent
                    spares_at = min(spares_at, loop.time() + STRAGGLER_FACTOR * waited + 5.0)
            if not pending and spares and len(verified) < t:
                await ask(t - len(verified))  # every asked trustee answered or failed: the spares are all that is left
    finally:
        for task in pending:
            task.cancel()
    if len(verified) < t:
        raise ElectionError(f"only {len(verified)} valid partial decryptions arrived; {t} needed")


async def record_refusal(coord: StepContext, election_id: str, node, reason: str) -> None:
    """A trustee refused to decrypt the list it was given (it is not the end of the signed cascade): on the
    board, and so in the record, with its reason."""
    coord.log("warning", f"election {election_id}: trustee {node.name} refused to decrypt: {reason[:200]}")
    coord.emit("election.refusal", {"election_id": election_id, "trustee": node.name, "reason": reason[:MAX_REASON]})
    try:
        await coord.on_io(coord.board.add_trustee_message, election_id, node.name, records.REFUSAL,
                          {"trustee": node.public_key, "reason": reason[:MAX_REASON]})
    except board_mod.BoardError:
        pass  # one refusal per trustee is kept

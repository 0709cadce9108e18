"""Proven decryption: ask the election's connected trustees for partial decryptions of the final list, check
each one's proofs off the loop as it arrives, and keep the first t valid ones on the board."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from mixnet import trustees as dkg
from server.election import work
from server.election.common import ElectionError, named

if TYPE_CHECKING:
    from server.election.coordinator import Coordinator

DECRYPT_TIMEOUT_BASE, DECRYPT_TIMEOUT_PER_BALLOT = 30.0, 0.005


async def collect_partials(coord: "Coordinator", election, final: list, index_of: dict[str, int], dealings,
                           verified: dict) -> None:
    """Fill `verified` (trustee name -> partial) up to the threshold; ElectionError when it cannot be reached."""
    eid, t = election.id, election.threshold
    nodes = [n for n in coord.hub.election_nodes("trustee") if n.name in index_of and n.name not in verified]
    if len(nodes) + len(verified) < t:
        raise ElectionError(f"decryption needs {t} trustees; {len(nodes) + len(verified)} of the election's "
                            "trustees are connected")
    keys = {n.name: dkg.verification_key(dealings, index_of[n.name]).hex() for n in nodes}
    hashed = await coord.on_worker(work.list_hash, final)
    waits = {}
    for node in nodes:
        waits[node.name] = coord.inbox.expect(node.client_id, "decrypt.response", eid)
        coord.send(node, {"type": "decrypt.request", "election_id": eid, "ciphertexts": final, "list_hash": hashed})
    timeout = DECRYPT_TIMEOUT_BASE + DECRYPT_TIMEOUT_PER_BALLOT * len(final)
    sent = time.perf_counter()
    pending = {asyncio.ensure_future(named(name, fut)) for name, fut in waits.items()}
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while pending and len(verified) < t:
            left = deadline - asyncio.get_running_loop().time()
            done, pending = await asyncio.wait(pending, timeout=max(left, 0), return_when=asyncio.FIRST_COMPLETED)
            if not done:
                break
            for task in done:
                if len(verified) >= t:
                    break  # enough: the remaining answers need no checking
                if task.exception() is not None:
                    continue  # that trustee left; others may still make the threshold
                name, message = task.result()
                partial = {"trustee": index_of[name], "factors": message["partials"], "proof": message["proof"]}
                arrived = time.perf_counter()
                reason = (f"answered as trustee {message['index']}" if message["index"] != index_of[name] else
                          await coord.on_worker(work.verify_partial, eid, keys[name], final, partial, coord.map_fn()))
                coord.hub.log("info", f"election {eid}: partial decryption of {name} arrived after "
                             f"{arrived - sent:.2f} s, checked in {time.perf_counter() - arrived:.2f} s")
                if reason:
                    coord.hub.log("warning", f"election {eid}: partial decryption of {name} refused: {reason[:200]}")
                    continue
                if len(verified) < t:
                    await coord.on_io(coord.board.add_decryption_share, eid, name, partial)
                    verified[name] = partial
                    coord.progress("decrypt", eid, name, "verified", len(verified), t)
    finally:
        for task in pending:
            task.cancel()
    if len(verified) < t:
        raise ElectionError(f"only {len(verified)} valid partial decryptions arrived; {t} needed")

"""The key ceremony with the trustee nodes (docs/protocol.md, Key ceremony): each deals, the server checks
every dealing's proof and records it, forwards the sealed shares, and each trustee confirms its verification key."""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

from mixscope.mixnet import proofs
from mixscope.mixnet import trustees as dkg
from mixscope.mixnet.record import make_manifest, manifest_hash
from mixscope.server import board as board_mod
from mixscope.server.election import lab, records
from mixscope.server.election.common import ElectionError, NodeRef, gather_named

if TYPE_CHECKING:
    from mixscope.server.election.link import StepContext

KEYGEN_TIMEOUT = 30.0


async def seat(coord: StepContext, election: board_mod.Election, trustees: list[NodeRef],
               mixers: list[NodeRef]) -> dict:
    """Write the election manifest (fresh nonce, the listed trustees and mixers with their keys), have every
    listed node sign it to take its seat, and store both; return the manifest. A node that refuses or does not
    answer fails the ceremony: the manifest lists only nodes that took their seats."""
    tally = lab.load(coord.data_dir, election.id).tally  # an election parameter: every listed node signs it
    summed = tally == "homomorphic"
    mixers = [] if summed else mixers  # no cascade: the manifest lists no mixer
    manifest = make_manifest(
        election.id, election.question, election.candidates, election.threshold, election.trustees,
        0 if summed else election.mixers, secrets.token_hex(32),
        [{"index": i, "name": n.name, "key": n.public_key} for i, n in enumerate(trustees, 1)],
        [{"name": n.name, "key": n.public_key} for n in mixers], tally=tally)
    digest = manifest_hash(manifest)
    nodes = [*trustees, *mixers]
    waits = {n.name: coord.inbox.expect(n.client_id, "seat", election.id) for n in nodes}
    for node in nodes:
        coord.send(node, {"type": "seat.request", "election_id": election.id, "manifest": manifest})
    seats = await asyncio.wait_for(gather_named(waits), KEYGEN_TIMEOUT)
    for name, message in seats.items():
        if message["manifest_hash"] != digest:
            raise ElectionError(f"{name} signed another manifest")
    await coord.on_io(coord.board.add_trustee_message, election.id, records.MANIFEST_HOLDER, records.MANIFEST,
                      manifest)
    for name, message in seats.items():
        await coord.on_io(coord.board.add_trustee_message, election.id, name, records.SEAT, dict(message))
    return manifest


async def exchange(coord: StepContext, election: board_mod.Election, chosen: list[NodeRef], nonce: str) -> str:
    """Run the ceremony with `chosen` as trustees 1..n; return the joint public key (hex)."""
    eid, context = election.id, proofs.election_context(election.id, bytes.fromhex(nonce))
    labels = dkg.labels_digest(election.question, election.candidates)
    roster: list[dict[str, Any]] = [
        {"index": i, "name": n.name, "public_key": n.public_key} for i, n in enumerate(chosen, 1)
    ]
    waits = {n.name: coord.inbox.expect(n.client_id, "keygen.commitment", eid) for n in chosen}
    for entry, node in zip(roster, chosen):
        coord.progress("keygen", eid, node.name, "request", 0, len(chosen))
        coord.send(node, {"type": "keygen.request", "election_id": eid, "index": entry["index"],
                          "threshold": election.threshold, "trustees": roster, "question": election.question,
                          "candidates": list(election.candidates), "nonce": nonce})
    replies = await asyncio.wait_for(gather_named(waits), KEYGEN_TIMEOUT)
    dealings: dict[int, dkg.Dealing] = {}
    for entry in roster:
        reply = replies[entry["name"]]
        if reply["index"] != entry["index"]:
            raise ElectionError(f"trustee {entry['name']} answered as index {reply['index']}, not {entry['index']}")
        dealing = dkg.Dealing.from_json({k: reply[k] for k in ("index", "commitments", "proof")})
        dkg.verify_dealing(dealing, election.threshold, context, labels)
        dealings[entry["index"]] = dealing
        # the whole signed message: the record carries it as the trustee's attributable dealing
        await coord.on_io(coord.board.add_trustee_message, eid, entry["name"], records.DEALING, dict(reply))
    done = {n.name: coord.inbox.expect(n.client_id, "keygen.done", eid) for n in chosen}
    complaints = [coord.inbox.expect(n.client_id, "keygen.complaint", eid) for n in chosen]
    for entry, node in zip(roster, chosen):
        j = str(entry["index"])
        coord.send(node, {
            "type": "keygen.shares", "election_id": eid,
            # whole dealings {index, commitments, proof}, so each trustee checks the proofs itself too
            "commitments": {str(i): d.to_json() for i, d in dealings.items()},
            "shares": {str(e["index"]): replies[e["name"]]["shares"].get(j) for e in roster},
        })
    finished = asyncio.ensure_future(asyncio.wait_for(gather_named(done), KEYGEN_TIMEOUT))
    complained, _ = await asyncio.wait([finished, *complaints], return_when=asyncio.FIRST_COMPLETED)
    for future in complaints:
        if future in complained and not future.cancelled() and future.exception() is None:
            finished.cancel()
            c = future.result()
            raise ElectionError(f"trustee {c['index']} complained against {c['against']}: {str(c['reason'])[:200]}")
        future.cancel()
    confirmations = await finished
    for entry in roster:
        expected = dkg.verification_key(dealings.values(), entry["index"]).hex()
        if confirmations[entry["name"]]["verification_key"] != expected:
            raise ElectionError(f"trustee {entry['name']} confirmed a wrong verification key")
        coord.progress("keygen", eid, entry["name"], "done", len(chosen), len(chosen))
    return dkg.joint_public_key(dealings.values()).hex()

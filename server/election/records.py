"""Rebuild an election's record (docs/verifier.md) from the bulletin board alone.

Everything the record needs is stored as it happens: trustee dealings (trustee message kind "dealing"),
ballots, every mix stage attempt in order (rejected ones with what the mixer sent), the verified partial
decryptions and the result. So a server that crashed and restarted can still publish the same record.
"""

from __future__ import annotations

from typing import Any, Callable

from mixscope.mixnet import ballots, group
from mixscope.mixnet.record import RecordBuilder
from mixscope.server.board import Board

DEALING = "dealing"  # the trustee's whole signed keygen.commitment message
MANIFEST, MANIFEST_HOLDER = "manifest", "manifest"  # the election manifest, under a pseudo-trustee name
SEAT = "seat"  # a listed node's signed seat message (kept under the node's name)
REFUSAL = "decrypt.refusal"  # {trustee: key, reason}: a trustee that would not decrypt the list it was given
KEY_CONFIRMED = "keygen.done"


def dealings(board: Board, election_id: str) -> dict[str, dict[str, Any]]:
    """trustee name -> its signed keygen.commitment message (index, commitments, proof, ...), in index order."""
    found = {m.trustee: m.body for m in board.trustee_messages(election_id, DEALING)}
    return dict(sorted(found.items(), key=lambda item: item[1]["index"]))


def ballot_ciphertexts(board: Board, election_id: str) -> list[list[str]]:
    return board.ballot_field(election_id, "ciphertext")


def manifest(board: Board, election_id: str) -> dict[str, Any] | None:
    """The election manifest written at the key ceremony, or None for an election that has none."""
    found = board.trustee_messages(election_id, MANIFEST)
    return found[0].body if found else None


def nonce(board: Board, election_id: str) -> bytes:
    found = manifest(board, election_id)
    return bytes.fromhex(found["nonce"]) if found else b""


def cascade_evidence(board: Board, election_id: str) -> dict[str, Any]:
    """What a trustee checks before decrypting (mixnet/cascade_check.py): the manifest, the cast ciphertexts and
    every accepted stage's signed response, in order."""
    return {"manifest": manifest(board, election_id), "cast": ballot_ciphertexts(board, election_id),
            "stages": [stage.response() for stage in board.mix_stages(election_id, accepted_only=True)]}


def build_record(board: Board, election_id: str, part: Callable[[str, Any], dict] | None = None) -> dict[str, Any]:
    """The record (docs/verifier.md §2). With `part`, each big value (the ballots, each mix stage, the
    decryption, the plaintexts) is handed to `part(name, value)` as soon as it is complete and the record
    keeps what that returns, a reference (§2.1): then only one stage's lists are held at a time."""
    election = board.get_election(election_id)
    builder = RecordBuilder(election_id, election.question, election.candidates, election.threshold,
                            election.trustees)
    keys: set[str] = set()
    listed = manifest(board, election_id)
    if listed is not None:
        builder.set_manifest(listed)
        keys.update(t["key"] for t in listed["listed_trustees"])
        keys.update(m["key"] for m in listed["listed_mixers"])
    for seat in board.trustee_messages(election_id, SEAT):
        builder.add_seat(seat.body)
    for body in dealings(board, election_id).values():
        builder.add_dealing(body)
        keys.add(body["signed"]["key"])
    if election.public_key:
        builder.set_public_key(group.decode(election.public_key))
    builder.set_credentials(sorted(board.credentials(election_id)))
    for stored in board.ballots(election_id):
        builder.add_ballot(stored.voter_id, ballots.Ballot.from_json(stored.ballot))
    ballots_ref = None
    if part is not None:
        ballots_ref, builder.ballots = part("ballots", builder.ballots), []
    for stage in board.iter_mix_stages(election_id):
        if stage.mixer_key is None:  # the cascade stores every stage with its signer (server/election/cascade.py)
            raise ValueError(f"stage {stage.index} of election {election_id} has no mixer key")
        builder.add_stage(stage.mixer_key, stage.response(), None if stage.status == "accepted" else stage.rejected_as,
                          stage.reason)
        keys.add(stage.mixer_key)
        if part is not None:
            builder.stages[-1] = part(f"mix-{len(builder.stages) - 1}", builder.stages[-1])
        del stage
    add_decryption_and_nodes(builder, board, election_id, keys)
    result = board.result(election_id)
    if result is not None:
        builder.set_result(result["plaintexts"], result["counts"], result["invalid"])
    doc = builder.to_json()
    if part is not None:
        doc["ballots"] = ballots_ref
        doc["decryption"] = part("decryption", doc["decryption"])
        doc["plaintexts"] = part("plaintexts", doc["plaintexts"])
    return doc


def add_decryption_and_nodes(builder: Any, board: Board, election_id: str, keys: set[str]) -> None:
    """The decryption shares, the trustees' refusals and every signer's node entry (either tally mode's builder);
    `keys` holds the signers met so far and gains the shares' and refusals'."""
    for share in board.decryption_shares(election_id).values():
        builder.add_partial(share)
        keys.add(share["signed"]["key"])
    for refusal in board.trustee_messages(election_id, REFUSAL):
        builder.add_refusal(refusal.body["trustee"], refusal.body["reason"])
        keys.add(refusal.body["trustee"])
    for key in sorted(keys):
        node = board.node(key)
        if node is not None:
            builder.add_node(node.public_key, node.name, node.role)

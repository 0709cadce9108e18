"""The server's steps of a homomorphic election (mixnet/homomorphic.py): no cascade. After close the verified
ballots are summed per candidate; the trustees decrypt only the K sums (the ordinary decryption path, a list of
K ciphertexts), shown the manifest and the cast ballots so each can check the list is their sums; the counts
are read from a table. The record is built from the board as for a mixnet election."""

from __future__ import annotations

from typing import Any

from mixscope.mixnet import group, homomorphic
from mixscope.mixnet import trustees as dkg
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.record import ballot_entry
from mixscope.server.board import Board
from mixscope.server.election import lab, records, states
from mixscope.server.election.common import ElectionError

HOMOMORPHIC = homomorphic.HOMOMORPHIC


def is_homomorphic(coord, election_id: str) -> bool:
    return lab.load(coord.data_dir, election_id).tally == HOMOMORPHIC


def sums(board: Board, election_id: str) -> list[list[str]]:
    """The per-candidate sums of the stored ballots (each verified on arrival), as JSON."""
    election = board.get_election(election_id)
    return homomorphic.sums_of_json([stored.ballot for stored in board.ballots(election_id)],
                                    len(election.candidates))


def evidence(board: Board, election_id: str) -> dict[str, Any]:
    """What a trustee checks before decrypting the sums: the manifest and every cast ballot with its voter."""
    return {"manifest": records.manifest(board, election_id),
            "ballots": [ballot_entry(stored.voter_id, stored.ballot) for stored in board.ballots(election_id)]}


async def sum_step(coord, election) -> dict[str, Any]:  # coord: the election coordinator
    """The homomorphic election's step in place of the cascade: sum the ballots, then decryption may start."""
    count = await coord.on_io(coord.board.count_ballots, election.id)
    if count < 2:
        raise await coord.fail(election.id, f"{count} ballot(s): decrypting the sums of fewer than two would "
                                            "reveal a vote")
    summed = await coord.on_io(sums, coord.board, election.id)
    coord.progress("sum", election.id, "server", "summed", count, count)
    await coord._set_state(election.id, states.DECRYPTING)
    return {"tally": HOMOMORPHIC, "sums": len(summed), "count": count}


def combine_counts(final: list, partials: list[dict], threshold: int, ballots: int) -> dict[str, Any]:
    """The counts from t verified trustees' factors of the sums: M_i = count_i·G, solved by table lookup."""
    chosen: dict[int, list[bytes]] = {}
    for partial in partials:
        if partial["trustee"] not in chosen and len(chosen) < threshold:
            chosen[partial["trustee"]] = [group.from_hex(f) for f in partial["factors"]]
    if len(chosen) < threshold:
        raise dkg.NotEnoughShares(f"{len(chosen)} trustees decrypted, {threshold} needed")
    cts = [Ciphertext.from_json(ct, validate=False) for ct in final]
    try:
        counts = homomorphic.counts_of(dkg.combine_factors(cts, chosen), ballots)
    except ValueError as exc:
        raise ElectionError(f"the sums do not decrypt to counts: {exc}") from None
    return {"counts": counts, "invalid": 0, "plaintexts": None}


def summed_on_board(board: Board, election_id: str) -> bool:
    """The election's manifest on the board says homomorphic: its record has this mode's layout."""
    listed = records.manifest(board, election_id)
    return listed is not None and listed.get("tally") == HOMOMORPHIC


def build_record(board: Board, election_id: str) -> dict[str, Any]:
    """The homomorphic record (docs/verifier.md §5), from the board alone."""
    election = board.get_election(election_id)
    builder = homomorphic.HomomorphicRecordBuilder(election_id, election.question, election.candidates,
                                                   election.threshold, election.trustees)
    keys: set[str] = set()
    listed = records.manifest(board, election_id)
    if listed is not None:
        builder.set_manifest(listed)
        keys.update(t["key"] for t in listed["listed_trustees"])
    for seat in board.trustee_messages(election_id, records.SEAT):
        builder.add_seat(seat.body)
    for body in records.dealings(board, election_id).values():
        builder.add_dealing(body)
        keys.add(body["signed"]["key"])
    builder.set_credentials(sorted(board.credentials(election_id)))
    if election.public_key:
        builder.set_public_key(group.decode(election.public_key))
    for stored in board.ballots(election_id):
        builder.add_ballot_json(stored.voter_id, stored.ballot)
    records.add_decryption_and_nodes(builder, board, election_id, keys)
    result = board.result(election_id)
    if result is not None:
        builder.set_counts(result["counts"])
    return builder.to_json()

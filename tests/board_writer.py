"""A board writer for the kill -9 tests: appends ballots (or mix stages) to a board file forever, printing
one JSON line per acknowledged write, until it is killed. Resumes where the file stopped.

    python tests/board_writer.py PATH ballots|stages ELECTION_ID
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mixscope.server.board import STATES, Board, content_hash  # noqa: E402

STATES_TO_VOTING = ("key_ceremony", "voting")
STATES_TO_MIXING = ("closed", "mixing")


def advance(board: Board, election_id: str, path: tuple[str, ...]) -> None:
    """Step through `path` from wherever the election is (a resumed run may already be past some of it)."""
    for state in path:
        if STATES.index(board.get_election(election_id).state) < STATES.index(state):
            board.set_state(election_id, state)


def write_ballots(board: Board, election_id: str) -> None:
    advance(board, election_id, STATES_TO_VOTING)
    n = board.count_ballots(election_id)
    while True:
        n += 1
        receipt = board.add_ballot(election_id, f"voter-{n}", {"ct": [secrets.token_hex(32), secrets.token_hex(32)]})
        print(json.dumps(receipt.to_json()), flush=True)


def write_stages(board: Board, election_id: str) -> None:
    advance(board, election_id, STATES_TO_VOTING)
    if board.count_ballots(election_id) == 0:
        board.add_ballot(election_id, "voter-1", {"ct": [secrets.token_hex(32)]})
    advance(board, election_id, STATES_TO_MIXING)
    while True:
        index = board.next_mix_index(election_id)
        previous = board.last_accepted_output(election_id)
        source = previous if previous is not None else [b.ballot for b in board.ballots(election_id)]
        output = {"stage": index, "cts": [secrets.token_hex(32) for _ in range(50)]}
        stage = board.add_mix_stage(
            election_id, index, f"mixer-{index}", "accepted",
            input_hash=content_hash(source), output=output, proof={"t": secrets.token_hex(32)},
        )  # fmt: skip
        print(json.dumps({"index": stage.index, "output_hash": stage.output_hash}), flush=True)


if __name__ == "__main__":
    path, mode, election = sys.argv[1:4]
    with Board(path) as board:
        board.create_election(election, "Kill me?", ["yes", "no"], 1, 1, 1)
        {"ballots": write_ballots, "stages": write_stages}[mode](board, election)

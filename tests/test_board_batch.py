"""Board.add_ballots: many ballots in one transaction, each with add_ballot's exactly-once rules."""

from __future__ import annotations

import pytest

from mixscope.server import board as board_mod
from mixscope.server.board import Board, content_hash


@pytest.fixture
def board(tmp_path):
    with Board(tmp_path / "board.sqlite3") as b:
        b.create_election("e1", "Q?", ["a", "b"], 1, 1, 1)
        b.set_state("e1", "key_ceremony")
        b.set_public_key("e1", "00" * 32)
        b.set_state("e1", "voting")
        yield b


def ballot(n: int) -> dict:
    return {"ciphertext": [f"{n:064x}", "11" * 32], "proof": n}


def test_a_batch_is_stored_in_order_with_dense_positions(board):
    outcomes = board.add_ballots("e1", [(f"v{i}", ballot(i)) for i in range(5)])
    assert [o.error for o in outcomes] == [None] * 5 and all(o.created for o in outcomes)
    assert [o.receipt.position for o in outcomes] == [1, 2, 3, 4, 5]
    stored = board.ballots("e1")
    assert [(b.voter_id, b.tracking_hash) for b in stored] == [(f"v{i}", content_hash(ballot(i))) for i in range(5)]


def test_refusals_are_per_ballot_and_store_nothing_of_them(board):
    board.add_ballot("e1", "old", ballot(0))
    outcomes = board.add_ballots("e1", [
        ("old", ballot(0)),        # identical resubmission: its original receipt
        ("old", ballot(9)),        # a second, different ballot of a voter
        ("new", ballot(0)),        # another voter's identical ballot
        ("", ballot(1)),           # bad voter id
        ("good", "not json{"),     # not a JSON object
        ("good", ballot(2)),
        ("good", ballot(2)),       # the same voter twice in one batch, identical: one ballot
        ("good", ballot(3)),       # ... and different: refused
    ])
    kinds = [type(o.error).__name__ if o.error else ("created" if o.created else "resubmitted") for o in outcomes]
    assert kinds == ["resubmitted", "DuplicateBallotError", "DuplicateBallotError", "BoardInputError",
                     "BoardInputError", "created", "resubmitted", "DuplicateBallotError"]
    assert outcomes[0].receipt.position == 1 and outcomes[5].receipt.position == 2
    assert outcomes[6].receipt == outcomes[5].receipt
    assert [(b.voter_id, b.position) for b in board.ballots("e1")] == [("old", 1), ("good", 2)]


def test_resubmitting_a_whole_batch_returns_the_same_receipts(board):
    entries = [(f"v{i}", ballot(i)) for i in range(3)]
    first = board.add_ballots("e1", entries)
    again = board.add_ballots("e1", entries)
    assert [o.receipt for o in again] == [o.receipt for o in first] and not any(o.created for o in again)
    assert board.count_ballots("e1") == 3


def test_closed_election_answers_resubmissions_and_refuses_new_ballots(board):
    board.add_ballot("e1", "v0", ballot(0))
    board.set_state("e1", "closed")
    outcomes = board.add_ballots("e1", [("v0", ballot(0)), ("v1", ballot(1))])
    assert outcomes[0].receipt.position == 1
    assert isinstance(outcomes[1].error, board_mod.StateError) and outcomes[1].receipt is None
    assert board.count_ballots("e1") == 1


def test_unknown_election_raises(board):
    with pytest.raises(board_mod.NotFoundError):
        board.add_ballots("nope", [("v", ballot(1))])
    with pytest.raises(board_mod.BoardInputError):
        board.add_ballots("bad id!", [("v", ballot(1))])

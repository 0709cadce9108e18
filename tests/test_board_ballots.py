"""Ballots: committed before acknowledged, exactly once per voter, refused outside voting, and nothing lost
under concurrent writers (threads sharing one Board, and two Boards on the same file)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest

from mixscope.server.board import (
    Board,
    BoardError,
    BoardInputError,
    DuplicateBallotError,
    NotFoundError,
    StateError,
)
from mixscope.wire.canonical import canonical_json


def voting_board(path) -> Board:
    board = Board(path)
    board.create_election("e", "Which?", ["a", "b", "c"], 2, 3, 2)
    board.set_state("e", "key_ceremony")
    board.set_state("e", "voting")
    return board


@pytest.fixture
def board(tmp_path):
    with voting_board(tmp_path / "board.sqlite3") as board:
        yield board


def test_the_receipt_carries_the_sha256_of_the_canonical_ballot(board):
    ballot = {"ct": [["aa", "bb"]], "proof": {"c": "01", "z": "02"}}
    receipt = board.add_ballot("e", "alice", ballot)
    assert receipt.tracking_hash == hashlib.sha256(canonical_json(ballot).encode()).hexdigest()
    assert canonical_json(ballot) == '{"ct":[["aa","bb"]],"proof":{"c":"01","z":"02"}}'
    assert (receipt.election_id, receipt.voter_id, receipt.position) == ("e", "alice", 1)
    assert board.receipt("e", "alice") == receipt
    assert board.add_ballot("e", "bob", {"ct": [["cc", "dd"]]}).position == 2
    assert [(b.voter_id, b.ballot) for b in board.ballots("e")] == [("alice", ballot), ("bob", {"ct": [["cc", "dd"]]})]
    assert board.count_ballots("e") == 2


def test_a_retried_identical_ballot_returns_the_original_receipt(board):
    first = board.add_ballot("e", "alice", {"ct": [1, 2], "v": 1})
    # the same ballot as JSON text with another key order and spacing is the same ballot
    again = board.add_ballot("e", "alice", '{"v": 1,  "ct": [1, 2]}')
    assert again == first
    assert board.count_ballots("e") == 1


def test_a_second_different_ballot_from_the_same_voter_is_refused(board):
    first = board.add_ballot("e", "alice", {"ct": [1]})
    with pytest.raises(DuplicateBallotError, match="already cast a different ballot"):
        board.add_ballot("e", "alice", {"ct": [2]})
    assert [b.ballot for b in board.ballots("e")] == [{"ct": [1]}]
    assert board.receipt("e", "alice") == first


def test_a_ballot_copied_from_another_voter_is_refused(board):
    board.add_ballot("e", "alice", {"ct": [1]})
    with pytest.raises(DuplicateBallotError, match="another voter"):
        board.add_ballot("e", "mallory", {"ct": [1]})
    assert board.receipt("e", "mallory") is None


def test_ballots_are_refused_outside_voting_but_retries_of_accepted_ones_still_answer(board):
    receipt = board.add_ballot("e", "alice", {"ct": [1]})
    board.set_state("e", "closed")
    with pytest.raises(StateError, match="closed, not voting"):
        board.add_ballot("e", "bob", {"ct": [2]})
    assert board.add_ballot("e", "alice", {"ct": [1]}) == receipt  # the voter's lost reply, re-asked
    assert board.count_ballots("e") == 1


def test_a_ballot_before_voting_opens_is_refused(tmp_path):
    with Board(tmp_path / "b.sqlite3") as board:
        board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
        with pytest.raises(StateError):
            board.add_ballot("e", "alice", {"ct": [1]})


@pytest.mark.parametrize(
    "election, voter, ballot, error",
    [
        ("nope", "alice", {"ct": 1}, NotFoundError),
        ("e", "", {"ct": 1}, BoardInputError),
        ("e", None, {"ct": 1}, BoardInputError),
        ("e", "alice", "{not json", BoardInputError),
        ("e", "alice", "[1, 2]", BoardInputError),  # a ballot is an object
        ("e", "alice", {"x": float("nan")}, BoardInputError),
        ("e", "alice", {"x": object()}, BoardInputError),
        ("../etc", "alice", {"ct": 1}, BoardInputError),
    ],
)
def test_bad_ballots_get_typed_errors_and_store_nothing(board, election, voter, ballot, error):
    with pytest.raises(error):
        board.add_ballot(election, voter, ballot)
    assert board.count_ballots("e") == 0
    board.add_ballot("e", "alice", {"ct": 1})  # and the board still works


def test_ballots_are_append_only_in_the_file_itself(board):
    board.add_ballot("e", "alice", {"ct": [1]})
    conn = board._connection()  # what a careless later patch would do
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM ballots")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE ballots SET ballot_json = '{}'")
    assert board.count_ballots("e") == 1


@pytest.mark.slow
def test_concurrent_writer_threads_lose_nothing(board):
    threads, per_thread = 8, 60
    receipts: list = []
    errors: list = []
    start = threading.Barrier(threads)

    def vote(t: int) -> None:
        start.wait()
        try:
            for i in range(per_thread):
                receipts.append(board.add_ballot("e", f"v{t}-{i}", {"ct": [t, i]}))
                if i % 10 == 0:
                    board.count_ballots("e")  # readers interleave with writers
        except Exception as exc:  # surfaced below; a thread's exception would otherwise vanish
            errors.append(exc)

    workers = [threading.Thread(target=vote, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert errors == []
    stored = board.ballots("e")
    assert len(stored) == len(receipts) == threads * per_thread
    assert sorted(b.position for b in stored) == list(range(1, threads * per_thread + 1))
    assert {(r.voter_id, r.position, r.tracking_hash) for r in receipts} == {
        (b.voter_id, b.position, b.tracking_hash) for b in stored
    }


def test_two_boards_on_one_file_race_for_the_same_voters_and_each_voter_gets_one_ballot(tmp_path):
    path = tmp_path / "shared.sqlite3"
    voting_board(path).close()
    boards = [Board(path), Board(path)]  # two connections: SQLite's file locking, not our lock, decides
    outcomes: list[list] = [[], []]
    start = threading.Barrier(2)

    def vote(k: int) -> None:
        start.wait()
        for i in range(80):
            try:
                outcomes[k].append(boards[k].add_ballot("e", f"voter-{i}", {"ct": [k, i]}))
            except DuplicateBallotError:
                outcomes[k].append(None)

    workers = [threading.Thread(target=vote, args=(k,)) for k in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    with Board(path) as board:
        stored = {b.voter_id: b for b in board.ballots("e")}
        assert len(stored) == 80
        for i in range(80):
            winners = [outcomes[k][i] for k in range(2) if outcomes[k][i] is not None]
            assert len(winners) == 1, f"voter-{i}: {winners}"  # exactly one of the two was acknowledged
            assert stored[f"voter-{i}"].tracking_hash == winners[0].tracking_hash
        assert board.integrity_check() == ["ok"]
    for b in boards:
        b.close()


def test_a_closed_board_raises_a_typed_error(tmp_path):
    board = voting_board(tmp_path / "b.sqlite3")
    board.close()
    board.close()  # idempotent
    with pytest.raises(BoardError, match="closed"):
        board.add_ballot("e", "alice", {"ct": 1})

"""Elections and their state machine: legal transitions only, failure with a reason, and the state (with
its history and the public key) persisted across a reopen, so a restarted server resumes where it stopped."""

from __future__ import annotations

import pytest

from mixscope.server.board import (
    FAILED,
    STATES,
    Board,
    BoardInputError,
    ConflictError,
    NotFoundError,
    StateError,
)


@pytest.fixture
def board(tmp_path):
    with Board(tmp_path / "board.sqlite3") as board:
        yield board


def test_create_get_and_list(board):
    created = board.create_election("poll-1", "Lunch?", ["pizza", "soup"], 2, 3, 2)
    assert (created.state, created.candidates, created.threshold, created.trustees, created.mixers) == (
        "created", ("pizza", "soup"), 2, 3, 2,
    )  # fmt: skip
    assert board.get_election("poll-1") == created
    board.create_election("poll-2", "Dinner?", ["rice", "pasta", "salad"], 1, 1, 1)
    assert [e.id for e in board.list_elections()] == ["poll-1", "poll-2"]
    assert created.to_json()["candidates"] == ("pizza", "soup")


def test_creating_again_is_idempotent_but_other_parameters_conflict(board):
    first = board.create_election("e", "Q?", ["a", "b"], 1, 2, 1)
    assert board.create_election("e", "Q?", ["a", "b"], 1, 2, 1) == first
    with pytest.raises(ConflictError):
        board.create_election("e", "Q?", ["a", "b", "c"], 1, 2, 1)


@pytest.mark.parametrize(
    "args",
    [
        ("", "Q?", ["a", "b"], 1, 1, 1),
        ("e", "", ["a", "b"], 1, 1, 1),
        ("e", "Q?", ["a"], 1, 1, 1),
        ("e", "Q?", ["a", "a"], 1, 1, 1),
        ("e", "Q?", "ab", 1, 1, 1),
        ("e", "Q?", ["a", "b"], 3, 2, 1),  # threshold above trustees
        ("e", "Q?", ["a", "b"], 0, 2, 1),
        ("e", "Q?", ["a", "b"], 1, 1, 0),
        ("e", "Q?", ["a", "b"], True, 1, 1),
        ("e", "Q?", ["a", "b"], "1", 1, 1),
    ],
)
def test_bad_election_parameters_get_typed_errors(board, args):
    with pytest.raises(BoardInputError):
        board.create_election(*args)
    assert board.list_elections() == []


def test_the_lifecycle_is_walked_in_order_and_recorded(board):
    board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
    with pytest.raises(StateError, match="cannot go from created to voting"):
        board.set_state("e", "voting")
    for state in STATES[1:]:
        assert board.set_state("e", state).state == state
    assert [c.state for c in board.history("e")] == list(STATES)
    with pytest.raises(StateError, match="no longer change"):
        board.set_state("e", FAILED, "too late")


def test_repeating_the_current_state_is_a_no_op(board):
    board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
    board.set_state("e", "key_ceremony")
    board.set_state("e", "key_ceremony")
    assert [c.state for c in board.history("e")] == ["created", "key_ceremony"]


def test_failing_needs_a_reason_and_is_final(board):
    board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
    board.set_state("e", "key_ceremony")
    with pytest.raises(BoardInputError):
        board.set_state("e", FAILED)
    failed = board.set_state("e", FAILED, "trustee 2 sent an invalid share")
    assert (failed.state, failed.reason) == (FAILED, "trustee 2 sent an invalid share")
    with pytest.raises(StateError):
        board.set_state("e", "voting")
    assert board.history("e")[-1].reason == "trustee 2 sent an invalid share"


def test_unknown_states_and_elections_get_typed_errors(board):
    board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
    with pytest.raises(BoardInputError, match="unknown state"):
        board.set_state("e", "finished")
    with pytest.raises(NotFoundError):
        board.set_state("missing", "key_ceremony")
    with pytest.raises(NotFoundError):
        board.get_election("missing")


def test_state_public_key_and_history_survive_a_reopen(tmp_path):
    path = tmp_path / "board.sqlite3"
    with Board(path) as board:
        board.create_election("e", "Q?", ["a", "b"], 2, 3, 2)
        board.set_state("e", "key_ceremony")
        board.set_public_key("e", "AB" * 32)  # stored lower-case: one key, one spelling
        board.set_state("e", "voting")
        board.set_state("e", "closed")
        board.set_state("e", "mixing")
    with Board(path) as board:
        election = board.get_election("e")
        assert (election.state, election.public_key) == ("mixing", "ab" * 32)
        assert [c.state for c in board.history("e")] == ["created", "key_ceremony", "voting", "closed", "mixing"]
        board.set_state("e", "decrypting")  # carries on from where it stopped


def test_the_public_key_is_set_once_during_the_key_ceremony(board):
    board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
    board.set_state("e", "key_ceremony")
    with pytest.raises(BoardInputError):
        board.set_public_key("e", "zz" * 32)
    board.set_public_key("e", "ab" * 32)
    board.set_public_key("e", "ab" * 32)
    with pytest.raises(ConflictError):
        board.set_public_key("e", "cd" * 32)
    board.set_state("e", "voting")
    with pytest.raises(StateError):
        board.set_public_key("e", "ab" * 32)


def test_the_default_location_is_the_per_user_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with Board.open() as board:
        assert board.path == tmp_path / "xdg" / "mixscope" / "board.sqlite3"
        board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
    with Board(data_dir=tmp_path / "elsewhere") as other:
        assert other.path == tmp_path / "elsewhere" / "board.sqlite3"
        assert other.list_elections() == []
    with Board.open() as board:
        assert [e.id for e in board.list_elections()] == ["e"]

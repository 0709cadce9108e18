"""From closing to publication: the chain of mix stages, trustee messages, decryption shares, the result
and the published record, each exactly once and only in its state."""

from __future__ import annotations

import pytest

from mixscope.server.board import (
    Board,
    BoardInputError,
    ConflictError,
    StateError,
    content_hash,
)


def stage_output(index: int) -> dict:
    return {"cts": [[f"a{index}-{i}", f"b{index}-{i}"] for i in range(3)]}


@pytest.fixture
def board(tmp_path):
    with Board(tmp_path / "board.sqlite3") as board:
        board.create_election("e", "Q?", ["a", "b"], 2, 3, 2)
        for state in ("key_ceremony", "voting"):
            board.set_state("e", state)
        for voter in ("alice", "bob", "carol"):
            board.add_ballot("e", voter, {"ct": [voter + "-a", voter + "-b"]})
        board.set_state("e", "closed")
        board.set_state("e", "mixing")
        yield board


def input_zero(board: Board) -> str:
    return content_hash([b.ballot["ct"] for b in board.ballots("e")])


def test_accepted_stages_chain_and_rejected_ones_are_kept_as_evidence(board):
    assert (board.next_mix_index("e"), board.last_accepted_output("e")) == (0, None)
    s0 = board.add_mix_stage(
        "e", 0, "mixer-1", "accepted", input_hash=input_zero(board), output=stage_output(0), proof={"p": 0}
    )
    assert s0.output_hash == content_hash(stage_output(0))
    bad = board.add_mix_stage(
        "e", 1, "mixer-2", "rejected", input_hash=s0.output_hash, reason="shuffle proof fails at t3"
    )
    assert bad.status == "rejected" and bad.output is None
    s1 = board.add_mix_stage(
        "e", 1, "mixer-3", "accepted", input_hash=s0.output_hash, output=stage_output(1), proof={"p": 1}
    )
    assert board.next_mix_index("e") == 2
    assert board.last_accepted_output("e") == stage_output(1)
    assert [(s.index, s.mixer, s.status) for s in board.mix_stages("e")] == [
        (0, "mixer-1", "accepted"), (1, "mixer-2", "rejected"), (1, "mixer-3", "accepted"),
    ]  # fmt: skip
    assert [s.id for s in board.mix_stages("e", accepted_only=True)] == [s0.id, s1.id]
    assert board.mix_stages("e")[2].proof == {"p": 1}


def test_a_stage_that_does_not_continue_the_chain_is_refused(board):
    s0 = board.add_mix_stage("e", 0, "m1", "accepted", input_hash=input_zero(board), output=stage_output(0), proof={})
    with pytest.raises(StateError, match="out of order"):
        board.add_mix_stage("e", 2, "m2", "accepted", input_hash=s0.output_hash, output=stage_output(2), proof={})
    with pytest.raises(StateError, match="not the output"):
        board.add_mix_stage("e", 1, "m2", "accepted", input_hash="00" * 32, output=stage_output(1), proof={})
    assert board.next_mix_index("e") == 1


def test_re_recording_an_accepted_stage_is_idempotent_and_a_different_one_conflicts(board):
    args = dict(input_hash=input_zero(board), output=stage_output(0), proof={"p": 0})
    first = board.add_mix_stage("e", 0, "m1", "accepted", **args)
    assert board.add_mix_stage("e", 0, "m1", "accepted", **args) == first
    with pytest.raises(ConflictError):
        board.add_mix_stage("e", 0, "m1", "accepted", input_hash=args["input_hash"], output=stage_output(9), proof={})
    assert len(board.mix_stages("e")) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(index=0, status="accepted", input_hash="00" * 32, output=None, proof={}),
        dict(index=0, status="accepted", input_hash="00" * 32, output={}, proof=None),
        dict(index=0, status="rejected", input_hash="00" * 32),  # no reason
        dict(index=0, status="maybe", input_hash="00" * 32, reason="x"),
        dict(index=-1, status="rejected", input_hash="00" * 32, reason="x"),
        dict(index=0, status="rejected", input_hash="xyz", reason="x"),
    ],
)
def test_malformed_stages_get_typed_errors(board, kwargs):
    index, status = kwargs.pop("index"), kwargs.pop("status")
    with pytest.raises(BoardInputError):
        board.add_mix_stage("e", index, "m1", status, **kwargs)
    assert board.mix_stages("e") == []


def test_stages_are_refused_outside_mixing(tmp_path):
    with Board(tmp_path / "b.sqlite3") as board:
        board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
        with pytest.raises(StateError, match="not mixing"):
            board.add_mix_stage("e", 0, "m", "rejected", input_hash="00" * 32, reason="early")


def test_trustee_messages_are_stored_once_per_kind(board):
    m = board.add_trustee_message("e", "t1", "commitments", {"c": ["aa", "bb"]})
    assert board.add_trustee_message("e", "t1", "commitments", '{"c": ["aa", "bb"]}') == m
    with pytest.raises(ConflictError):
        board.add_trustee_message("e", "t1", "commitments", {"c": ["cc"]})
    board.add_trustee_message("e", "t1", "share:2", {"enc": "01"})
    board.add_trustee_message("e", "t2", "commitments", {"c": ["dd"]})
    assert [(x.trustee, x.kind) for x in board.trustee_messages("e")] == [
        ("t1", "commitments"), ("t1", "share:2"), ("t2", "commitments"),
    ]  # fmt: skip
    assert [x.body for x in board.trustee_messages("e", kind="commitments")] == [{"c": ["aa", "bb"]}, {"c": ["dd"]}]


def test_decryption_result_and_record_complete_the_election(board):
    s0 = board.add_mix_stage("e", 0, "m1", "accepted", input_hash=input_zero(board), output=stage_output(0), proof={})
    with pytest.raises(StateError):
        board.add_decryption_share("e", "t1", {"d": "01"})
    board.set_state("e", "decrypting")
    board.add_decryption_share("e", "t1", {"d": "01", "proof": "p1"})
    board.add_decryption_share("e", "t1", {"d": "01", "proof": "p1"})  # a retry
    with pytest.raises(ConflictError):
        board.add_decryption_share("e", "t1", {"d": "02", "proof": "p1"})
    board.add_decryption_share("e", "t3", {"d": "03", "proof": "p3"})
    assert board.decryption_shares("e") == {"t1": {"d": "01", "proof": "p1"}, "t3": {"d": "03", "proof": "p3"}}

    with pytest.raises(StateError):
        board.publish_record("e", {"too": "early"})
    assert board.result("e") is None
    assert board.set_result("e", {"a": 2, "b": 1}).state == "tallied"  # stored and moved in one step
    assert board.set_result("e", {"b": 1, "a": 2}).state == "tallied"
    with pytest.raises(ConflictError):
        board.set_result("e", {"a": 3, "b": 0})
    assert board.result("e") == {"a": 2, "b": 1}

    record = {"election": "e", "mix": [s0.output_hash], "result": {"a": 2, "b": 1}}
    assert board.record("e") is None
    record_hash = board.publish_record("e", record)
    assert record_hash == content_hash(record)
    assert board.get_election("e").state == "published"
    assert board.publish_record("e", record) == record_hash
    with pytest.raises(ConflictError):
        board.publish_record("e", {**record, "result": {"a": 0, "b": 3}})
    assert board.record("e") == record
    assert [c.state for c in board.history("e")][-3:] == ["decrypting", "tallied", "published"]

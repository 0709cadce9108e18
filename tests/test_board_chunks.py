"""Long stage texts are stored as rows of bounded size in the board file and come back exactly: whole, as a
stream of ciphertexts, in summaries, and after reopening the file."""

from __future__ import annotations

import sqlite3

import pytest

from mixscope.server.board import Board, CanonicalJSON, canonical_json, chunks, content_hash


def ciphertexts(count: int, tag: str) -> list[list[str]]:
    return [[f"{tag}{i:06d}" + "a" * 57, f"{tag}{i:06d}" + "b" * 57] for i in range(count)]


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_CHARS", 4096)  # many pieces from a list of a few hundred ciphertexts
    return 4096


def mixing_board(path) -> Board:
    board = Board(path)
    board.create_election("e", "Q?", ["a", "b"], 2, 3, 2)
    for state in ("key_ceremony", "voting"):
        board.set_state("e", state)
    for voter in ("alice", "bob"):
        board.add_ballot("e", voter, {"ct": [voter + "-a", voter + "-b"]})
    board.set_state("e", "closed")
    board.set_state("e", "mixing")
    return board


def test_a_long_stage_is_stored_in_bounded_rows_and_reads_back_exactly(tmp_path, small_pieces):
    path = tmp_path / "board.sqlite3"
    outputs = ciphertexts(300, "c")
    proof = {"responses": [f"{i:064x}" for i in range(200)], "t": "x"}
    envelope = {"type": "mix.response", "election_id": "e", "stage": 0, "list_hash": "h" * 64}
    input_hash = content_hash([["alice-a", "alice-b"], ["bob-a", "bob-b"]])
    with mixing_board(path) as board:
        stage = board.add_mix_stage("e", 0, "m1", "accepted", input_hash=input_hash,
                                    output=CanonicalJSON(canonical_json(outputs)), proof=proof, envelope=envelope)
    with sqlite3.connect(path) as db:  # the board file itself: NULL columns, pieces no longer than the bound
        output_json, proof_json = db.execute("SELECT output_json, proof_json FROM mix_stages").fetchone()
        rows = db.execute("SELECT field, piece, length(text) FROM text_chunks ORDER BY field, piece").fetchall()
    assert (output_json, proof_json) == (None, None)
    assert {field for field, _, _ in rows} == {"output", "proof"}  # the short envelope stays in its column
    assert sum(1 for field, _, _ in rows if field == "output") == -(-len(canonical_json(outputs)) // small_pieces)
    assert max(length for _, _, length in rows) <= small_pieces
    with Board(path) as board:  # reopened: whole, streamed, counted, and the chain continues from it
        [stored] = board.mix_stages("e")
        assert (stored.output, stored.proof) == (outputs, proof)
        assert stored.output_hash == content_hash(outputs) == stage.output_hash
        assert stored.response()["outputs"] == outputs and stored.response()["list_hash"] == "h" * 64
        assert list(board.stage_outputs(stored.id)) == outputs
        assert list(board.iter_mix_stages("e")) == [stored]  # one stage per read, the same stage
        assert board.last_accepted_output("e") == outputs
        assert board.mix_stage_summaries("e")[0]["count"] == 300
        assert board.integrity_check() == ["ok"]


def test_a_short_stage_stays_in_its_columns_and_streams_too(tmp_path):
    with mixing_board(tmp_path / "board.sqlite3") as board:
        outputs = ciphertexts(3, "s")
        input_hash = content_hash([["alice-a", "alice-b"], ["bob-a", "bob-b"]])
        stage = board.add_mix_stage("e", 0, "m1", "accepted", input_hash=input_hash, output=outputs, proof={"p": 1})
        assert list(board.stage_outputs(stage.id)) == outputs
        with sqlite3.connect(board.path) as db:
            assert db.execute("SELECT count(*) FROM text_chunks").fetchone() == (0,)


@pytest.mark.parametrize("text", ["[]", "[1,22,333]", '[{"a":[1,2]},"x,]",[[]],-7.5e3,null]'])
def test_list_items_are_parsed_across_any_piece_boundary(text):
    import json

    for size in range(1, len(text) + 1):
        parts = [text[i:i + size] for i in range(0, len(text), size)]
        assert list(chunks.iter_list_items(parts)) == json.loads(text)


def test_a_truncated_list_is_an_error_not_a_shorter_list():
    with pytest.raises(ValueError):
        list(chunks.iter_list_items(['[1,2', ',3']))


def test_one_ballot_field_reads_back_without_the_rest(tmp_path):
    with mixing_board(tmp_path / "board.sqlite3") as board:
        assert board.ballot_field("e", "ct") == [b.ballot["ct"] for b in board.ballots("e")]
        assert board.ballot_field("e", "absent") == [None, None]
        with pytest.raises(ValueError, match="not a ballot field"):
            board.ballot_field("e", "ct') --")

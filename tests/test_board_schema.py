"""The board's versioned schema: files written by older versions migrate forward with their data; files
that are not boards, or are from a newer Mixscope, are refused with a typed error."""

from __future__ import annotations

import sqlite3

import pytest

from mixscope.server import board_schema
from mixscope.server.board import Board, BoardError, SchemaError


def old_board_file(path, version: int) -> sqlite3.Connection:
    """A board file as an older Mixscope left it: only the first `version` migration steps applied."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert board_schema.migrate(conn, target=version) == version
    return conn


def test_a_new_board_is_at_the_latest_version_in_wal_mode(tmp_path):
    with Board(tmp_path / "b.sqlite3") as board:
        assert board.schema_version == board_schema.LATEST_VERSION == len(board_schema.MIGRATIONS)
    conn = sqlite3.connect(tmp_path / "b.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == board_schema.APPLICATION_ID


def test_a_v1_file_migrates_to_the_latest_keeping_its_data(tmp_path):
    path = tmp_path / "v1.sqlite3"
    conn = old_board_file(path, 1)
    conn.execute(
        "INSERT INTO elections (id, question, candidates_json, threshold, trustees, mixers, state, created_at,"
        " updated_at) VALUES ('old', 'Q?', '[\"a\",\"b\"]', 2, 3, 2, 'voting', 1.0, 2.0)"
    )
    conn.execute(
        "INSERT INTO ballots VALUES ('old', 'alice', 1, '{\"ct\":1}',"
        " '" + "ab" * 32 + "', 3.0)"
    )
    conn.close()

    with Board(path) as board:
        assert board.schema_version == board_schema.LATEST_VERSION
        election = board.get_election("old")
        assert (election.state, election.candidates, election.public_key) == ("voting", ("a", "b"), None)
        # v3 starts the state history of old elections at the state they were in
        assert [(c.state, c.at) for c in board.history("old")] == [("voting", 2.0)]
        assert [(b.voter_id, b.ballot) for b in board.ballots("old")] == [("alice", {"ct": 1})]
        # v2's tables work: node identities and the replay guard
        board.record_node("mixer-1", "mixer", "cd" * 32)
        board.log_signed_message("cd" * 32, 1, "hello", {}, "ef" * 64)
        # and the old election carries on under the new code
        assert board.add_ballot("old", "bob", {"ct": 2}).position == 2
        assert board.integrity_check() == ["ok"]


def test_a_v2_file_migrates_to_the_latest(tmp_path):
    path = tmp_path / "v2.sqlite3"
    conn = old_board_file(path, 2)
    conn.execute("INSERT INTO nodes VALUES ('" + "cd" * 32 + "', 'n', 'trustee', 1.0, 1.0)")
    conn.close()
    with Board(path) as board:
        assert board.schema_version == board_schema.LATEST_VERSION
        assert [n.name for n in board.nodes("trustee")] == ["n"]


def test_reopening_the_latest_file_runs_no_migration_and_keeps_everything(tmp_path):
    with Board(tmp_path / "b.sqlite3") as board:
        board.create_election("e", "Q?", ["a", "b"], 1, 1, 1)
    with Board(tmp_path / "b.sqlite3") as board:
        assert [e.id for e in board.list_elections()] == ["e"]
        assert len(board.history("e")) == 1  # the v3 backfill did not run a second time


def test_a_file_from_a_newer_mixscope_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    old_board_file(path, board_schema.LATEST_VERSION).execute(
        f"PRAGMA user_version = {board_schema.LATEST_VERSION + 1}"
    )
    with pytest.raises(SchemaError, match="newer"):
        Board(path)


def test_another_applications_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="not a Mixscope board"):
        Board(path)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_schema")] == ["notes"]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_a_file_that_is_not_sqlite_is_refused_with_a_typed_error(tmp_path):
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SchemaError):
        Board(path)


def test_a_failing_migration_step_leaves_the_file_at_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "b.sqlite3"
    old_board_file(path, 2).close()
    broken = board_schema.Migration(3, "broken", ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
    monkeypatch.setattr(board_schema, "MIGRATIONS", (*board_schema.MIGRATIONS[:2], broken))
    with pytest.raises(SchemaError, match="migration to schema version 3"):
        Board(path)
    monkeypatch.undo()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'").fetchone()[0] == 0
    conn.close()
    with Board(path) as board:  # the real step 3 then applies cleanly
        assert board.schema_version == board_schema.LATEST_VERSION


def test_a_path_in_a_missing_directory_is_a_typed_error(tmp_path):
    with pytest.raises(BoardError, match="cannot open board"):
        Board(tmp_path / "no" / "such" / "dir" / "b.sqlite3")

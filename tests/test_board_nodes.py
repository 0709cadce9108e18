"""Node identities and the append-only log of signed node messages with its replay guard."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from nacl.signing import SigningKey, VerifyKey

from mixscope.server.board import (
    Board,
    BoardInputError,
    ConflictError,
    NotFoundError,
    ReplayError,
)
from mixscope.wire.canonical import canonical_json


@pytest.fixture
def board(tmp_path):
    with Board(tmp_path / "board.sqlite3") as board:
        yield board


def signed(key: SigningKey, nonce: str, type_: str, body: dict) -> dict:
    """The arguments of log_signed_message for a message signed as a real node would sign it."""
    message = canonical_json({"nonce": nonce, "type": type_, "body": body}).encode()
    return dict(
        sender_key=key.verify_key.encode().hex(), nonce=nonce, type=type_, body=body,
        signature=key.sign(message).signature.hex(),
    )  # fmt: skip


def test_nodes_are_registered_by_key_and_may_be_renamed_but_not_change_role(board):
    key = SigningKey.generate().verify_key.encode().hex()
    first = board.record_node("mixer-a", "mixer", key)
    again = board.record_node("mixer-a2", "mixer", key.upper())
    assert (again.public_key, again.name, again.first_seen) == (key, "mixer-a2", first.first_seen)
    assert again.last_seen >= first.last_seen
    with pytest.raises(ConflictError, match="registered as a mixer"):
        board.record_node("mixer-a", "trustee", key)
    assert board.node(key).role == "mixer"
    assert board.nodes("trustee") == [] and len(board.nodes()) == 1


@pytest.mark.parametrize(
    "name, role, key",
    [("", "mixer", "ab" * 32), ("n", "admin", "ab" * 32), ("n", "mixer", "ab" * 31), ("n", "mixer", 42)],
)
def test_bad_node_identities_get_typed_errors(board, name, role, key):
    with pytest.raises(BoardInputError):
        board.record_node(name, role, key)
    assert board.nodes() == []


def test_signed_messages_are_logged_in_order_with_their_signatures(board):
    alice, bob = SigningKey.generate(), SigningKey.generate()
    board.record_node("alice", "voter", alice.verify_key.encode().hex())
    board.record_node("bob", "trustee", bob.verify_key.encode().hex())
    m1 = board.log_signed_message(**signed(alice, "n1", "ballot", {"ct": ["aa"]}), election_id="e")
    m2 = board.log_signed_message(**signed(bob, "n1", "share", {"d": "01"}))  # nonces are per sender
    m3 = board.log_signed_message(**signed(alice, "n2", "ballot", {"ct": ["bb"]}))
    assert m1.seq < m2.seq < m3.seq
    log = board.signed_messages()
    assert [(m.type, m.nonce) for m in log] == [("ballot", "n1"), ("share", "n1"), ("ballot", "n2")]
    # what was stored still verifies against the sender's key: the log is evidence, not just a list
    for m in log:
        message = canonical_json({"nonce": m.nonce, "type": m.type, "body": m.body}).encode()
        VerifyKey(bytes.fromhex(m.sender_key)).verify(message, bytes.fromhex(m.signature))
    assert [m.seq for m in board.signed_messages(sender_key=alice.verify_key.encode().hex())] == [m1.seq, m3.seq]
    assert [m.seq for m in board.signed_messages(election_id="e")] == [m1.seq]
    assert [m.seq for m in board.signed_messages(after_seq=m1.seq, limit=1)] == [m2.seq]


def test_a_replayed_nonce_is_refused_even_with_another_body(board):
    key = SigningKey.generate()
    board.record_node("v", "voter", key.verify_key.encode().hex())
    board.log_signed_message(**signed(key, "7", "ballot", {"ct": ["aa"]}))
    with pytest.raises(ReplayError, match="replayed"):
        board.log_signed_message(**signed(key, "7", "ballot", {"ct": ["aa"]}))
    with pytest.raises(ReplayError):
        board.log_signed_message(**signed(key, "7", "ballot", {"ct": ["other"]}))
    with pytest.raises(ReplayError):  # an integer nonce is its decimal text
        board.log_signed_message(**{**signed(key, "x", "ballot", {}), "nonce": 7})
    assert len(board.signed_messages()) == 1


def test_the_replay_guard_holds_across_a_reopen(tmp_path):
    key = SigningKey.generate()
    with Board(tmp_path / "b.sqlite3") as board:
        board.record_node("v", "voter", key.verify_key.encode().hex())
        board.log_signed_message(**signed(key, "once", "hello", {}))
    with Board(tmp_path / "b.sqlite3") as board:
        with pytest.raises(ReplayError):
            board.log_signed_message(**signed(key, "once", "hello", {}))


def test_concurrent_replays_of_one_message_are_accepted_exactly_once(board):
    key = SigningKey.generate()
    board.record_node("v", "voter", key.verify_key.encode().hex())
    message = signed(key, "race", "ballot", {"ct": ["aa"]})
    accepted, replayed = [], []
    start = threading.Barrier(6)

    def send() -> None:
        start.wait()
        try:
            accepted.append(board.log_signed_message(**message))
        except ReplayError:
            replayed.append(1)

    workers = [threading.Thread(target=send) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert (len(accepted), len(replayed)) == (1, 5)


def test_unknown_senders_and_malformed_messages_are_refused(board):
    key = SigningKey.generate()
    with pytest.raises(NotFoundError, match="unknown sender"):
        board.log_signed_message(**signed(key, "n", "hello", {}))
    board.record_node("v", "voter", key.verify_key.encode().hex())
    good = signed(key, "n", "hello", {})
    for bad in (
        {"signature": "ab"},
        {"signature": None},
        {"nonce": ""},
        {"nonce": None},
        {"type": ""},
        {"body": "{bad"},
    ):
        with pytest.raises(BoardInputError):
            board.log_signed_message(**{**good, **bad})
    assert board.signed_messages() == []


def test_the_log_is_append_only_in_the_file_itself(board):
    key = SigningKey.generate()
    board.record_node("v", "voter", key.verify_key.encode().hex())
    board.log_signed_message(**signed(key, "n", "hello", {}))
    conn = board._connection()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE signed_messages SET body_json = '{}'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM signed_messages")

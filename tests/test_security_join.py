"""The join token is a secret: it travels beside a node's signed hello, never inside what is signed or stored.
The board (its SQLite files, WAL included) never holds it, and the hello stored there still verifies."""

from __future__ import annotations

import sys
import time

import nacl.signing
import pytest

from mixscope.wire import signing
from test_election_hub import ScriptedNode


def _board_bytes(server) -> bytes:
    folder = server.board.path.parent  # every file but the tokens' own (kept there, mode 0600, on purpose)
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir())
                    if p.is_file() and p.name not in ("admin_token", "join_token"))


def test_the_join_token_is_not_signed_so_stripping_it_keeps_the_signature_valid():
    key = nacl.signing.SigningKey.generate()
    hello = signing.sign({"type": "hello", "name": "m", "role": "mixer", "join_token": "s3cret"}, key, 7)
    assert hello["join_token"] == "s3cret"  # it still travels
    stored = signing.signed_body(hello) | {"signed": hello["signed"]}
    assert "join_token" not in stored
    assert signing.verify(stored) == signing.public_key_hex(key)
    assert signing.verify({**hello, "join_token": "another"}) == signing.public_key_hex(key)
    forged = {**hello, "name": "m2"}  # every other field is still covered
    try:
        signing.verify(forged)
    except signing.SignatureError as exc:
        assert exc.reason == "bad signature"
    else:
        raise AssertionError("a changed name must break the signature")


def test_the_board_never_contains_the_join_token(server):
    nodes = [ScriptedNode(server.ws_url, f"m{i}", role) for i, role in enumerate(["mixer", "trustee"])]
    try:
        for node in nodes:
            assert node.join(server.join_token)["type"] == "welcome"
        hellos = [m for m in server.board.signed_messages() if m.type == "hello"]
        assert len(hellos) == 2
        for stored in hellos:
            assert "join_token" not in stored.body
            message = {**stored.body, "signed": {"key": stored.sender_key, "seq": int(stored.nonce),
                                                 "sig": stored.signature}}
            assert signing.verify(message) == stored.sender_key  # what the board keeps is checkable by anyone
        assert server.join_token.encode() not in _board_bytes(server)
    finally:
        for node in nodes:
            node.close()


@pytest.mark.slow
def test_a_name_registered_to_another_key_is_refused_and_the_node_exits_saying_why(server, tmp_path, monkeypatch):
    """Names label keys in the record: a second node holding the join token cannot take an honest node's name."""
    from conftest import NodeProcess

    monkeypatch.setenv("MIXSCOPE_JOIN_TOKEN", server.join_token)

    def node(data_dir: str) -> NodeProcess:
        return NodeProcess([sys.executable, "-u", "-m", "mixscope", "node", "--url", server.ws_url, "--name",
                            "mixer-1", "--role", "mixer", "--data-dir", str(tmp_path / data_dir)])

    honest = node("honest")
    try:
        honest.wait_for("welcomed")
        impostor = node("impostor")  # same name, its own key
        try:
            assert impostor.proc.wait(30) == 3
            refused = impostor.wait_for("error", reason="name_taken")
            assert "registered to another key" in refused["detail"]
            deadline = time.monotonic() + 10  # the stderr reader thread drains the last line
            while not impostor.errors and time.monotonic() < deadline:
                time.sleep(0.05)
            assert any("refused 'mixer-1'" in line and "name_taken" in line for line in impostor.errors)
        finally:
            impostor.terminate()
        assert [n.name for n in server.board.nodes("mixer")] == ["mixer-1"]
    finally:
        honest.terminate()

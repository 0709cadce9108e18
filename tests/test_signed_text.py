"""Long signed node messages: checked in the runner's process pool from their text (server/signed_text.py), with
the same refusals as short ones and the same board contents as the in-process path stored."""

from __future__ import annotations

import hashlib
import json
import pickle
import secrets
import sqlite3

import nacl.signing
import pytest

from mixscope.server import board as board_mod
from mixscope.server import signed_text
from mixscope.wire import chunks, protocol, signing
from mixscope.wire.canonical import canonical_json
from test_election_hub import ScriptedNode, _closed_election_with_ballots

LONG_OUTPUTS = 2200  # fake ciphertexts: a mix.response of ~300,000 characters, over signed_text.POOL_ABOVE


def fake_ciphertexts(count: int) -> list[list[str]]:
    return [[secrets.token_hex(32), secrets.token_hex(32)] for _ in range(count)]


def mix_response(election_id: str, stage: int = 0, count: int = LONG_OUTPUTS) -> dict:
    # keys out of order and a non-ASCII string: the stored texts must still be canonical_json's
    proof = {"z": [secrets.token_hex(32) for _ in range(50)], "a": {"y": 1, "b": "façade"}}
    return {"type": "mix.response", "election_id": election_id, "stage": stage, "outputs": fake_ciphertexts(count),
            "proof": proof, "list_hash": ""}


def send_long(node: ScriptedNode, message: dict) -> str:
    text = protocol.encode(message)
    assert len(text) > signed_text.POOL_ABOVE
    for frame in chunks.split(text):
        node.send(frame)
    return text


@pytest.fixture
def joined(server):
    made: list[ScriptedNode] = []

    def make(name: str) -> ScriptedNode:
        node = ScriptedNode(server.ws_url, name)
        made.append(node)
        assert node.join(server.join_token)["type"] == "welcome"
        return node

    yield make
    for node in made:
        node.close()


# --- the board's side ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [board_mod.HASH_SPAN, board_mod.HASH_SPAN + 1, 3 * board_mod.HASH_SPAN + 7])
def test_content_hash_of_a_long_list_is_the_hash_of_its_whole_canonical_text(count):
    items = [{"b": [i, "é"], "a": None} if i % 3 else [secrets.token_hex(4), i] for i in range(count)]
    whole = canonical_json(items).encode("utf-8")
    assert board_mod.content_hash(items) == hashlib.sha256(whole).hexdigest()


def test_the_board_stores_canonical_text_as_it_is(tmp_path):
    with board_mod.Board(tmp_path / "board.sqlite3") as board:
        _closed_election_with_ballots(board, "e1", voters=2)
        board.set_state("e1", "mixing")
        outputs, proof = fake_ciphertexts(3), {"b": 1, "a": [2]}
        as_text = [board_mod.CanonicalJSON(canonical_json(v)) for v in (outputs, proof)]
        stage = board.add_mix_stage("e1", 0, "m", "accepted", input_hash="ab" * 32, output=as_text[0],
                                    proof=as_text[1])
        assert stage.output_hash == board_mod.content_hash(outputs)
        assert [(s.output, s.proof) for s in board.mix_stages("e1")] == [(outputs, proof)]
        # the same content as values again: the same stage (same output hash), not a conflict
        assert board.add_mix_stage("e1", 0, "m", "accepted", input_hash="ab" * 32, output=outputs,
                                   proof=proof).id == stage.id


# --- the pool job, in process -------------------------------------------------------------------------------

def test_check_returns_the_canonical_body_and_fields_of_a_well_signed_message():
    key = nacl.signing.SigningKey.generate()
    message = signing.sign({**mix_response("e1", count=3), "join_token": "secret"}, key, 7)
    checked = signed_text.check(json.dumps(message), signing.public_key_hex(key))
    assert checked.signature_error is None
    body = signing.signed_body(message)
    assert checked.body == canonical_json(body) and "secret" not in checked.body
    fields = {name: checked.body[start:end] for name, (start, end) in checked.spans.items()}
    assert fields == {"outputs": canonical_json(message["outputs"]), "proof": canonical_json(message["proof"])}


def test_check_reports_a_bad_signature_and_checks_nothing_it_cannot():
    key, other = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()
    message = signing.sign(mix_response("e1", count=3), key, 7)
    forged = {**message, "stage": 1}
    assert signed_text.check(json.dumps(forged), signing.public_key_hex(key)) == (
        signing.public_key_hex(key), "bad signature", None, {})
    assert signed_text.check(json.dumps(message), signing.public_key_hex(other)).signature_error == (
        "signed by another key than the one this node joined with")
    assert signed_text.check(json.dumps(message), None) == signed_text.Checked(None)  # sender not joined
    unsigned = {**message, "signed": {"key": signing.public_key_hex(key), "seq": 7}}
    assert signed_text.check(json.dumps(unsigned), signing.public_key_hex(key)) == signed_text.Checked(None)
    with pytest.raises(protocol.ProtocolError) as refused:
        signed_text.check(json.dumps({"type": "mix.response"}), signing.public_key_hex(key))
    assert refused.value.reason == protocol.BAD_SHAPE


def received(message: dict, key: nacl.signing.SigningKey) -> signed_text.Received:
    """The message as the hub hands it on: parsed, with the body and spans the pool job made."""
    checked = signed_text.check(json.dumps(message), signing.public_key_hex(key))
    return signed_text.Received(json.loads(json.dumps(message)), checked.body, checked.spans)


def test_a_received_message_is_passed_on_as_the_canonical_text_it_was_signed_as():
    key = nacl.signing.SigningKey.generate()
    message = signing.sign(mix_response("e1", count=3), key, 7)
    got = received(message, key)
    encoded = got.encoded()
    assert isinstance(encoded, protocol.RawJSON) and encoded == canonical_json(message)
    assert signing.verify(json.loads(encoded)) == signing.public_key_hex(key)
    # in a frame it is the same JSON as the value encoded again
    frame = {"type": "cascade.stage", "election_id": "e1", "response": encoded}
    assert json.loads(protocol.encode(frame)) == {**frame, "response": message}
    outputs = signed_text.with_text(got, "outputs")
    assert isinstance(outputs, signed_text.EncodedList) and outputs == message["outputs"]
    assert outputs.text == canonical_json(message["outputs"])
    request = {"type": "mix.request", "ciphertexts": outputs.text, "list_hash": "ab"}
    assert json.loads(protocol.encode(request)) == {**request, "ciphertexts": message["outputs"]}
    # a join token is never passed on; a message that was not checked from its text has no text to pass on
    assert received(signing.sign({**mix_response("e1", count=3), "join_token": "t"}, key, 8), key).encoded() is None
    assert signed_text.with_text(message, "outputs") is message["outputs"]


def test_a_protocol_error_survives_the_trip_back_from_a_pool_worker():
    error = pickle.loads(pickle.dumps(protocol.ProtocolError(protocol.NOT_JSON, "frame is not JSON")))
    assert (type(error), error.reason, error.detail) == (protocol.ProtocolError, protocol.NOT_JSON, "frame is not JSON")


# --- through a real server ----------------------------------------------------------------------------------

def test_a_long_mix_response_is_stored_as_the_in_process_path_stores_it(server, joined):
    _closed_election_with_ballots(server.board, "e-long")
    node = joined("a-mixer")
    mixing = server.call("election.mix", {"election_id": "e-long"})
    assert node.recv()["type"] == "mix.request"
    reply = node.signed(mix_response("e-long"))
    text = send_long(node, reply)
    with pytest.raises(Exception, match="no honest mixer left"):  # random bytes are no ciphertexts: rejected
        mixing.result(60)
    parsed = json.loads(text)
    stage = server.board.mix_stages("e-long")[0]
    assert stage.status == "rejected" and stage.reason  # 2,200 random outputs for the 6 ballots
    assert (stage.output, stage.proof) == (parsed["outputs"], parsed["proof"])
    assert stage.output_hash == board_mod.content_hash(parsed["outputs"])
    logged = server.board.signed_messages(sender_key=node.public)[-1]
    assert (logged.type, logged.nonce, logged.body) == ("mix.response", str(reply["signed"]["seq"]),
                                                        signing.signed_body(parsed))
    with sqlite3.connect(server.board.path) as db:  # the exact texts, not just equal values
        output_json, proof_json = db.execute("SELECT output_json, proof_json FROM mix_stages").fetchone()
        (body_json,) = db.execute("SELECT body_json FROM signed_messages WHERE type = 'mix.response'").fetchone()
    assert output_json.encode() == canonical_json(parsed["outputs"]).encode()
    assert proof_json.encode() == canonical_json(parsed["proof"]).encode()
    assert body_json.encode() == canonical_json(signing.signed_body(parsed)).encode()


@pytest.mark.slow
def test_long_messages_forged_replayed_unsigned_or_unjoined_are_refused_as_short_ones(server, joined):
    node = joined("a-mixer")
    forged = node.signed(mix_response("e1"))
    forged["outputs"][0] = forged["outputs"][1]
    send_long(node, forged)
    assert node.recv() == {"type": "error", "reason": "bad_signature", "detail": "bad signature",
                           "ref": "mix.response"}
    impostor = nacl.signing.SigningKey.generate()  # a valid signature, by a key this node did not join with
    send_long(node, signing.sign(mix_response("e1"), impostor, 5))
    reply = node.recv()
    assert reply["reason"] == "bad_signature" and "another key" in reply["detail"]
    unsigned = {**mix_response("e1"), "signed": {"key": node.public, "seq": 6}}
    send_long(node, unsigned)
    assert node.recv()["reason"] == "not_signed"
    good = node.signed(mix_response("e1"))
    send_long(node, good)
    send_long(node, good)  # the same message again
    reply = node.recv()
    assert reply["reason"] == "replayed" and reply["ref"] == "mix.response"
    send_long(node, {k: v for k, v in good.items() if k != "election_id"})
    reply = node.recv()
    assert (reply["reason"], reply["ref"]) == (protocol.BAD_SHAPE, "chunk")
    logged = server.board.signed_messages(sender_key=node.public)
    assert [m.type for m in logged] == ["hello", "mix.response"]  # only the good one, once
    assert logged[1].body == signing.signed_body(good)
    silent = ScriptedNode(server.ws_url, "silent")  # no hello at all: no transfer budget
    try:
        send_long(silent, silent.signed(mix_response("e1")))
        assert silent.recv()["reason"] == "bad_chunk"
    finally:
        silent.close()
    stranger = ScriptedNode(server.ws_url, "stranger")  # a plain hello: a small budget, but not a joined node
    try:
        stranger.send({"type": "hello", "name": "stranger", "role": "mixer"})
        assert stranger.recv()["type"] == "welcome"
        send_long(stranger, stranger.signed(mix_response("e1")))
        assert stranger.recv()["reason"] == "not_joined"
    finally:
        stranger.close()

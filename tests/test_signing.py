"""wire/signing.py: signed node messages round-trip; any change, another key or a replay is refused."""

from __future__ import annotations

import copy

import nacl.signing
import pytest

from mixscope.wire import signing
from mixscope.wire.canonical import canonical_json


@pytest.fixture
def key():
    return nacl.signing.SigningKey.generate()


def _message():
    return {"type": "mix.response", "election_id": "e1", "stage": 0, "outputs": [["aa", "bb"]],
            "proof": {"c": "01"}, "list_hash": "00" * 32, "note": "grüße"}


def test_round_trip(key):
    message = _message()
    signed = signing.sign(message, key, 42)
    assert signing.verify(signed) == key.verify_key.encode().hex()
    assert signed["signed"]["seq"] == 42 and "signed" not in message  # the input is not changed
    assert signing.signer(signed) == (signing.public_key_hex(key), 42)


def test_signature_matches_the_documented_bytes(key):
    # docs/protocol.md: sig over domain + canonical JSON of the message with signed = {key, seq}.
    signed = signing.sign(_message(), key, 7)
    body = dict(_message(), signed={"key": signing.public_key_hex(key), "seq": 7})
    data = b"mixscope-node-message/1\x00" + canonical_json(body).encode()
    key.verify_key.verify(data, bytes.fromhex(signed["signed"]["sig"]))
    assert canonical_json({"b": 1, "a": "é"}).encode() == '{"a":"é","b":1}'.encode()


@pytest.mark.parametrize("path,value", [
    (("stage",), 1), (("outputs", 0, 0), "ab"), (("proof", "c"), "02"), (("note",), "grusse"),
    (("signed", "seq"), 43), (("type",), "mix.request"),
])
def test_tampered_field_is_refused(key, path, value):
    signed = signing.sign(_message(), key, 42)
    tampered = copy.deepcopy(signed)
    target = tampered
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(signing.SignatureError, match="bad signature"):
        signing.verify(tampered)


def test_added_field_is_refused(key):
    signed = signing.sign(_message(), key, 1)
    with pytest.raises(signing.SignatureError):
        signing.verify(dict(signed, extra=True))


def test_wrong_key_is_refused(key):
    other = nacl.signing.SigningKey.generate()
    signed = signing.sign(_message(), key, 1)
    signed["signed"]["key"] = signing.public_key_hex(other)
    with pytest.raises(signing.SignatureError, match="bad signature"):
        signing.verify(signed)


@pytest.mark.parametrize("signed", [
    None, "x", {}, {"key": "ab", "seq": 1, "sig": "00" * 64}, {"key": "00" * 32, "seq": -1, "sig": "00" * 64},
    {"key": "00" * 32, "seq": True, "sig": "00" * 64}, {"key": "00" * 32, "seq": 1, "sig": "zz" * 64},
    {"key": "00" * 32, "seq": 1, "sig": "00" * 64, "more": 1}, {"key": "AA" * 32, "seq": 1, "sig": "00" * 64},
])
def test_malformed_signed_field_is_refused(signed):
    message = _message() if signed is None else dict(_message(), signed=signed)
    with pytest.raises(signing.SignatureError):
        signing.verify(message)


def test_invalid_point_as_key_is_a_bad_signature_not_a_crash():
    message = dict(_message(), signed={"key": "ff" * 32, "seq": 1, "sig": "00" * 64})
    with pytest.raises(signing.SignatureError):
        signing.verify(message)


def test_replay_guard_refuses_stale_and_repeated_seq(key):
    guard = signing.ReplayGuard()
    pub = signing.public_key_hex(key)
    guard.check_and_record(pub, 10)
    guard.check_and_record(pub, 11)
    for stale in (11, 5):
        with pytest.raises(signing.SignatureError, match="replayed"):
            guard.check_and_record(pub, stale)
    assert guard.last(pub) == 11
    guard.check_and_record("00" * 32, 1)  # keys are independent


def test_sign_rejects_bad_seq(key):
    with pytest.raises(ValueError):
        signing.sign(_message(), key, -1)


def test_the_signed_text_is_sent_as_the_frame(key):
    import json

    message = _message()
    signed, text = signing.sign_encoded(message, key, 9)
    assert signed == signing.sign(message, key, 9) and "signed" not in message  # Ed25519 is deterministic
    assert text == canonical_json(signed) and json.loads(text) == signed  # one encoding: the canonical one
    assert signing.verify(json.loads(text)) == signing.public_key_hex(key)
    hello = {"type": "hello", "name": "m", "role": "mixer", "join_token": "secret"}
    signed, text = signing.sign_encoded(hello, key, 10)  # the token travels beside the signature
    assert json.loads(text) == signed and signed["join_token"] == "secret"
    assert signing.verify(signed) == signing.public_key_hex(key)
    tricky = dict(message, note={"signed": {"key": signing.public_key_hex(key), "seq": 11}})  # the marker twice
    signed, text = signing.sign_encoded(tricky, key, 11)
    assert json.loads(text) == signed and signing.verify(signed)
    with pytest.raises(ValueError):
        signing.sign_encoded(message, key, -1)

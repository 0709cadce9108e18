"""The pure wire protocol: what it accepts, the typed errors it raises, what it lets into logs."""

import json

import pytest

from mixscope.wire import protocol
from mixscope.wire.protocol import ProtocolError, parse_message


def reason_of(frame, **kw):
    with pytest.raises(ProtocolError) as info:
        parse_message(frame, **kw)
    return info.value.reason


def test_valid_node_messages_parse():
    assert parse_message('{"type": "hello", "name": "m1", "role": "mixer"}')["name"] == "m1"
    assert parse_message('{"type": "roll_call.reply", "request_id": "ab"}')["request_id"] == "ab"


@pytest.mark.parametrize("frame, reason", [
    ("Hello, World", protocol.NOT_JSON),
    ("[1, 2]", protocol.BAD_SHAPE),
    ('{"no_type": 1}', protocol.BAD_SHAPE),
    ('{"type": 5}', protocol.BAD_SHAPE),
    ('{"type": "launch"}', protocol.UNKNOWN_TYPE),
    ('{"type": "hello", "name": "x"}', protocol.BAD_SHAPE),
    ('{"type": "hello", "name": "x", "role": "king"}', protocol.BAD_SHAPE),
    ('{"type": "hello", "name": "", "role": "mixer"}', protocol.BAD_SHAPE),
    ('{"type": "roll_call.reply", "request_id": 7}', protocol.BAD_SHAPE),
    (b"\x00\x01", protocol.BINARY),
])
def test_bad_frames_get_typed_reasons(frame, reason):
    assert reason_of(frame) == reason


def test_size_limit_counts_utf8_bytes():
    # just over the limit only because "é" is two bytes in UTF-8
    frame = json.dumps({"type": "hello", "name": "x", "role": "mixer", "pad": "é" * (protocol.MAX_MESSAGE_BYTES // 2)},
                       ensure_ascii=False)
    assert len(frame) < protocol.MAX_MESSAGE_BYTES < len(frame.encode())
    assert reason_of(frame) == protocol.TOO_BIG
    assert protocol.TRANSPORT_MAX_BYTES > protocol.MAX_MESSAGE_BYTES  # so oversize gets a reply, not a 1009 close


def test_server_types_are_a_separate_vocabulary():
    roll_call = parse_message('{"type": "roll_call", "request_id": "r"}', allowed=protocol.SERVER_TYPES)
    assert roll_call["type"] == "roll_call"
    assert reason_of('{"type": "mix", "request_id": "r"}') == protocol.UNKNOWN_TYPE  # nodes don't send mix


def test_loggable_masks_secret_fields_and_cuts_long_frames():
    text = protocol.loggable('{"type":"hello","join_token":"s3cr3t","Password": "p\\"w","name":"n"}')
    assert "s3cr3t" not in text and 'p\\"w' not in text
    assert '"join_token":"***"' in text and '"name":"n"' in text
    long = protocol.loggable(json.dumps({"type": "x", "pad": "a" * 50_000, "token": "zzz"}))
    assert len(long) < protocol.MAX_LOGGED_CHARS + 40 and "zzz" not in long
    assert protocol.loggable(b"\x00" * 9) == "<9 binary bytes>"


def test_masked_walks_nested_data():
    data = {"replies": {"c1": {"api_token": "t", "ok": [{"secret_key": "k", "n": 1}]}}}
    assert protocol.masked(data) == {"replies": {"c1": {"api_token": "***", "ok": [{"secret_key": "***", "n": 1}]}}}
    assert data["replies"]["c1"]["api_token"] == "t"  # a copy, the original is untouched


@pytest.mark.parametrize("count", [protocol.ENCODE_SPAN, protocol.ENCODE_SPAN + 1, 3 * protocol.ENCODE_SPAN + 7])
def test_encoding_long_lists_span_by_span_gives_the_one_call_text(count):
    message = {"type": "mix.request", "ciphertexts": [[f"{i:064x}", "é\u2028\"\\"] for i in range(count)],
               "proof": {"z": list(range(count)), "a": None}, "stage": 2, "ratio": 0.5}
    assert protocol.encode(message) == json.dumps(message, separators=(",", ":"))

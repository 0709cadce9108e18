"""wire/chunks.py: long texts round-trip through chunk frames; every broken transfer is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixscope.wire import chunks, protocol


def _text(n: int) -> str:
    return json.dumps({"type": "mix.request", "ciphertexts": [["ab" * 32, "cd" * 32]] * n})


def test_small_text_is_sent_as_is():
    assert chunks.split('{"type":"hello"}') == []


def test_round_trip_large_text_every_frame_within_limit():
    text = _text(20_000)  # ~2.7 MB, the size of a 20k ballot list
    frames = chunks.split(text)
    assert len(frames) > 1
    for frame in frames:
        # Each frame, as sent, is at most the limit plus a small envelope, and parses as a chunk.
        encoded = protocol.encode(frame)
        assert len(encoded) <= chunks.CHUNK_BYTES + 300
        assert protocol.parse_message(encoded, protocol.NODE_TYPES)["type"] == "chunk"
    reassembler = chunks.Reassembler()
    results = [reassembler.feed(frame) for frame in frames]
    assert results[:-1] == [None] * (len(frames) - 1)
    assert results[-1] == text
    assert reassembler.open_transfers == 0


def test_escapes_count_against_the_limit():
    text = '"' * 5000 + "é" * 5000  # every character escapes to 2 or 6 bytes in the frame
    frames = chunks.split(text, limit=1000)
    assert all(len(json.dumps(frame["data"])) - 2 <= 1000 for frame in frames)
    reassembler = chunks.Reassembler()
    assert [reassembler.feed(frame) for frame in frames][-1] == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab"\\\x00\x1f\x7f\n é\U0001f600'), max_size=60) | st.text(max_size=60))
def test_the_encoded_size_is_the_escaped_length(text):
    assert chunks._encoded_size(text) == len(json.dumps(text)) - 2


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.integers(16, 64))
def test_fits_is_whether_the_escaped_text_is_within_the_limit(text, limit):
    assert chunks.fits(text, limit) == (len(json.dumps(text)) - 2 <= limit)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.integers(16, 64))
def test_round_trip_any_text(text, limit):
    frames = chunks.split(text, limit=limit)
    if not frames:
        assert len(json.dumps(text)) - 2 <= limit
        return
    reassembler = chunks.Reassembler()
    assert [reassembler.feed(f) for f in frames][-1] == text


def _strip(frame: dict) -> dict:
    return {k: v for k, v in frame.items() if k != "transfer"}


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab"\\\x00\n é\U0001f600'), max_size=400) | st.text(max_size=400),
       st.integers(16, 64))
def test_encoded_frames_are_the_frames_as_protocol_encode_writes_them(text, limit):
    planned = chunks.plan(text, limit)
    for sent in (list(chunks.encoded_frames(text, limit)), list(chunks.encoded_frames(text, limit, planned))):
        if planned is None:
            assert sent == []
            continue
        parsed = [json.loads(frame) for frame in sent]
        assert [_strip(f) for f in parsed] == [_strip(f) for f in chunks.split(text, limit)]
        assert sent == [protocol.encode(f) for f in parsed]  # byte for byte what encoding the frame gives
        assert len({f["transfer"] for f in parsed}) == 1
        assert all(len(json.dumps(f["data"])) - 2 <= limit for f in parsed)
        reassembler = chunks.Reassembler()
        assert [reassembler.feed(f) for f in parsed][-1] == text


def test_encoded_frames_of_a_long_text_escape_each_slice_about_once(monkeypatch):
    text = _text(20_000)
    escaped = []
    real_dumps = json.dumps
    monkeypatch.setattr(chunks.json, "dumps", lambda value, *a, **k: escaped.append(len(value)) or real_dumps(
        value, *a, **k))
    frames = list(chunks.encoded_frames(text))
    sliced = [n for n in escaped if n > 1000]  # fits() escapes nothing this long; each slice escaped here
    assert len(frames) > 1 and len(sliced) <= len(frames) + 2
    assert "".join(json.loads(frame)["data"] for frame in frames) == text


def test_interleaved_transfers_are_kept_apart():
    a, b = _text(3000), _text(2500)
    fa, fb = chunks.split(a, limit=50_000), chunks.split(b, limit=50_000)
    reassembler = chunks.Reassembler()
    done = []
    for i in range(max(len(fa), len(fb))):
        for frames in (fa, fb):
            if i < len(frames) and (out := reassembler.feed(frames[i])) is not None:
                done.append(out)
    assert sorted(done, key=len) == sorted([a, b], key=len)


def _frames():
    return chunks.split(_text(2000), limit=40_000)


def _refused(reassembler, frames, match):
    with pytest.raises(protocol.ProtocolError, match=match) as caught:
        for frame in frames:
            reassembler.feed(frame)
    assert caught.value.reason == chunks.BAD_CHUNK
    assert reassembler.open_transfers == 0  # the broken transfer is abandoned, nothing held


def test_out_of_order_is_refused():
    frames = _frames()
    _refused(chunks.Reassembler(), [frames[0], frames[2]], "expected 1")


def test_repeated_chunk_is_refused():
    frames = _frames()
    _refused(chunks.Reassembler(), [frames[0], frames[1], frames[1]], "expected 2")


def test_not_starting_at_zero_is_refused():
    _refused(chunks.Reassembler(), [_frames()[1]], "starts at chunk 1")


def test_truncated_transfer_fails_the_hash():
    frames = _frames()
    last = dict(frames[-1], data=frames[-1]["data"][:-10])
    _refused(chunks.Reassembler(), frames[:-1] + [last], "sha256")


def test_changed_data_fails_the_hash():
    frames = _frames()
    frames[1] = dict(frames[1], data=frames[1]["data"].replace("ab", "ba", 1))
    _refused(chunks.Reassembler(), frames, "sha256")


def test_changed_hash_or_count_mid_transfer_is_refused():
    frames = _frames()
    _refused(chunks.Reassembler(), [frames[0], dict(frames[1], sha256="0" * 64)], "changed")
    _refused(chunks.Reassembler(), [frames[0], dict(frames[1], count=frames[1]["count"] + 1)], "changed")


def test_missing_last_chunk_stalls_and_expires():
    now = [1000.0]
    reassembler = chunks.Reassembler(stall_seconds=60, clock=lambda: now[0])
    frames = _frames()
    for frame in frames[:-1]:
        assert reassembler.feed(frame) is None
    now[0] += 30
    assert reassembler.expire() == []
    now[0] += 31
    assert reassembler.expire() == [frames[0]["transfer"]]
    assert reassembler.open_transfers == 0
    # The late last chunk cannot complete anything: it is refused as not starting at 0.
    _refused(reassembler, [frames[-1]], "starts at chunk")


def test_oversized_transfer_is_refused():
    frames = chunks.split(_text(3000), limit=10_000)
    _refused(chunks.Reassembler(max_bytes=25_000), frames, "larger than")


def test_too_many_open_transfers_is_refused():
    reassembler = chunks.Reassembler()
    for _ in range(chunks.MAX_OPEN_TRANSFERS):
        reassembler.feed(chunks.split(_text(100), limit=1000)[0])
    with pytest.raises(protocol.ProtocolError, match="transfers open"):
        reassembler.feed(chunks.split(_text(100), limit=1000)[0])


@pytest.mark.parametrize("bad", [
    {"index": -1}, {"index": 5, "count": 5}, {"index": "0"}, {"count": True}, {"sha256": "XYZ"},
    {"sha256": "ab"}, {"data": 7}, {"transfer": ""}, {"transfer": 3}, {"transfer": "x" * 65},
])
def test_malformed_chunk_frames_are_refused(bad):
    frame = dict(_frames()[0], **bad)
    with pytest.raises(protocol.ProtocolError) as caught:
        chunks.Reassembler().feed(frame)
    assert caught.value.reason == chunks.BAD_CHUNK


def test_reassembled_text_larger_than_a_frame_parses_with_the_chunk_limit():
    text = protocol.encode({"type": "decrypt.request", "election_id": "e", "ciphertexts": [["ab" * 32] * 2] * 9000,
                            "list_hash": "0" * 64, "cascade": {}})
    assert len(text) > protocol.MAX_MESSAGE_BYTES
    with pytest.raises(protocol.ProtocolError, match="over"):
        protocol.parse_message(text, protocol.SERVER_TYPES)
    reassembler = chunks.Reassembler()
    whole = [reassembler.feed(f) for f in chunks.split(text)][-1]
    message = protocol.parse_message(whole, protocol.SERVER_TYPES, max_bytes=chunks.MAX_TRANSFER_BYTES)
    assert len(message["ciphertexts"]) == 9000


def test_a_plan_made_once_gives_the_same_frames_for_every_recipient():
    message = {"type": "mix.request", "ciphertexts": [["\"q\\" * 40, "é" * 300]] * 2000}
    text, planned = chunks.prepare(message)
    assert text == protocol.encode(message) and planned is not None and planned == chunks.plan(text)
    strip = lambda frames: [{k: v for k, v in f.items() if k != "transfer"} for f in frames]  # noqa: E731
    from_plan = lambda: map(json.loads, chunks.encoded_frames(text, planned=planned))  # noqa: E731
    assert strip(from_plan()) == strip(chunks.split(text))
    for _recipient in range(2):  # each recipient reassembles the whole text from the shared plan
        joined = None
        reassembler = chunks.Reassembler()
        for frame in from_plan():
            joined = reassembler.feed(frame)
        assert joined == text
    assert chunks.prepare({"type": "ping"})[1] is None and chunks.plan("short") is None
    # two recipients streamed side by side: each frame's slice escaped once, and only the last few kept
    streams = [chunks.encoded_frames(text, planned=planned) for _ in range(2)]
    sent = [[json.loads(frame) for frame in pair] for pair in zip(*streams)]
    assert [strip(pair) for pair in sent] == [[f, f] for f in strip(chunks.split(text))]
    assert len(planned._escaped) <= chunks.KEPT_SLICES < len(sent)

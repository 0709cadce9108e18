"""Fuzzing the websocket protocol (hypothesis) against one real server: random and mutated frames, wrong
types, huge lists, unsigned, wrongly signed and replayed node messages. Every bad frame gets an `error`
reply with the reason the protocol gives it, nothing reaches the board, no error-level log event appears,
and a good client is still served afterwards.

MIXSCOPE_FUZZ_EXAMPLES sets the examples per test (default 300: about 8 s for this file); e.g. 5000 for a long run.
"""

from __future__ import annotations

import json
import os
import time

import nacl.signing
import pytest
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixscope.server.runner import ServerRunner
from mixscope.wire import chunks, protocol, signing
from test_election_hub import ScriptedNode

EXAMPLES = int(os.environ.get("MIXSCOPE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TRIED = {"frames": 0, "signed": 0}

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                                 st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=5)), max_leaves=20)
known_types = st.sampled_from(sorted(set(protocol.NODE_TYPES) | set(protocol.SERVER_TYPES) | {"", "HELLO"}))


@st.composite
def shaped_messages(draw):
    """A dict with a real type and fields of random (often wrong) types: the validator's hard cases."""
    kind = draw(known_types)
    fields = protocol.NODE_TYPES.get(kind, {})
    message = {"type": kind}
    for name in fields:
        if draw(st.booleans()):
            message[name] = draw(json_values)
    message.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3)))
    return message


frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=100),
    json_values.map(json.dumps),
    shaped_messages().map(json.dumps),
    st.builds(lambda n: json.dumps({"type": "hello", "name": "x", "role": "mixer", "pad": [0] * n}),
              st.integers(0, 300_000)),  # huge lists, past the 1 MiB frame limit at the top
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    runner = ServerRunner(port=0, ping_interval=5.0, data_dir=str(tmp_path_factory.mktemp("fuzz-ws")))
    runner.start()
    logs = runner.channel.subscribe(kinds=["log"])
    try:
        yield runner
        errors = [e.data for e in logs.drain() if e.data["level"] == "error"]
        assert errors == [], errors  # no error-level event caused by any bad input
    finally:
        runner.stop()


def _board_counts(server) -> tuple[int, int, int]:
    board = server.board
    return len(board.signed_messages(limit=100_000)), len(board.nodes()), len(board.list_elections())


class Exchange:
    """Sends one frame, then a sentinel with a unique unknown type; the replies before the sentinel's
    error belong to the frame (the server handles one connection's frames in order)."""

    def __init__(self, ws: websocket.WebSocket):
        self.ws, self.n = ws, 0

    def send(self, frame: str | bytes) -> list[dict]:
        self.n += 1
        sentinel = f"zz-sentinel-{self.n}"
        if isinstance(frame, bytes):
            self.ws.send_binary(frame)
        else:
            self.ws.send(frame)
        self.ws.send(json.dumps({"type": sentinel}))
        replies = []
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("type") == "error" and sentinel in reply.get("detail", ""):
                return replies
            replies.append(reply)


def _predicted(frame: str | bytes) -> str | dict:
    try:
        return protocol.parse_message(frame)
    except protocol.ProtocolError as exc:
        return exc.reason


@pytest.fixture(scope="module")
def raw(fuzz_server):
    ws = websocket.create_connection(fuzz_server.ws_url, timeout=20)
    yield Exchange(ws)
    ws.close()


@pytest.mark.slow
@FUZZ
@given(frame=frames)
def test_random_frames_get_the_error_the_protocol_names_and_change_nothing(fuzz_server, raw, frame):
    TRIED["frames"] += 1
    expected = _predicted(frame)
    if isinstance(expected, dict) and (expected["type"] in protocol.SIGNED_NODE_TYPES or expected["type"] == "hello"):
        return  # a well-formed message: covered by the signed-message fuzz below
    before = _board_counts(fuzz_server)
    replies = raw.send(frame)
    if isinstance(expected, str):
        assert len(replies) == 1 and replies[0]["type"] == "error" and replies[0]["reason"] == expected, replies
        assert replies[0]["detail"]  # a clear reason, not just a code
    else:  # mixed / error / chunk: well formed; a chunk may be refused (bad_chunk) or wait for more
        assert all(r["type"] == "error" and r["reason"] in (chunks.BAD_CHUNK, protocol.BAD_SHAPE) for r in replies)
    assert _board_counts(fuzz_server) == before


@pytest.fixture(scope="module")
def member(fuzz_server):
    node = ScriptedNode(fuzz_server.ws_url, "fuzz-member")
    assert node.join(fuzz_server.join_token)["type"] == "welcome"
    node.ws.settimeout(5)  # a refusal comes in milliseconds; no reply within 5 s fails the example
    yield node
    node.close()


def _progress(election_id: str = "e-fuzz") -> dict:
    return {"type": "progress", "election_id": election_id, "task": "mix", "phase": "prove", "done": 1, "total": 2}


STRANGER = nacl.signing.SigningKey.generate()
mutations = st.sampled_from(["field_changed", "sig_flipped", "sig_random", "other_key", "unsigned", "seq_text",
                             "signed_extra", "key_swapped", "replayed", "field_dropped", "field_wrong_type"])


def _mutate(member: ScriptedNode, base: dict, how: str, data) -> tuple[dict, set[str]]:
    """A broken version of a validly signed message, and the refusal reasons that fit it."""
    good = member.signed(base)
    if how == "field_changed":
        field = data.draw(st.sampled_from([k for k in base if k != "type"]))
        return {**good, field: data.draw(json_values.filter(lambda v, old=base[field]: v != old))}, \
            {"bad_signature", protocol.BAD_SHAPE}
    if how == "sig_flipped":
        sig = good["signed"]["sig"]
        i = data.draw(st.integers(0, len(sig) - 1))
        flipped = sig[:i] + ("0" if sig[i] != "0" else "1") + sig[i + 1:]
        return {**good, "signed": {**good["signed"], "sig": flipped}}, {"bad_signature"}
    if how == "sig_random":
        return {**good, "signed": {**good["signed"], "sig": data.draw(st.text("0123456789abcdef", min_size=128,
                                                                          max_size=128))}}, {"bad_signature"}
    if how == "other_key":
        return signing.sign(base, STRANGER, time.time_ns()), {"bad_signature"}
    if how == "unsigned":
        return {**good, "signed": {"key": member.public, "seq": good["signed"]["seq"]}}, {"not_signed"}
    if how == "seq_text":
        return {**good, "signed": {**good["signed"], "seq": str(good["signed"]["seq"])}}, {
            "not_signed",
            "bad_signature",
        }
    if how == "signed_extra":
        return {**good, "signed": {**good["signed"], "x": 1}}, {"not_signed", "bad_signature"}
    if how == "key_swapped":
        return {**good, "signed": {**good["signed"], "key": signing.public_key_hex(STRANGER)}}, {"bad_signature"}
    if how == "replayed":
        return member.last_accepted, {"replayed"}
    if how == "field_dropped":
        field = data.draw(st.sampled_from([k for k in base if k != "type"]))
        # a field mix.response's routing does not need (the cascade judges the rest): the signature breaks
        return {k: v for k, v in good.items() if k != field}, {protocol.BAD_SHAPE, "bad_signature"}
    field = data.draw(st.sampled_from([k for k in base if k != "type"]))
    wrong = data.draw(st.one_of(st.none(), st.lists(st.integers(), max_size=3), st.dictionaries(
        st.text(max_size=3), st.integers())).filter(lambda v, old=base[field]: v != old))
    return {**good, field: wrong}, {protocol.BAD_SHAPE, "bad_signature"}  # a list for a list field: signature


@pytest.mark.slow
@FUZZ
@given(how=mutations, data=st.data())
def test_unsigned_forged_and_replayed_node_messages_are_refused_and_never_stored(fuzz_server, member, how, data):
    TRIED["signed"] += 1
    if not hasattr(member, "last_accepted"):
        member.last_accepted = member.signed(_progress())
        member.send(member.last_accepted)
        deadline = time.monotonic() + 10
        while len(fuzz_server.board.signed_messages(sender_key=member.public)) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    base = data.draw(st.sampled_from([
        _progress(),
        {"type": "mix.response", "election_id": "e-fuzz", "stage": 0, "outputs": [["00" * 32, "00" * 32]],
         "proof": {}, "list_hash": ""},
        {"type": "decrypt.response", "election_id": "e-fuzz", "index": 1, "partials": [], "proof": {}},
    ]))
    message, reasons = _mutate(member, base, how, data)
    before = _board_counts(fuzz_server)
    member.send(message)
    reply = member.recv()  # every refusal is answered, even the asynchronous signature checks
    assert reply["type"] == "error" and reply["reason"] in reasons, (how, reply)
    assert reply.get("ref") in (message.get("type"), None) and reply["detail"]
    assert _board_counts(fuzz_server) == before


@pytest.mark.slow
def test_the_server_still_serves_a_good_client_afterwards(fuzz_server):
    ws = websocket.create_connection(fuzz_server.ws_url, timeout=10)
    ws.send(json.dumps({"type": "hello", "name": "after-fuzz", "role": "observer"}))
    assert json.loads(ws.recv())["type"] == "welcome"
    ws.close()
    newcomer = ScriptedNode(fuzz_server.ws_url, "after-fuzz-mixer")
    assert newcomer.join(fuzz_server.join_token)["type"] == "welcome"
    newcomer.close()
    print(f"\nwebsocket fuzz: {TRIED['frames']} random frames, {TRIED['signed']} mutated signed messages")
    assert TRIED["frames"] >= EXAMPLES // 2 and TRIED["signed"] >= EXAMPLES // 2

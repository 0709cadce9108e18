"""Faults in the middle of a mix cascade, with real `mixscope node` mixer processes (and a scripted one for
broken chunks): SIGKILL, SIGSTOP (a silent host: only the pings notice), a forced disconnect followed by the
node's reconnect, and a reply sent as truncated or out-of-order chunks. Each time the fault is detected
within a bounded time, the stage is recorded rejected with its reason or the node's second try accepted,
nothing broken reaches the board, and the cascade completes with the others.

Already covered elsewhere (docs/reliability.md): kill -9 of the server during voting and mixing
(test_election_recovery.py), a trustee killed before decryption (test_election_e2e.py), a SIGSTOPped
idle node dropped and rejoining (test_client_node.py)."""

from __future__ import annotations

import signal
import sys
import threading
import time

import pytest

from conftest import NodeProcess
from mixscope.mixnet.stages import list_hash
from mixscope.wire import chunks, protocol
from test_election_hub import ScriptedNode, _answer_mixes, _closed_election_with_ballots

pytestmark = pytest.mark.slow  # whole elections and real node processes: `-m "not slow"` skips them

BALLOTS = 300  # enough that a stage lasts a few hundred ms on a real node
DETECT_BOUND = 3.0  # seconds: ping interval 0.5 + timeout 0.5 of the test server, plus scheduling slack


@pytest.fixture
def mixers(server, tmp_path):
    started: list[NodeProcess] = []

    def start(*names: str) -> list[NodeProcess]:
        for name in names:
            node = NodeProcess([sys.executable, "-u", "-m", "mixscope", "node", "--url", server.ws_url, "--name", name,
                                "--role", "mixer", "--data-dir", str(tmp_path / "nodes"), "--join-token",
                                server.join_token])
            started.append(node)
        for node in started[-len(names):]:
            node.wait_for("welcomed", timeout=30)
        return started[-len(names):]

    yield start
    for node in started:
        if node.proc.poll() is None:
            node.proc.send_signal(signal.SIGCONT)
        node.terminate()
        for stream in (node.proc.stdout, node.proc.stderr):
            stream.close()


def _cascade_with_a_fault(server, election_id: str, victim: str, fault) -> tuple[dict, float, list]:
    """Run the cascade; when `victim` reports progress on its stage, call `fault()`. Returns the cascade's
    result, the seconds from the fault to the victim's stage being rejected, and the stage events."""
    events = server.channel.subscribe(kinds=["election.progress", "election.stage"])
    mixing = server.call("election.mix", {"election_id": election_id})
    working = events.wait_for(lambda e: e.kind == "election.progress" and e.data["node"] == victim, timeout=60)
    assert working is not None, "the victim never started its stage"
    faulted = time.monotonic()
    fault()
    rejected = events.wait_for(lambda e: e.kind == "election.stage" and e.data["mixer"] == victim
                               and e.data["status"] == "rejected", timeout=60)
    detected = time.monotonic() - faulted
    assert rejected is not None, "the fault was never detected"
    result = mixing.result(120)
    print(f"\n{victim}: stage rejected {detected:.2f} s after the fault ({rejected.data['reason']})")
    return result, detected, rejected


def _assert_completed_without(server, election_id: str, victim: str, result: dict) -> None:
    stages = server.board.mix_stages(election_id)
    assert result["stages"] == 3 and result["accepted"] == 2
    assert [(s.mixer, s.status) for s in stages][0] == (victim, "rejected")
    assert [s.status for s in stages[1:]] == ["accepted", "accepted"]
    assert stages[2].input_hash != stages[1].input_hash
    assert server.board.get_election(election_id).state == "decrypting"


def test_a_mixer_killed_mid_stage_is_detected_excluded_and_the_cascade_completes(server, mixers):
    _closed_election_with_ballots(server.board, "e-kill9", voters=BALLOTS)
    victim, *_ = mixers("a-victim", "b-mixer", "c-mixer")
    result, detected, rejected = _cascade_with_a_fault(server, "e-kill9", "a-victim",
                                                       lambda: victim.proc.send_signal(signal.SIGKILL))
    assert detected < DETECT_BOUND and "disconnected" in rejected.data["reason"]
    _assert_completed_without(server, "e-kill9", "a-victim", result)


def test_a_frozen_mixer_is_dropped_by_the_pings_and_rejoins_after_the_cascade(server, mixers):
    _closed_election_with_ballots(server.board, "e-stop", voters=BALLOTS)
    victim, *_ = mixers("a-frozen", "b-mixer", "c-mixer")
    result, detected, rejected = _cascade_with_a_fault(server, "e-stop", "a-frozen",
                                                       lambda: victim.proc.send_signal(signal.SIGSTOP))
    # No FIN, no RST: only the server's ping timeout can tell (interval 0.5 s + timeout 0.5 s here).
    assert detected < DETECT_BOUND and "disconnected" in rejected.data["reason"]
    _assert_completed_without(server, "e-stop", "a-frozen", result)
    victim.proc.send_signal(signal.SIGCONT)
    victim.wait_for("welcomed", timeout=30)  # back, as the same signed identity
    assert sorted(n.name for n in server.board.nodes("mixer")) == ["a-frozen", "b-mixer", "c-mixer"]


def test_a_mixer_disconnected_mid_stage_reconnects_and_the_cascade_completes(server, mixers):
    _closed_election_with_ballots(server.board, "e-recon", voters=BALLOTS)
    victim, *_ = mixers("a-bounce", "b-mixer", "c-mixer")
    client_id = next(c["id"] for c in server.call("clients", {}).result(10)["clients"] if c.get("name") == "a-bounce")
    result, detected, rejected = _cascade_with_a_fault(
        server, "e-recon", "a-bounce", lambda: server.call("disconnect", {"client_id": client_id}).result(10))
    assert detected < DETECT_BOUND and "disconnected" in rejected.data["reason"]
    _assert_completed_without(server, "e-recon", "a-bounce", result)
    victim.wait_for("welcomed", timeout=30)  # its back-off brought it back
    names = [c.get("name") for c in server.call("clients", {}).result(10)["clients"]]
    assert names.count("a-bounce") == 1
    assert sorted(n.name for n in server.board.nodes("mixer")) == ["a-bounce", "b-mixer", "c-mixer"]


def test_a_reply_in_truncated_or_out_of_order_chunks_is_refused_then_the_good_one_accepted(server):
    _closed_election_with_ballots(server.board, "e-chunk", voters=6)
    sloppy = ScriptedNode(server.ws_url, "a-sloppy")
    honest = [ScriptedNode(server.ws_url, name) for name in ("b-honest", "c-honest")]
    stop = threading.Event()
    try:
        for node in (sloppy, *honest):
            assert node.join(server.join_token)["type"] == "welcome"
        for node in honest:
            threading.Thread(target=_answer_mixes, args=(node, stop), daemon=True).start()
        mixing = server.call("election.mix", {"election_id": "e-chunk"})
        request = _read_request(sloppy)
        reply = _mix_reply(sloppy, request)
        text = protocol.encode(reply)

        out_of_order = chunks.split(text, limit=2000)
        assert len(out_of_order) >= 3
        for frame in (out_of_order[1], out_of_order[0]):
            sloppy.send(frame)
        refused = sloppy.recv()
        assert refused["reason"] == chunks.BAD_CHUNK and refused["ref"] == "chunk"

        truncated = chunks.split(text, limit=2000)
        truncated[-1] = {**truncated[-1], "data": truncated[-1]["data"][:-5]}  # the tail lost on the way
        for frame in truncated:
            sloppy.send(frame)
        refused = sloppy.recv()
        assert refused["reason"] == chunks.BAD_CHUNK and "sha256" in refused["detail"].lower()

        assert [m.type for m in server.board.signed_messages(sender_key=sloppy.public)] == ["hello"]  # nothing
        assert server.board.mix_stages("e-chunk") == []  # the stage still waits for a real answer
        for frame in chunks.split(text, limit=2000):  # now whole and in order
            sloppy.send(frame)
        result = mixing.result(60)
        assert result["accepted"] == 3
        assert [(s.mixer, s.status) for s in server.board.mix_stages("e-chunk")] == [
            ("a-sloppy", "accepted"), ("b-honest", "accepted"), ("c-honest", "accepted")]
    finally:
        stop.set()
        for node in (sloppy, *honest):
            node.close()


def _read_request(node: ScriptedNode) -> dict:
    joiner = chunks.Reassembler()
    while True:
        message = node.recv()
        if message["type"] == "chunk":
            text = joiner.feed(message)
            if text is None:
                continue
            message = protocol.parse_message(text, allowed=protocol.SERVER_TYPES,
                                             max_bytes=chunks.MAX_TRANSFER_BYTES)
        if message["type"] == "mix.request":
            return message


def _mix_reply(node: ScriptedNode, message: dict) -> dict:
    from mixscope.mixnet import elgamal, shuffle

    inputs = [elgamal.Ciphertext.from_json(ct) for ct in message["ciphertexts"]]
    outputs, proof = shuffle.shuffle_and_prove(bytes.fromhex(message["public_key"]), inputs,
                                               bytes.fromhex(message["context"]))
    return node.signed({"type": "mix.response", "election_id": message["election_id"], "stage": message["stage"],
                        "input_hash": message["list_hash"], "outputs": [o.to_json() for o in outputs],
                        "proof": proof.to_json(), "list_hash": list_hash(outputs)})

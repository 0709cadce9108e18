"""The hub's door for election nodes, against a real server and real websocket clients: join token, signed
hello, signatures and the replay guard on every signed message, chunked transfers, and a mixer that
disconnects mid-stage being excluded while the cascade completes with the others."""

from __future__ import annotations

import json
import threading
import time

import nacl.signing
import pytest
import websocket

from mixscope.mixnet import credentials
from mixscope.mixnet.stages import list_hash
from mixscope.wire import chunks, protocol, signing

LISTED = [c.voter_id for c in credentials.generate(3)]  # public credentials for the elections created here


class ScriptedNode:
    """A websocket client speaking the node protocol by hand, so a test can misbehave on purpose."""

    def __init__(self, url: str, name: str, role: str = "mixer"):
        self.ws = websocket.create_connection(url, timeout=10)
        self.name, self.role = name, role
        self.key = nacl.signing.SigningKey.generate()
        self.public = signing.public_key_hex(self.key)

    def signed(self, message: dict, seq: int | None = None) -> dict:
        return signing.sign(message, self.key, time.time_ns() if seq is None else seq)

    def send(self, message: dict) -> None:
        self.ws.send(protocol.encode(message))

    def recv(self) -> dict:
        return json.loads(self.ws.recv())

    def join(self, token: str) -> dict:
        self.send(self.signed({"type": "hello", "name": self.name, "role": self.role, "public_key": self.public,
                               "join_token": token}))
        return self.recv()

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


@pytest.fixture
def scripted(server):
    made: list[ScriptedNode] = []

    def make(name: str, role: str = "mixer") -> ScriptedNode:
        node = ScriptedNode(server.ws_url, name, role)
        made.append(node)
        return node

    yield make
    for node in made:
        node.close()


def progress(election_id: str = "e1") -> dict:
    return {"type": "progress", "election_id": election_id, "task": "mix", "phase": "prove", "done": 1, "total": 2}


def test_join_needs_the_token_and_a_matching_signature(server, scripted):
    assert scripted("m1").join("wrong-token") == {"type": "error", "reason": "bad_join",
                                                  "detail": "wrong or missing join token", "ref": "hello"}
    impostor = scripted("m2")
    hello = impostor.signed({"type": "hello", "name": "m2", "role": "mixer",
                             "public_key": "ab" * 32, "join_token": server.join_token})
    impostor.send(hello)
    assert impostor.recv()["reason"] == "bad_signature"
    good = scripted("m3")
    assert good.join(server.join_token)["type"] == "welcome"
    assert [n.name for n in server.board.nodes("mixer")] == ["m3"]  # only the proven node is recorded


def test_signed_messages_unsigned_forged_replayed_are_refused_and_not_stored(server, scripted):
    events = server.channel.subscribe(kinds=["election.progress"])
    node = scripted("m1")
    assert node.join(server.join_token)["type"] == "welcome"
    node.send(progress())  # no "signed" at all: the protocol itself refuses the shape
    assert node.recv()["reason"] == protocol.BAD_SHAPE
    node.send({**progress(), "signed": {"key": node.public, "seq": 1}})
    assert node.recv()["reason"] == "not_signed"
    forged = node.signed(progress())
    forged["done"] = 2  # changed after signing
    node.send(forged)
    assert node.recv()["reason"] == "bad_signature"
    good = node.signed(progress(), seq=42)
    node.send(good)
    event = events.wait_for(lambda e: True, timeout=5)
    assert event.data == {"election_id": "e1", "task": "mix", "stage": None, "node": "m1", "phase": "prove",
                          "done": 1, "total": 2}
    node.send(good)  # the same message again
    reply = node.recv()
    assert reply["reason"] == "replayed" and reply["ref"] == "progress"
    logged = server.board.signed_messages(sender_key=node.public)
    assert [m.type for m in logged] == ["hello", "progress"]  # one progress: the replay was not stored


def test_signed_message_before_joining_is_refused(server, scripted):
    node = scripted("m1")
    node.send(node.signed(progress()))
    assert node.recv()["reason"] == "not_joined"


def test_a_message_in_chunks_is_reassembled_and_a_broken_transfer_refused(server, scripted):
    events = server.channel.subscribe(kinds=["election.progress"])
    node = scripted("m1")
    assert node.join(server.join_token)["type"] == "welcome"
    text = protocol.encode(node.signed({**progress(), "padding": "x" * 3000}))
    frames = chunks.split(text, limit=1000)
    assert len(frames) >= 3
    for frame in frames:
        node.send(frame)
    assert events.wait_for(lambda e: e.data["node"] == "m1", timeout=5) is not None
    broken = chunks.split(text, limit=1000)
    node.send(broken[0])
    node.send(broken[2])  # chunk 1 skipped
    reply = node.recv()
    assert reply["reason"] == chunks.BAD_CHUNK and "expected 1" in reply["detail"]


def _answer_mixes(node: ScriptedNode, stop: threading.Event, seen: list | None = None, swap: bool = False,
                  garble: bool = False, echo: bool = False) -> None:
    """An honest mixer in a thread: shuffles and proves whatever mix.request arrives (chunks joined), noting each
    request in `seen`; swap=True exchanges two outputs after proving (a stage the proof check rejects);
    garble=True answers with as many outputs as inputs that are no ciphertexts at all; echo=True with its inputs."""
    from mixscope.mixnet import elgamal, shuffle

    joiner = chunks.Reassembler()
    node.ws.settimeout(0.2)
    while not stop.is_set():
        try:
            message = node.recv()
        except websocket.WebSocketTimeoutException:
            continue
        except Exception:
            return
        if message["type"] == "chunk":
            text = joiner.feed(message)
            if text is None:
                continue
            message = json.loads(text)
        if message["type"] != "mix.request":
            continue
        if seen is not None:
            seen.append(message)
        inputs = [elgamal.Ciphertext.from_json(ct) for ct in message["ciphertexts"]]
        outputs, proof = shuffle.shuffle_and_prove(bytes.fromhex(message["public_key"]), inputs,
                                                   bytes.fromhex(message["context"]))
        if swap:
            outputs[0], outputs[1] = outputs[1], outputs[0]
        if echo:
            outputs = inputs
        listed = [["zz", 7] for _ in outputs] if garble else [o.to_json() for o in outputs]
        reply = node.signed({"type": "mix.response", "election_id": message["election_id"], "stage": message["stage"],
                             "input_hash": message["list_hash"], "outputs": listed,
                             "proof": proof.to_json(), "list_hash": list_hash(outputs)})
        for frame in chunks.split(protocol.encode(reply)) or [reply]:
            node.send(frame)


def _closed_election_with_ballots(board, election_id: str, voters: int = 6) -> None:
    from mixscope.mixnet import ballots, proofs
    from mixscope.mixnet import trustees as dkg

    board.create_election(election_id, "Q?", ["a", "b"], 1, 1, 3)
    board.set_state(election_id, "key_ceremony")
    _, dealings, public_key = dkg.run_key_generation(1, 1, proofs.election_context(election_id),
                                                          dkg.labels_digest("Q?", ["a", "b"]))
    board.add_trustee_message(election_id, "t1", "dealing", dealings[0].to_json())
    board.set_public_key(election_id, public_key.hex())
    board.set_state(election_id, "voting")
    for i in range(voters):
        voter = f"v{i}"
        board.add_ballot(election_id, voter, ballots.cast(public_key, election_id, voter, 2, i % 2).to_json())
    board.set_state(election_id, "closed")


@pytest.mark.slow
def test_mixer_disconnecting_mid_stage_is_excluded_and_the_cascade_completes(server, scripted):
    _closed_election_with_ballots(server.board, "e-drop")
    quitter = scripted("a-quitter")  # sorted first: gets stage 0
    honest = [scripted("b-honest"), scripted("c-honest")]
    for node in (quitter, *honest):
        assert node.join(server.join_token)["type"] == "welcome"
    stop = threading.Event()
    threads = [threading.Thread(target=_answer_mixes, args=(n, stop), daemon=True) for n in honest]
    for t in threads:
        t.start()
    stages = server.channel.subscribe(kinds=["election.stage"])
    mixing = server.call("election.mix", {"election_id": "e-drop"})
    assert quitter.recv()["type"] == "mix.request"
    quitter.close()  # gone mid-stage
    result = mixing.result(60)
    stop.set()
    assert result["accepted"] == 2 and result["stages"] == 3
    recorded = server.board.mix_stages("e-drop")
    assert [(s.mixer, s.status) for s in recorded] == [
        ("a-quitter", "rejected"), ("b-honest", "accepted"), ("c-honest", "accepted")]
    assert "disconnected" in recorded[0].reason and recorded[0].rejected_as == "no_answer"
    assert recorded[0].response() is None  # nothing signed arrived: nothing to publish as evidence
    assert server.board.get_election("e-drop").state == "decrypting"
    import urllib.request
    for page in ("board", "results"):
        with urllib.request.urlopen(f"{server.url}/elections/e-drop/{page}", timeout=10) as reply:
            assert "no_answer" in reply.read().decode(), page
    seen = [(e.data["mixer"], e.data["status"]) for e in stages.drain()]
    assert ("a-quitter", "rejected") in seen and ("c-honest", "accepted") in seen


def test_election_actions_refuse_wrong_states_with_reasons(server):
    with pytest.raises(Exception, match="no election yet"):
        server.call("election.mix", {}).result(10)
    with pytest.raises(Exception, match="needs 'credentials'"):
        server.call("election.create", {"question": "Q?", "candidates": ["a", "b"]}).result(10)
    with pytest.raises(Exception, match="credential 1: a public credential must be a valid Ed25519 public key"):
        server.call("election.create", {"candidates": ["a", "b"], "credentials": [LISTED[0], "00" * 32]}).result(10)
    created = server.call("election.create", {"question": "Q?", "candidates": ["a", "b"], "threshold": 2,
                                               "trustees": 2, "mixers": 1, "credentials": LISTED}).result(10)
    assert created["credentials"] == len(LISTED)
    assert server.board.credentials(created["election_id"]) == frozenset(LISTED)
    with pytest.raises(Exception, match="only a closed election can be mixed"):
        server.call("election.mix", {}).result(10)
    with pytest.raises(Exception, match="needs 2 connected trustees, 0 connected"):
        server.call("election.keygen", created).result(10)
    for names, says in ((["a", "a"], "distinct"), (["a", " "], "non-empty"), (["", "b"], "non-empty")):
        with pytest.raises(Exception, match=says):
            server.call("election.create", {"candidates": names}).result(10)
    with pytest.raises(Exception, match="threshold 3 exceeds"):
        server.call("election.create", {"candidates": ["a", "b"], "threshold": 3, "trustees": 2,
                                        "credentials": LISTED}).result(10)
    status = server.call("election.current", {}).result(10)
    assert status["election"]["state"] == "created" and status["ballots"] == 0


def test_a_restarted_server_reports_unfinished_elections_and_what_resumes_them(tmp_path):
    from mixscope.server.board import Board
    from mixscope.server.runner import ServerRunner

    with Board(data_dir=tmp_path) as board:
        _closed_election_with_ballots(board, "e-left")
        board.set_state("e-left", "mixing")
    runner = ServerRunner(port=0, data_dir=str(tmp_path))
    logs = runner.channel.subscribe(kinds=["log", "election.state"])
    runner.start()
    try:
        note = logs.wait_for(lambda e: e.kind == "log" and "e-left" in e.data["text"], timeout=10)
        assert note is not None and "was mixing (0 accepted mix stages): election.mix resumes it" in note.data["text"]
        assert runner.call("election.current", {}).result(10)["election"]["state"] == "mixing"
    finally:
        runner.stop()


def test_mixing_with_no_mixer_connected_waits_instead_of_failing(server):
    _closed_election_with_ballots(server.board, "e-wait")
    with pytest.raises(Exception, match="no mixer connected"):
        server.call("election.mix", {"election_id": "e-wait"}).result(10)
    assert server.board.get_election("e-wait").state == "mixing"  # not failed: a mixer may still come
    assert server.board.mix_stages("e-wait") == []


def test_a_mixer_answering_with_an_error_is_rejected_at_once_and_the_cascade_goes_on(server, scripted):
    _closed_election_with_ballots(server.board, "e-err")
    refuser, honest = scripted("a-refuser"), scripted("b-honest")
    for node in (refuser, honest):
        assert node.join(server.join_token)["type"] == "welcome"
    stop = threading.Event()
    threading.Thread(target=_answer_mixes, args=(honest, stop), daemon=True).start()
    progress_events = server.channel.subscribe(kinds=["election.progress"])
    mixing = server.call("election.mix", {"election_id": "e-err"})
    assert refuser.recv()["type"] == "mix.request"
    refuser.send(refuser.signed(progress("e-err")))  # no "stage" in it: the server knows which one it is
    event = progress_events.wait_for(lambda e: e.data["node"] == "a-refuser", timeout=5)
    assert event is not None and event.data["stage"] == 0 and event.data["election_id"] == "e-err"
    refuser.send(protocol.error_reply("internal_error", "out of memory", ref="mix.request") | {"election_id": "e-err"})
    result = mixing.result(10)  # long before the stage's timeout (30 s + 10 ms per ballot)
    stop.set()
    assert result["accepted"] == 1
    first = server.board.mix_stages("e-err")[0]
    assert first.mixer == "a-refuser" and first.status == "rejected"
    assert first.reason == "mixer a-refuser refused the stage: internal_error: out of memory"


@pytest.mark.slow
def test_the_next_mixer_starts_on_unjudged_outputs_and_mixes_again_when_that_stage_is_rejected(server, scripted):
    _closed_election_with_ballots(server.board, "e-pipe")
    spoiler, second, third = scripted("a-spoiler"), scripted("b-honest"), scripted("c-honest")
    for node in (spoiler, second, third):
        assert node.join(server.join_token)["type"] == "welcome"
    stop, seen = threading.Event(), {n.name: [] for n in (spoiler, second, third)}
    for node in (spoiler, second, third):
        threading.Thread(target=_answer_mixes, args=(node, stop, seen[node.name], node is spoiler),
                         daemon=True).start()
    stages = server.channel.subscribe(kinds=["election.stage"])
    result = server.call("election.mix", {"election_id": "e-pipe"}).result(60)
    stop.set()
    assert result["accepted"] == 2 and result["stages"] == 3
    assert result["pipelined"]["stages"] == 2  # a's and b's second stage were judged while the next one mixed
    recorded = server.board.mix_stages("e-pipe")
    assert [(s.mixer, s.status, s.rejected_as) for s in recorded] == [
        ("a-spoiler", "rejected", "proof_fails"), ("b-honest", "accepted", None), ("c-honest", "accepted", None)]
    cast = seen["a-spoiler"][0]["list_hash"]
    spoiled = recorded[0].response()["list_hash"]
    # b was asked to mix a's outputs before they were judged; once they were rejected, that answer was dropped
    # (nothing stored for it) and b mixed again, at the same position, from the cast ballots
    assert [(m["stage"], m["list_hash"]) for m in seen["b-honest"]] == [(1, spoiled), (1, cast)]
    assert recorded[1].response()["input_hash"] == cast
    assert [(m["stage"], m["list_hash"]) for m in seen["c-honest"]] == [(2, recorded[1].response()["list_hash"])]
    finished = [(e.data["mixer"], e.data["status"]) for e in stages.drain() if e.data["status"] != "running"]
    assert ("b-honest", "rejected") not in finished and ("a-spoiler", "rejected") in finished


def _spoiler_before(server, scripted, election_id: str, name: str):
    """A closed election whose cascade is a-spoiler (its proofs fail), then the scripted mixer `name` (the test
    answers for it), then c-honest: (that mixer, the Event that stops the other two)."""
    _closed_election_with_ballots(server.board, election_id)
    spoiler, middle, honest = scripted("a-spoiler"), scripted(name), scripted("c-honest")
    for node in (spoiler, middle, honest):
        assert node.join(server.join_token)["type"] == "welcome"
    stop = threading.Event()
    threading.Thread(target=_answer_mixes, args=(spoiler, stop, None, True), daemon=True).start()
    threading.Thread(target=_answer_mixes, args=(honest, stop), daemon=True).start()
    return middle, stop


def test_a_mixer_gone_while_mixing_unjudged_outputs_is_not_waited_for_when_asked_again(server, scripted):
    leaver, stop = _spoiler_before(server, scripted, "e-gone", "b-leaver")
    mixing = server.call("election.mix", {"election_id": "e-gone"})
    frame = leaver.recv()  # its request for a's unjudged outputs (a short list: one frame)
    assert frame["type"] == "mix.request" and frame["stage"] == 1
    leaver.close()
    # a's stage is rejected, so b would mix again from the cast list; it is gone: no 30 s wait for its answer
    result = mixing.result(20)
    stop.set()
    assert result["accepted"] == 1 and result["stages"] == 3
    recorded = server.board.mix_stages("e-gone")
    assert [(s.mixer, s.status, s.rejected_as) for s in recorded] == [
        ("a-spoiler", "rejected", "proof_fails"), ("b-leaver", "rejected", "no_answer"), ("c-honest", "accepted", None)]
    assert recorded[1].reason == "mixer b-leaver disconnected during its stage"


@pytest.mark.parametrize("late_reply", ["answer", "refusal"])
def test_a_late_reply_to_a_dropped_request_is_not_taken_for_the_stage_asked_again(server, scripted, monkeypatch,
                                                                                   late_reply):
    """b's first request (on a's unjudged outputs) is dropped when a's stage is rejected, and b is asked again for
    the same stage index: b's late answer to the first, or its late refusal of it, names the first list and is
    not taken for the second."""
    from mixscope.client import roles
    from mixscope.mixnet import elgamal, shuffle
    from mixscope.server.election import cascade

    monkeypatch.setattr(cascade, "MIX_TIMEOUT_BASE", 1.0)  # b's first request times out quickly
    eid = f"e-late-{late_reply}"
    late, stop = _spoiler_before(server, scripted, eid, "b-late")

    def answer(request: dict) -> dict:
        inputs = [elgamal.Ciphertext.from_json(ct) for ct in request["ciphertexts"]]
        outputs, proof = shuffle.shuffle_and_prove(bytes.fromhex(request["public_key"]), inputs,
                                                   bytes.fromhex(request["context"]))
        return late.signed({"type": "mix.response", "election_id": eid, "stage": request["stage"],
                            "input_hash": request["list_hash"], "outputs": [o.to_json() for o in outputs],
                            "proof": proof.to_json(), "list_hash": list_hash(outputs)})

    mixing = server.call("election.mix", {"election_id": eid})
    first = late.recv()  # on a's unjudged outputs; replied to only once it timed out and a's stage was rejected
    second = late.recv()  # the same stage index again, on the cast ballots
    assert first["stage"] == second["stage"] == 1 and first["list_hash"] != second["list_hash"]
    if late_reply == "answer":
        late.send(answer(first))
    else:  # the refusal a node's roles send names the list it refused
        refusal = roles._error("cancelled", "stopped", first)
        assert refusal["input_hash"] == first["list_hash"] and refusal["stage"] == first["stage"]
        late.send(refusal)
    late.send(answer(second))
    result = mixing.result(30)
    stop.set()
    recorded = server.board.mix_stages(eid)
    assert [(s.mixer, s.status, s.rejected_as) for s in recorded] == [
        ("a-spoiler", "rejected", "proof_fails"), ("b-late", "accepted", None), ("c-honest", "accepted", None)]
    assert recorded[1].response()["input_hash"] == second["list_hash"] and result["accepted"] == 2


def test_a_mixer_asked_again_on_the_same_list_has_its_new_answer_taken(server, scripted):
    _closed_election_with_ballots(server.board, "e-echo")
    echo, second, third = scripted("a-echo"), scripted("b-honest"), scripted("c-honest")
    for node in (echo, second, third):
        assert node.join(server.join_token)["type"] == "welcome"
    stop, seen = threading.Event(), []
    threading.Thread(target=_answer_mixes, args=(echo, stop, None, False, False, True), daemon=True).start()
    threading.Thread(target=_answer_mixes, args=(second, stop, seen), daemon=True).start()
    threading.Thread(target=_answer_mixes, args=(third, stop), daemon=True).start()
    result = server.call("election.mix", {"election_id": "e-echo"}).result(20)  # long before b's mix timeout
    stop.set()
    recorded = server.board.mix_stages("e-echo")
    assert [(s.mixer, s.status) for s in recorded] == [
        ("a-echo", "rejected"), ("b-honest", "accepted"), ("c-honest", "accepted")]
    # a's outputs were its inputs: b was asked twice on one list, and its second answer is the stage
    assert [m["list_hash"] for m in seen] == [seen[0]["list_hash"]] * 2 and result["accepted"] == 2


def test_a_stage_whose_outputs_are_no_ciphertexts_is_rejected_and_never_sent_to_the_next_mixer(server, scripted):
    _closed_election_with_ballots(server.board, "e-garble")
    garbler, second = scripted("a-garbler"), scripted("b-honest")
    for node in (garbler, second):
        assert node.join(server.join_token)["type"] == "welcome"
    stop, seen = threading.Event(), []
    threading.Thread(target=_answer_mixes, args=(garbler, stop, None, False, True), daemon=True).start()
    threading.Thread(target=_answer_mixes, args=(second, stop, seen), daemon=True).start()
    result = server.call("election.mix", {"election_id": "e-garble"}).result(60)
    stop.set()
    assert result["accepted"] == 1 and result["stages"] == 2
    recorded = server.board.mix_stages("e-garble")
    assert [(s.mixer, s.status, s.rejected_as) for s in recorded] == [
        ("a-garbler", "rejected", "malformed"), ("b-honest", "accepted", None)]
    assert [m["stage"] for m in seen] == [1]  # only the cast ballots, never the garbled list


@pytest.mark.slow
def test_a_long_message_is_streamed_whole_and_what_is_sent_after_it_arrives_after_it(server):
    """Hub.send_large writes a long message's chunks one at a time, each once the previous one is flushed; a
    message sent to that node meanwhile waits for the last chunk, so the node sees the server's order."""
    node = ScriptedNode(server.ws_url, "reader")
    try:
        client_id = node.join(server.join_token)["client_id"]
        big = {"type": "mix.request", "election_id": "e", "ciphertexts": [["ab" * 32, "cd" * 32]] * 6000}
        after = {"type": "welcome", "client_id": client_id}

        def send_both() -> None:
            assert server._hub.send_large(client_id, big)
            assert server._hub.send(client_id, after)

        server._loop.add_callback(send_both)
        reassembler, kinds, whole = chunks.Reassembler(), [], None
        while not kinds or kinds[-1] == "chunk":
            frame = node.recv()
            kinds.append(frame["type"])
            if frame["type"] == "chunk":
                text = reassembler.feed(frame)
                whole = json.loads(text) if text is not None else whole
            else:
                assert frame == after
        assert kinds.count("chunk") >= 3 and kinds[-1] == "welcome" and whole == big
    finally:
        node.close()


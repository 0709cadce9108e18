"""The mixer role: honest stages verify, every cheat mode is caught by the proof, bad requests get errors;
and a real `mixscope node` process mixes a request from a real server and its signed, chunked reply
lands on the bulletin board."""

from __future__ import annotations

import hashlib
import sys
import time

import nacl.signing
import pytest

from conftest import NodeProcess, running_server
from mixscope.client import mixer, progress
from mixscope.client.mixer import RequestError
from mixscope.client.roles import Roles
from mixscope.mixnet import elgamal, shuffle
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError
from mixscope.mixnet.record import mix_context
from mixscope.mixnet.stages import list_hash
from mixscope.wire import chunks, protocol
from mixscope.wire.protocol import MIXER_CHEAT_EFFECTS

CANDIDATES = 3


def _request(n: int, election_id: str = "e1", stage: int = 0, name: str = "mixer-1") -> tuple[dict, int]:
    keys = elgamal.KeyPair.generate()
    cts = [elgamal.encrypt(keys.public, elgamal.encode_choice(i % CANDIDATES)) for i in range(n)]
    request = {"type": "mix.request", "election_id": election_id, "stage": stage, "public_key": keys.public.hex(),
               "context": mix_context(election_id, stage, name).hex(), "ciphertexts": [ct.to_json() for ct in cts],
               "list_hash": list_hash(cts)}
    return request, keys.secret


def _verify(request: dict, reply: dict) -> None:
    """Raise ProofError unless reply is a valid shuffle of request (the server's check)."""
    shuffle.verify(bytes.fromhex(request["public_key"]), [Ciphertext.from_json(c) for c in request["ciphertexts"]],
                   [Ciphertext.from_json(c) for c in reply["outputs"]], shuffle.ShuffleProof.from_json(reply["proof"]),
                   bytes.fromhex(request["context"]))


def _tally(secret: int, cts: list) -> list[int]:
    counts = [0] * CANDIDATES
    for ct in cts:
        counts[elgamal.decode_choice(elgamal.decrypt(secret, Ciphertext.from_json(ct)), CANDIDATES)] += 1
    return counts


def test_honest_mix_verifies_and_keeps_the_votes():
    request, secret = _request(12)
    reply = mixer.mix(request)
    assert reply["type"] == "mix.response" and reply["stage"] == 0 and reply["election_id"] == "e1"
    _verify(request, reply)
    assert reply["list_hash"] == list_hash(reply["outputs"])
    assert sorted(map(tuple, reply["outputs"])) != sorted(map(tuple, request["ciphertexts"]))  # re-encrypted
    assert _tally(secret, reply["outputs"]) == _tally(secret, request["ciphertexts"]) == [4, 4, 4]


@pytest.mark.parametrize("cheat", mixer.SPOILS)
@pytest.mark.parametrize("n", [1, 2, 9])
def test_every_cheat_mode_is_caught_by_the_proof(cheat, n):
    request, _ = _request(n)
    reply = mixer.mix(request, cheat=cheat)
    assert reply["list_hash"] == list_hash(reply["outputs"])  # a consistent-looking, lying reply
    with pytest.raises(ProofError):
        _verify(request, reply)


EXPECTED_CLASS = {"drop": "malformed", "replace": "proof_fails", "swap": "proof_fails", "wrong_stage": "malformed",
                  "identity": "not_rerandomised", "malformed": "malformed"}


@pytest.mark.parametrize("cheat", [c for c in mixer.CHEATS if c != "silent"])
def test_every_cheat_mode_is_judged_into_its_rejection_class(cheat):
    """The server's and the verifier's one judgement (mixnet/stages.py) puts each cheat in its class."""
    from mixscope.mixnet import stages

    request, _ = _request(4)
    reply = mixer.mix(request, cheat=cheat)
    verdict = stages.judge(reply | {"signed": {}}, election_id="e1", stage=0, inputs_json=request["ciphertexts"],
                           inputs=[Ciphertext.from_json(c) for c in request["ciphertexts"]],
                           public_key=bytes.fromhex(request["public_key"]), context=bytes.fromhex(request["context"]))
    assert verdict.rejected_as == EXPECTED_CLASS[cheat], verdict
    assert MIXER_CHEAT_EFFECTS[cheat].endswith(f": {verdict.rejected_as}")  # what the panel tells the presenter
    honest = mixer.mix(request)
    assert stages.judge(honest | {"signed": {}}, election_id="e1", stage=0, inputs_json=request["ciphertexts"],
                        inputs=[Ciphertext.from_json(c) for c in request["ciphertexts"]],
                        public_key=bytes.fromhex(request["public_key"]),
                        context=bytes.fromhex(request["context"])).rejected_as is None
    with pytest.raises(mixer.Silent):
        mixer.mix(request, cheat="silent")
    assert MIXER_CHEAT_EFFECTS["silent"].endswith(": no_answer")


def test_the_cli_knows_every_cheat_mode():
    from mixscope.cli import MIXER_CHEATS

    assert tuple(MIXER_CHEATS) == mixer.CHEATS


def test_replace_keeps_the_list_length_and_adds_a_valid_choice():
    request, secret = _request(6)
    reply = mixer.mix(request, cheat="replace")
    assert len(reply["outputs"]) == 6
    assert sum(_tally(secret, reply["outputs"])) == 6  # every output still decrypts to a candidate


def test_drop_removes_exactly_one_output():
    request, _ = _request(6)
    assert len(mixer.mix(request, cheat="drop")["outputs"]) == 5


def _bad(request: dict, **change) -> dict:
    return {**request, **change}


@pytest.mark.parametrize("change,match", [
    ({"list_hash": "0" * 64}, "list_hash"),
    ({"public_key": "zz"}, "public_key"),
    ({"public_key": "ff" * 32}, "public_key"),
    ({"context": "not hex"}, "context"),
    ({"context": ""}, "context"),
    ({"ciphertexts": []}, "ciphertexts"),
    ({"ciphertexts": [["ab", "cd"]]}, "ciphertext"),
    ({"ciphertexts": [[("ff" * 32), ("ff" * 32)]]}, "ciphertext"),
    ({"ciphertexts": [1, 2]}, "ciphertext"),
    ({"stage": -1}, "stage"),
])
def test_bad_requests_raise_a_request_error(change, match):
    request, _ = _request(3)
    with pytest.raises(RequestError, match=match):
        mixer.mix(_bad(request, **change))


@pytest.mark.parametrize("bad_point", [
    "ff" * 32,  # not a field element
    "0100000000000000000000000000000000000000000000000000000000000000",  # negative
    "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",  # non-square x^2
    "00" * 31 + "80",  # the identity with its top bit set, which libsodium alone would accept
])
@pytest.mark.parametrize("component", [0, 1])
def test_an_invalid_input_point_with_a_matching_list_hash_is_a_bad_ciphertext(bad_point, component):
    """The mixer does not decode its inputs first: re-encryption refuses the point, reported as malformed input."""
    request, _ = _request(4)
    cts = [list(ct) for ct in request["ciphertexts"]]
    cts[2][component] = bad_point
    parsed = [Ciphertext(bytes.fromhex(a), bytes.fromhex(b)) for a, b in cts]
    with pytest.raises(RequestError, match="bad ciphertext"):
        mixer.mix(_bad(request, ciphertexts=cts, list_hash=list_hash(parsed)))


def test_roles_turn_bad_requests_into_error_replies_and_carry_on():
    roles = Roles("mixer-1", "mixer", nacl.signing.SigningKey.generate(), data_dir=None)
    request, _ = _request(3)
    reply = roles.handle(_bad(request, list_hash="0" * 64), lambda *_: None)
    assert reply == {"type": "error", "reason": mixer.BAD_REQUEST, "detail": "list_hash does not match the ciphertexts",
                     "ref": "mix.request", "election_id": "e1", "stage": 0, "input_hash": "0" * 64}
    wrong_role = roles.handle({"type": "decrypt.request", "election_id": "e1", "ciphertexts": [], "list_hash": ""},
                              lambda *_: None)
    assert wrong_role["type"] == "error" and wrong_role["reason"] == "wrong_role"
    _verify(request, roles.handle(request, lambda *_: None))  # and the next good request is served


def test_progress_is_reported_per_phase_and_throttled():
    now = [0.0]
    seen = []
    progress_map = progress.ProgressMap(lambda *r: seen.append(r), min_interval=0.25, clock=lambda: now[0])

    def slow(x):
        now[0] += 0.1  # each job takes 0.1 s of the fake clock
        return x * 2

    assert list(progress_map(slow, range(10))) == [x * 2 for x in range(10)]
    assert seen[0] == ("slow", 0, 10)
    assert all(phase == "slow" and total == 10 for phase, _, total in seen)
    assert len(seen) == 4  # 1 s of work at ≤ 4 reports/s: at 0.0, 0.3, 0.6, 0.9 s
    done = [d for _, d, _ in seen]
    assert done == sorted(done)


@pytest.mark.slow
def test_mix_on_a_process_pool_reports_the_kernel_phases():
    request, secret = _request(300)
    pool = progress.make_pool(2)
    seen = []
    try:
        reply = mixer.mix(request, map_fn=progress.ProgressMap(lambda *r: seen.append(r), pool=pool, min_interval=0))
    finally:
        if pool is not None:
            pool.shutdown()
    _verify(request, reply)
    assert _tally(secret, reply["outputs"]) == [100, 100, 100]
    phases = {phase for phase, _, _ in seen}
    assert {"reencrypt", "prove"} <= phases
    assert all(0 <= done <= total for _, done, total in seen)
    assert any(done == total for _, done, total in seen)


# --- a real node process against the real server ---------------------------------------------------------


@pytest.fixture
def server(tmp_path):
    """Pings every 0.5 s (the tests read fresh round-trip times) but drops a node only after 10 s of silence:
    a node parsing a 20,000-ciphertext request on a loaded 2-core machine can miss a 0.5 s bound, and no test
    here is about dropping nodes (test_client_node.py is)."""
    with running_server(tmp_path, ping_interval=0.5, ping_timeout=10.0) as runner:
        yield runner


@pytest.fixture
def node_process(server, tmp_path, monkeypatch):
    """Start a real mixer node; `token`: "arg" (--join-token), "env" ($MIXSCOPE_JOIN_TOKEN) or a literal."""
    started: list[NodeProcess] = []

    def start(name: str, *extra: str, token: str = "arg") -> NodeProcess:
        args = [sys.executable, "-u", "-m", "mixscope", "node", "--url", server.ws_url, "--name", name,
                "--role", "mixer", "--data-dir", str(tmp_path / "nodes"), *extra]
        monkeypatch.delenv("MIXSCOPE_JOIN_TOKEN", raising=False)
        if token == "env":
            monkeypatch.setenv("MIXSCOPE_JOIN_TOKEN", server.join_token)
        else:
            args += ["--join-token", server.join_token if token == "arg" else token]
        node = NodeProcess(args)  # the child copies the environment at start
        started.append(node)
        return node

    yield start
    for node in started:
        node.terminate()
        for stream in (node.proc.stdout, node.proc.stderr):
            stream.close()


def _me(server, client_id: str) -> dict:
    return next(c for c in server.call("clients").result(5)["clients"] if c["id"] == client_id)


def _signed_replies(server, key: str, kind: str, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in server.board.signed_messages(sender_key=key) if m.type == kind]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no signed {kind} from {key[:12]} on the board")


@pytest.mark.slow
def test_real_node_mixes_a_large_request_and_its_chunked_signed_reply_is_on_the_board(server, node_process):
    node = node_process("mixer-1", token="env")  # the token from the environment, not the command line
    key = node.wait_for("starting")["public_key"]
    client_id = node.wait_for("welcomed", timeout=20)["client_id"]
    assert server.join_token not in " ".join(node.proc.args)
    assert server.board.node(key).name == "mixer-1"  # joined: token checked, signed hello recorded

    request, secret = _request(1200)  # request ≈ 0.16 MB, reply ≈ 0.6 MB: both sent as chunks
    frames = chunks.split(protocol.encode(request), limit=40_000)
    assert len(frames) > 2
    # A broken transfer first (its second chunk lost): the node reports it and drops it.
    broken = chunks.split(protocol.encode(request), limit=40_000)
    for frame in (broken[0], broken[2]):
        server.call("send", {"client_id": client_id, "message": frame}).result(10)
    assert node.wait_for("error", timeout=20)["reason"] == chunks.BAD_CHUNK
    for frame in frames:
        server.call("send", {"client_id": client_id, "message": frame}).result(10)
    node.wait_for("request", type="mix.request")
    progress_line = node.wait_for("progress", timeout=60, election_id="e1", task="mix")
    assert 0 <= progress_line["done"] <= progress_line["total"]
    replied = node.wait_for("replied", timeout=120, type="mix.response")
    assert replied["election_id"] == "e1"

    (stored,) = _signed_replies(server, key, "mix.response")
    reply = stored.body
    assert len(protocol.encode(reply)) > chunks.CHUNK_BYTES  # it really had to travel in chunks
    _verify(request, reply)
    assert _tally(secret, reply["outputs"]) == [400, 400, 400]
    assert _signed_replies(server, key, "progress")  # progress reports are signed and accepted too
    # The node is still healthy: it answers the next request (a bad one) with an error reply.
    server.call("send", {"client_id": client_id, "message": _bad(request, list_hash="0" * 64)}).result(10)
    assert node.wait_for("request_failed", timeout=30)["reason"] == mixer.BAD_REQUEST


@pytest.mark.slow
def test_real_cheating_node_reply_fails_verification(server, node_process):
    node = node_process("mixer-bad", "--cheat", "swap", "--workers", "2")
    key = node.wait_for("starting")["public_key"]
    client_id = node.wait_for("welcomed", timeout=20)["client_id"]
    request, _ = _request(40)
    server.call("send", {"client_id": client_id, "message": request}).result(10)
    (stored,) = _signed_replies(server, key, "mix.response")
    with pytest.raises(ProofError):
        _verify(request, stored.body)


def test_node_with_a_wrong_join_token_is_refused_and_keeps_running(server, node_process):
    node = node_process("mixer-x", token="wrong")
    error = node.wait_for("error", timeout=20)
    assert error["reason"] == "bad_join"
    assert node.proc.poll() is None


@pytest.mark.slow
def test_sigterm_during_a_long_mix_stops_the_node_cleanly_without_finishing(server, node_process):
    node = node_process("mixer-long")
    client_id = node.wait_for("welcomed", timeout=20)["client_id"]
    small, _ = _request(100)
    cts = small["ciphertexts"] * 200  # 20,000 ciphertexts (repeats are fine): tens of seconds of work here
    request = {**small, "ciphertexts": cts, "list_hash": list_hash(cts)}
    for frame in chunks.split(protocol.encode(request)):
        server.call("send", {"client_id": client_id, "message": frame}).result(10)
    node.wait_for("progress", timeout=60, phase="reencrypt")  # the work has begun
    # While it computes, the node still answers the server's pings (every 0.5 s here): each pong brings a
    # fresh round-trip time.
    rtts = set()
    for _ in range(20):
        rtts.add(_me(server, client_id)["rtt_ms"])
        time.sleep(0.1)
    assert len(rtts - {None}) >= 2
    assert not any(line["event"] == "replied" for line in node.lines)  # still working
    assert node.terminate() == 0  # SIGTERM; the fixture's terminate waits at most 10 s before kill -9
    events = [line["event"] for line in node.lines]
    assert events[-1] == "stopped"
    assert not any(line["event"] == "replied" and line.get("type") == "mix.response" for line in node.lines)


@pytest.mark.slow
def test_bench_nodes_reports_round_trips_for_both_worker_counts():
    import json
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "mixscope", "bench", "nodes", "--n", "80", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["n"] == 80 and report["compute_seconds"] > 0
    assert [r["workers"] for r in report["nodes"]] == [1, 2]
    assert all(r["event"] == "replied" and r["seconds"] > 0 and r["reply_bytes"] > report["request_bytes"]
               for r in report["nodes"])


def test_a_lab_cheat_instruction_is_obeyed_only_by_a_lab_cheats_node():
    request, _ = _request(6)
    told = {**request, "lab_cheat": "swap"}
    key = nacl.signing.SigningKey.generate()
    ordinary = Roles("mixer-1", "mixer", key, None)
    refused = ordinary.handle(told, lambda *_: None)
    assert refused["type"] == "error" and refused["reason"] == "refused" and "--lab-cheats" in refused["detail"]
    _verify(request, ordinary.handle(request, lambda *_: None))  # without the instruction: an honest stage
    lab = Roles("mixer-1", "mixer", key, None, lab_cheats=True)
    with pytest.raises(ProofError):
        _verify(request, lab.handle(told, lambda *_: None))  # the spoiled stage fails the server's check
    assert lab.handle({**request, "lab_cheat": "lie"}, lambda *_: None)["reason"] == "bad_request"
    _verify(request, lab.handle(request, lambda *_: None))  # the next election, no instruction: honest again


def test_the_generator_cache_on_disk_is_written_adopted_and_refused_when_damaged(tmp_path):
    from mixscope.client import generator_cache
    from mixscope.mixnet import _shuffle_spec

    request, _ = _request(5)
    _shuffle_spec.clear_generator_cache()
    reply = mixer.mix(request, generator_dir=tmp_path)
    _verify(request, reply)
    path = tmp_path / generator_cache.FILE_NAME
    derived = _shuffle_spec.known_generators()
    assert len(derived) == 6 and path.read_bytes()[32:] == b"".join(derived)

    _shuffle_spec.clear_generator_cache()  # a fresh process: adopts the file instead of deriving
    assert generator_cache.load(tmp_path) == 6 and _shuffle_spec.known_generators() == derived

    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1  # damaged: the digest no longer matches
    path.write_bytes(bytes(raw))
    _shuffle_spec.clear_generator_cache()
    assert generator_cache.load(tmp_path) == 0

    wrong = b"".join(derived[:-1]) + derived[0]  # well-formed file, wrong last element: the recomputation refuses it
    path.write_bytes(hashlib.sha256(wrong).digest() + wrong)
    assert generator_cache.load(tmp_path) == 0
    _verify(request, mixer.mix(request, generator_dir=tmp_path))  # derives again and rewrites the file
    assert path.read_bytes()[32:] == b"".join(derived)

"""`mixscope bench attack`: hostile input against a real `mixscope serve`, with the server's memory measured.

Each attack comes from this process, as an attacker on the same machine would send it, and the bench records
what came back. The memory attack is the one of issue 11: one connection that never says hello (and one that
says a plain hello) opens 8 chunk transfers of 20 MB and never finishes them. RSS is the server process's own
(psutil), sampled every 0.1 s: baseline, peak during the attack, and how long after the attack's connection
closes it is back within 10 % of the baseline (watched for up to --recover seconds).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import psutil
import websocket

from mixscope.mixnet import ballots, credentials, elgamal, proofs, trustees
from mixscope.server.board import Board
from mixscope.wire import chunks

DEEP = "[" * 100_000 + "]" * 100_000
MB = 1024 * 1024


class _Server:
    """`mixscope serve --port 0` as a child process, with its banner and its RSS."""

    def __init__(self, data_dir: str):
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "mixscope", "serve", "--port", "0", "--data-dir",
                                      data_dir], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        fields: dict[str, str] = {}
        assert self.proc.stdout is not None  # a pipe
        while "join token" not in fields:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("bench: mixscope serve exited before it was ready")
            if m := re.match(r"Mixscope server listening on (\S+)", line):
                fields["url"] = m[1]
            elif m := re.match(r"(websocket|admin token|join token): (\S+)", line):
                fields[m[1]] = m[2]
        self.url, self.ws_url, self.admin_token = fields["url"], fields["websocket"], fields["admin token"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.process = psutil.Process(self.proc.pid)

    def rss_mb(self) -> float:
        return self.process.memory_info().rss / MB

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class _Sampler:
    """The server's peak RSS while a block runs."""

    def __init__(self, server: _Server):
        self.server, self.peak, self._stop = server, server.rss_mb(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self.server.rss_mb())

    def __enter__(self) -> "_Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


VOTER = credentials.generate(1)[0]  # the one listed voter, who signs the identity ballot (only its identity is wrong)


def _voting_election(data_dir: str) -> tuple[str, bytes]:
    """An election open for voting on the board the server will open (a real 1-of-1 key generation)."""
    election_id, question, candidates = "bench-attack", "Which?", ["a", "b"]
    with Board(data_dir=data_dir) as board:
        board.create_election(election_id, question, candidates, 1, 1, 1, [VOTER.voter_id])
        board.set_state(election_id, "key_ceremony")
        _, dealings, public_key = trustees.run_key_generation(1, 1, proofs.election_context(election_id),
                                                              trustees.labels_digest(question, candidates))
        board.add_trustee_message(election_id, "t1", "dealing", dealings[0].to_json())
        board.set_public_key(election_id, public_key.hex())
        board.set_state(election_id, "voting")
    return election_id, public_key


def _identity_ballot(election_id: str, public_key: bytes) -> bytes:
    ct = elgamal.encrypt(public_key, elgamal.encode_choice(1), 0)  # randomness 0: the vote is b, in clear
    proof = proofs.schnorr_prove(0, ballots._randomness_context(public_key, election_id, VOTER.voter_id, ct))
    ballot = credentials.sign(VOTER, election_id, ballots.Ballot(ct, proof))
    return json.dumps({"voter_id": VOTER.voter_id, "ballot": ballot.to_json()}).encode()


def _http(server: _Server, method: str, path: str, body: bytes | None = None, headers=None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _admin(server: _Server) -> dict:
    return {"Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"}


def _stalled_transfers(server: _Server, hello: bool, transfers: int, size: int) -> dict:
    """One connection opens `transfers` chunk transfers of `size` bytes and never finishes them."""
    ws = websocket.create_connection(server.ws_url, timeout=60)
    replies: dict[str, int] = {}
    sent = 0
    try:
        if hello:
            ws.send(json.dumps({"type": "hello", "name": "attacker", "role": "voter"}))
            ws.recv()
        for _ in range(transfers):
            frames = chunks.split(json.dumps({"type": "roll_call.reply", "request_id": "x" * size}))
            for frame in frames[:-1]:  # never the last chunk
                text = json.dumps(frame)
                ws.send(text)
                sent += len(text)
        ws.settimeout(2.0)
        try:
            while True:
                reply = json.loads(ws.recv())
                key = f"{reply.get('type')}:{reply.get('reason')}"
                replies[key] = replies.get(key, 0) + 1
        except (websocket.WebSocketTimeoutException, websocket.WebSocketConnectionClosedException):
            pass
    finally:
        ws.close()
    return {"sent_mb": round(sent / MB, 1), "replies": replies}


def _recovery(server: _Server, baseline: float, seconds: float) -> dict:
    started = time.monotonic()
    back_after = None
    while time.monotonic() - started < seconds:
        if server.rss_mb() <= baseline * 1.10:
            back_after = round(time.monotonic() - started, 1)
            break
        time.sleep(0.5)
    return {"back_within_10pct_after_s": back_after, "rss_after_mb": round(server.rss_mb(), 1)}


def _memory_attack(server: _Server, hello: bool, recover: float) -> dict:
    baseline = server.rss_mb()
    with _Sampler(server) as sampler:
        outcome = _stalled_transfers(server, hello, transfers=8, size=20 * MB)
    return {"attack": f"8 stalled 20 MB chunk transfers, {'plain hello' if hello else 'no hello'}",
            **outcome, "rss_baseline_mb": round(baseline, 1), "rss_peak_mb": round(sampler.peak, 1),
            "rss_added_mb": round(sampler.peak - baseline, 1), **_recovery(server, baseline, recover)}


def _ws_reply(server: _Server, frames: list[str], hello: bool = True) -> str:
    ws = websocket.create_connection(server.ws_url, timeout=30)
    try:
        if hello:
            ws.send(json.dumps({"type": "hello", "name": "prober", "role": "voter"}))
            ws.recv()
        for frame in frames:
            ws.send(frame)
        reply = json.loads(ws.recv())
        return f"{reply['type']}:{reply.get('reason')}"
    finally:
        ws.close()


def _foreign_origin(server: _Server) -> str:
    try:
        websocket.create_connection(server.ws_url, timeout=10, origin=f"http://evil.example:{server.port}").close()
    except websocket.WebSocketBadStatusException as exc:
        return str(exc.status_code)
    return "accepted"


def _silent_tcp(server: _Server, wait: float) -> str:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as raw:
        try:
            closed = raw.recv(1) == b""
        except socket.timeout:
            closed = False
    return f"closed after {time.monotonic() - started:.1f} s" if closed else f"still open after {wait:g} s"


def _small_attacks(server: _Server, election_id: str, public_key: bytes) -> list[dict]:
    ballots_path = f"/api/elections/{election_id}/ballots"
    chunked_deep = chunks.split('{"type": "roll_call.reply", "request_id": ' + "[" * 200_000 + "]" * 200_000 + "}")
    rows = [
        ("100,000-deep JSON, single-ballot route", lambda: _http(server, "POST", ballots_path, DEEP.encode(),
                                                                 _admin(server))),
        ("100,000-deep JSON, batch route", lambda: _http(server, "POST", ballots_path,
                                                         ('{"ballots":' + DEEP + "}").encode(), _admin(server))),
        ("100,000-deep JSON, admin route", lambda: _http(server, "POST", "/api/admin/broadcast", DEEP.encode(),
                                                         _admin(server))),
        ("100,000-deep JSON frame, websocket", lambda: _ws_reply(server, [DEEP])),
        ("400,000-deep JSON inside a chunked transfer", lambda: _ws_reply(
            server, [json.dumps(f) for f in chunked_deep])),
        ("Host: evil.example (HTTP)", lambda: _http(server, "GET", "/", None,
                                                    {"Host": f"evil.example:{server.port}"})),
        ("Origin: http://evil.example (websocket)", lambda: _foreign_origin(server)),
        ("/over timeout=NaN", lambda: _http(server, "GET", "/over?timeout=NaN", None, _admin(server))),
        ("/over timeout=1e309", lambda: _http(server, "GET", "/over?timeout=1e309", None, _admin(server))),
        ("ballot with randomness 0 (identity a)", lambda: _http(server, "POST", ballots_path,
                                                                _identity_ballot(election_id, public_key),
                                                                _admin(server))),
    ]
    out = []
    for attack, run in rows:
        with _Sampler(server) as sampler:
            before = server.rss_mb()
            answer = run()
        out.append({"attack": attack, "answer": answer, "rss_added_mb": round(sampler.peak - before, 1)})
    return out


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="mixscope-bench-attack-") as tmp:
        election_id, public_key = _voting_election(os.path.join(tmp, "board"))
        server = _Server(os.path.join(tmp, "board"))
        try:
            for _ in range(20):  # warm up: the first requests import and allocate what every later one reuses
                _http(server, "GET", "/api/elections")
                _ws_reply(server, ['{"type": "nonsense"}'])
            time.sleep(1.0)
            report = {
                "baseline_rss_mb": round(server.rss_mb(), 1),
                "memory": [_memory_attack(server, hello, args.recover) for hello in (False, True)],
                "requests": _small_attacks(server, election_id, public_key),
                "silent_tcp": _silent_tcp(server, args.idle_wait),
            }
        finally:
            server.stop()
    print(json.dumps(report, indent=2))
    return 0

"""Crashes: `mixscope serve` killed with SIGKILL during voting and during the mix cascade, then restarted on
the same data dir. Every acknowledged ballot is still there, and the cascade resumes after the last
accepted stage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from mixscope.client.http_api import ApiError
from mixscope.client.vote import BallotApi
from mixscope.mixnet import credentials
from mixscope.server.board import Board
from test_election_hub import ScriptedNode, _answer_mixes, _closed_election_with_ballots

pytestmark = pytest.mark.slow  # whole elections and real node processes: `-m "not slow"` skips them

ROOT = Path(__file__).resolve().parents[1]


class Serve:
    """`mixscope serve --port 0 --data-dir D` as a real child, with what it printed at start."""

    def __init__(self, data_dir: Path):
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "mixscope", "serve", "--port", "0", "--data-dir",
                                      str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, start_new_session=True)
        fields = {}
        while "join token" not in fields:
            line = self.proc.stdout.readline()
            assert line, "mixscope serve exited before it was ready"
            if line.startswith("Mixscope server listening on "):
                fields["url"] = line.split(" on ", 1)[1].strip()
            else:
                key, _, value = line.partition(": ")
                fields[key] = value.strip()
        self.url, self.ws_url = fields["url"], fields["websocket"]
        self.admin_token, self.join_token = fields["admin token"], fields["join token"]

    def kill9(self) -> None:
        # The whole process group, as a crash would: the server and its proof-checking pool workers.
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()

    def over(self) -> dict:
        request = urllib.request.Request(self.url + "/over", method="POST", data=b"{}", headers={
            "Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())


@pytest.fixture
def serve(tmp_path):
    started: list[Serve] = []

    def start() -> Serve:
        server = Serve(tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.stop()


def _voting_election(data_dir: Path, election_id: str, held=()) -> bytes:
    from mixscope.mixnet import proofs
    from mixscope.mixnet import trustees as dkg

    with Board(data_dir=data_dir) as board:
        board.create_election(election_id, "Q?", ["a", "b"], 1, 1, 1, [c.voter_id for c in held])
        board.set_state(election_id, "key_ceremony")
        _, dealings, public_key = dkg.run_key_generation(1, 1, proofs.election_context(election_id),
                                                          dkg.labels_digest("Q?", ["a", "b"]))
        board.add_trustee_message(election_id, "t1", "dealing", dealings[0].to_json())
        board.set_public_key(election_id, public_key.hex())
        board.set_state(election_id, "voting")
    return public_key


def test_kill9_during_voting_keeps_every_acknowledged_ballot(tmp_path, serve):
    held = credentials.generate(400)
    public_key = _voting_election(tmp_path, "e-kill", held)
    prepared = [(c.voter_id, credentials.cast(c, public_key, "e-kill", 2, i % 2).to_json()) for i, c in enumerate(held)]
    server = serve()
    acknowledged: list[dict] = []

    def post() -> None:
        with BallotApi(server.url, timeout=5) as api:
            for voter, ballot in prepared:
                try:
                    acknowledged.append(api.cast("e-kill", voter, ballot))
                except ApiError:
                    return

    poster = threading.Thread(target=post)
    poster.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 25 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill9()  # mid-stream: some ballot is in flight
    poster.join(30)
    assert 25 <= len(acknowledged) < len(prepared)

    restarted = serve()
    with Board(data_dir=tmp_path) as board:
        stored = {b.voter_id: b for b in board.ballots("e-kill")}
        assert board.get_election("e-kill").state == "voting"
    for receipt in acknowledged:
        assert stored[receipt["voter_id"]].tracking_hash == receipt["receipt"]
        assert stored[receipt["voter_id"]].position == receipt["position"]
    voter, ballot = prepared[-1]
    with BallotApi(restarted.url) as api:  # voting goes on after the restart
        assert api.cast("e-kill", voter, ballot)["position"] == len(stored) + 1  # positions count from 1


def test_kill9_during_the_cascade_resumes_after_the_last_accepted_stage(tmp_path, serve):
    with Board(data_dir=tmp_path) as board:
        _closed_election_with_ballots(board, "e-mix")
    server = serve()
    honest = [ScriptedNode(server.ws_url, name) for name in ("a-honest", "b-honest")]
    staller = ScriptedNode(server.ws_url, "c-staller")  # takes the request, never answers
    stop = threading.Event()
    try:
        for node in (*honest, staller):
            assert node.join(server.join_token)["type"] == "welcome"
        for node in honest:
            threading.Thread(target=_answer_mixes, args=(node, stop), daemon=True).start()
        threading.Thread(target=lambda: _swallow(server.over), daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Board(data_dir=tmp_path) as board:
                if board.next_mix_index("e-mix") == 2:
                    break
            time.sleep(0.05)
        server.kill9()
        with Board(data_dir=tmp_path) as board:
            assert [(s.mixer, s.status) for s in board.mix_stages("e-mix")] == [
                ("a-honest", "accepted"), ("b-honest", "accepted")]
            assert board.get_election("e-mix").state == "mixing"

        restarted = serve()
        late = ScriptedNode(restarted.ws_url, "d-honest")
        honest.append(late)
        assert late.join(restarted.join_token)["type"] == "welcome"
        threading.Thread(target=_answer_mixes, args=(late, stop), daemon=True).start()
        result = restarted.over()
        assert result["accepted"] == 3 and result["stages"] == 3
        with Board(data_dir=tmp_path) as board:
            stages = board.mix_stages("e-mix")
            assert [(s.mixer, s.status, s.index) for s in stages] == [
                ("a-honest", "accepted", 0), ("b-honest", "accepted", 1), ("d-honest", "accepted", 2)]
            assert stages[2].input_hash == stages[1].output_hash
            assert board.get_election("e-mix").state == "decrypting"
    finally:
        stop.set()
        for node in (*honest, staller):
            node.close()


def _swallow(call) -> None:
    try:
        call()
    except Exception:
        pass  # the server is killed under this request

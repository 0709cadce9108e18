"""`mixscope bench nodes`: what a mixer node adds on top of the proof work itself.

One run, same machine, same N: the in-process shuffle+prove time, then a real server and a real
`mixscope node --role mixer` process (in-process, then `--workers 2`) answering a chunked mix.request with
a signed, chunked mix.response, timed from the first request frame until the reply is on the board.
Reports seconds, the round-trip / compute ratio, the message sizes and chunk counts as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from mixscope.mixnet import elgamal, shuffle, stages
from mixscope.mixnet.group import backend
from mixscope.mixnet.record import mix_context
from mixscope.wire import chunks, protocol


def _request(n: int) -> dict:
    keys = elgamal.KeyPair.generate()
    distinct = [elgamal.encrypt(keys.public, elgamal.encode_choice(i % 3)) for i in range(min(n, 256))]
    cts = [distinct[i % len(distinct)] for i in range(n)]  # repeats cost the mixer the same as distinct ones
    return {"type": "mix.request", "election_id": "bench", "stage": 0, "public_key": keys.public.hex(),
            "context": mix_context("bench", 0, "bench-mixer").hex(), "ciphertexts": [ct.to_json() for ct in cts],
            "list_hash": stages.list_hash(cts)}


def _node_round_trip(runner, request: dict, workers: int, data_dir: str) -> dict:
    name = f"bench-mixer-w{workers}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MIXSCOPE_JOIN_TOKEN": runner.join_token}
    proc = subprocess.Popen([sys.executable, "-u", "-m", "mixscope", "node", "--url", runner.ws_url, "--name", name,
                             "--role", "mixer", "--data-dir", data_dir, "--workers", str(workers)],
                            env=env, stdout=subprocess.PIPE, text=True)
    try:
        client_id = key = None
        event: dict = {"event": "no output"}
        assert proc.stdout is not None  # a pipe
        for line in proc.stdout:
            event = json.loads(line)
            key = event.get("public_key") or key
            if event["event"] == "welcomed":
                client_id = event["client_id"]
                break
        frames = chunks.split(protocol.encode(request)) or [request]  # [] means: small, send it whole
        started = time.perf_counter()
        for frame in frames:
            runner.call("send", {"client_id": client_id, "message": frame}).result(30)
        progress = 0
        for line in proc.stdout:
            event = json.loads(line)
            progress += event["event"] == "progress"
            if event["event"] in ("replied", "request_failed"):
                break
        if client_id is None or event["event"] != "replied":
            raise RuntimeError(f"the mixer node did not mix: {event}")
        deadline = time.monotonic() + 300
        while True:  # the reply is on the board once the server has checked its signature and logged it
            stored = [m for m in runner.board.signed_messages(sender_key=key) if m.type == "mix.response"]
            if stored:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the server never logged the mixer's signed reply")
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        reply_text = protocol.encode(stored[0].body)
        return {"workers": workers, "seconds": round(seconds, 3), "event": event["event"],
                "request_frames": len(frames), "reply_bytes": len(reply_text),
                "reply_frames": len(chunks.split(reply_text)) or 1, "progress_reports": progress}
    finally:
        proc.terminate()
        proc.wait(30)


def run(args) -> int:
    from mixscope.server.runner import ServerRunner  # the server only for this bench, not for `mixscope bench crypto`

    n = args.n
    request = _request(n)
    inputs = [elgamal.Ciphertext.from_json(c) for c in request["ciphertexts"]]
    started = time.perf_counter()
    shuffle.shuffle_and_prove(bytes.fromhex(request["public_key"]), inputs, bytes.fromhex(request["context"]))
    compute = time.perf_counter() - started
    report = {"n": n, "cores": os.cpu_count(), "request_bytes": len(protocol.encode(request)),
              "compute_seconds": round(compute, 3), "nodes": []}
    with tempfile.TemporaryDirectory() as tmp:
        runner = ServerRunner(port=0, data_dir=os.path.join(tmp, "board"))
        runner.start()
        try:
            for workers in (1, 2):
                result = _node_round_trip(runner, request, workers, os.path.join(tmp, "nodes"))
                result["round_trip_over_compute"] = round(result["seconds"] / compute, 3)
                report["nodes"].append(result)
        finally:
            runner.stop()
    report["backend"] = backend()
    print(json.dumps(report, indent=2))
    return 0

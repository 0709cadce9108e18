"""`mixscope bench server`: the server, bridge and node layer on loopback, in one run.

- bridge "roll_call" round trip to N real `mixscope node` processes (p50 / p99 ms), the Roll call action's path;
- inbound frames/s one websocket client gets through the server (parse, count, one event each);
- how long SIGTERM takes to end every node, and how long stop() takes with nodes still connected.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import websocket

from mixscope.mixnet.group import backend
from mixscope.server.runner import ServerRunner


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench: {what} did not happen within {timeout} s")
        time.sleep(0.05)


def _mixers(runner) -> int:
    return sum(c["role"] == "mixer" for c in runner.call("clients").result(10)["clients"])


def _roll_call_latency(runner, nodes: int, rounds: int) -> dict:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = runner.call("roll_call", {"timeout": 10}).result(20)
        times.append((time.perf_counter() - started) * 1000)
        if len(result["replies"]) != nodes:
            raise RuntimeError(f"bench: a roll call got {len(result['replies'])} of {nodes} replies")
    times.sort()
    return {"roll_call_rounds": rounds, "roll_call_ms_p50": round(statistics.median(times), 2),
            "roll_call_ms_p99": round(times[max(0, int(0.99 * rounds) - 1)], 2)}


def _inbound_rate(runner, frames: int) -> float:
    ws = websocket.create_connection(runner.ws_url, timeout=10)
    try:
        ws.send(json.dumps({"type": "hello", "name": "bench-sender", "role": "voter"}))
        ws.recv()
        frame = json.dumps({"type": "error", "reason": "bench " + "x" * 40})
        started = time.perf_counter()
        for _ in range(frames):
            ws.send(frame)

        def counted() -> bool:
            clients = runner.call("clients").result(10)["clients"]
            return any(c["name"] == "bench-sender" and c["msgs_in"] > frames for c in clients)

        _wait(counted, 60, "counting every frame")
        return frames / (time.perf_counter() - started)
    finally:
        ws.close()


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="mixscope-bench-server-") as data_dir:
        runner = ServerRunner(port=0, data_dir=data_dir)
        runner.start()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_DATA_HOME": data_dir}
        procs = [subprocess.Popen([sys.executable, "-u", "-m", "mixscope", "node", "--url", runner.ws_url,
                                   "--name", f"bench-m{i}", "--data-dir", data_dir], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(args.nodes)]
        try:
            _wait(lambda: _mixers(runner) == args.nodes, 60, f"{args.nodes} nodes connecting")
            report = {"bench": "server", "nodes": args.nodes, **_roll_call_latency(runner, args.nodes, args.rounds)}
            report["inbound_frames"] = args.frames
            report["inbound_frames_per_s"] = round(_inbound_rate(runner, args.frames))
            started = time.perf_counter()
            runner.stop()  # with every node still connected
            report["stop_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            for proc in procs:
                proc.terminate()
            codes = [proc.wait(20) for proc in procs]
            report["nodes_sigterm_exit_s"] = round(time.perf_counter() - started, 3)
            report["nodes_exit_codes"] = sorted(set(codes))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            runner.stop()
    report["backend"] = backend()
    print(json.dumps(report))
    return 0

"""`mixscope bench load --json`: many websocket clients on one server, and many voters casting at once.

Websockets: a real server (ServerRunner, loopback) here; N clients in a child process (one asyncio loop,
tornado's websocket_connect), so client work never shares this process's GIL with the server. Every client
says hello and waits for its welcome; the server must list all N. Then each client sends hellos one after
another (each answered by a welcome: a real round trip through the hub): first two clients alone, then all N
at once. Reported: connect time, server RSS delta per connection, round trips/s and p50/p99 for both.

Ballots: `client.voters.simulate_voters` casts B real encrypted ballots, each signed with its own listed voter
credential (B credentials made for the run), with C concurrent posting threads
through the JSON API; afterwards every receipt is compared with the board: each acknowledged ballot stored
exactly once, at its position, with its tracking hash. The ballot rate limit is lifted for this run (every
voter here shares one loopback address; server/ratelimit.py).
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from typing import Any

import psutil

from mixscope.mixnet.group import backend
from mixscope.server.ratelimit import BallotLimits
from mixscope.server.runner import ServerRunner

CANDIDATES = ["yes", "no", "abstain"]


def raise_open_files_limit(needed: int) -> int:
    """Lift the soft RLIMIT_NOFILE towards the hard limit so `needed` sockets fit; returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(max(soft, needed), hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- the client side (runs in the child: `python -m mixscope.bench_load client URL N ROUNDS`) -------------

async def _clients_main(url: str, n: int, rounds: int) -> None:
    import asyncio

    from tornado.websocket import websocket_connect

    async def connect(i: int):
        ws = await websocket_connect(url, max_message_size=1 << 20)
        await ws.write_message(json.dumps({"type": "hello", "name": f"load-{i}", "role": "observer"}))
        reply = json.loads(await ws.read_message() or "{}")
        if reply.get("type") != "welcome":
            raise RuntimeError(f"client {i} got {reply}")
        return ws

    started = time.perf_counter()
    sockets = []
    for k in range(0, n, 100):  # in waves of 100: the listen backlog stays small
        sockets += await asyncio.gather(*(connect(i) for i in range(k, min(n, k + 100))))
    _say({"connected": len(sockets), "connect_seconds": round(time.perf_counter() - started, 3)})
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # the parent has counted us

    async def ping_pong(i: int, ws) -> list[float]:
        times = []
        hello = json.dumps({"type": "hello", "name": f"load-{i}", "role": "observer"})
        for _ in range(rounds):
            sent = time.perf_counter()
            await ws.write_message(hello)
            if json.loads(await ws.read_message()).get("type") != "welcome":
                raise RuntimeError("round trip got no welcome")
            times.append(time.perf_counter() - sent)
        return times

    # One client at a time while all N stay connected: the latency a node sees on a busy-but-calm server.
    calm = sorted(await ping_pong(0, sockets[0]) + await ping_pong(n // 2, sockets[n // 2]))
    # Then every client at once, each waiting for its reply before the next: the server saturated.
    started = time.perf_counter()
    results = await asyncio.gather(*(ping_pong(i, ws) for i, ws in enumerate(sockets)))
    seconds = time.perf_counter() - started
    rtts = sorted(t for per_client in results for t in per_client)
    _say({"round_trips": len(rtts), "rtt_seconds": round(seconds, 3),
          "rtt_ms_one_at_a_time": {"p50": _ms(calm, 0.50), "p99": _ms(calm, 0.99)},
          "rtt_ms_all_at_once": {"p50": _ms(rtts, 0.50), "p99": _ms(rtts, 0.99), "max": _ms(rtts, 1.0)}})
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for ws in sockets:
        ws.close()


def _ms(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return round(1000 * sorted_values[index], 2)


def _say(data: dict) -> None:
    print(json.dumps(data), flush=True)


# --- the server side ----------------------------------------------------------------------------------------

def _listed_clients(runner: ServerRunner) -> int:
    return sum(
        1 for c in runner.call("clients", {}).result(30)["clients"] if str(c.get("name", "")).startswith("load-")
    )


def measure_websockets(n: int, rounds: int) -> dict:
    limit = raise_open_files_limit(n + 200)
    with tempfile.TemporaryDirectory(prefix="mixscope-load-") as data_dir:
        runner = ServerRunner(port=0, data_dir=data_dir, ping_interval=5.0)
        runner.start()
        me = psutil.Process()
        child = None
        try:
            time.sleep(0.5)  # let start-up allocation settle before the baseline
            rss_before = me.memory_info().rss
            child = subprocess.Popen([sys.executable, "-m", "mixscope.bench_load", "client", runner.ws_url, str(n),
                                      str(rounds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            connected = _read(child)
            deadline = time.monotonic() + 30
            while (listed := _listed_clients(runner)) < n and time.monotonic() < deadline:
                time.sleep(0.1)
            rss_after = me.memory_info().rss
            assert child.stdin is not None  # a pipe
            child.stdin.write("go\n")
            child.stdin.flush()
            trips = _read(child)
            child.stdin.write("close\n")
            child.stdin.flush()
            child.wait(60)
        finally:
            if child is not None and child.poll() is None:
                child.kill()
                child.wait()
            runner.stop()
    return {
        "clients": n,
        "accepted": connected["connected"],
        "listed": listed,
        "connect_seconds": connected["connect_seconds"],
        "server_rss_mb": round(rss_after / 2**20, 1),
        "server_kb_per_connection": round((rss_after - rss_before) / 1024 / n, 1),
        "round_trips": trips["round_trips"],
        "round_trips_per_second": round(trips["round_trips"] / trips["rtt_seconds"], 1),
        "rtt_ms_one_at_a_time": trips["rtt_ms_one_at_a_time"],
        "rtt_ms_all_at_once": trips["rtt_ms_all_at_once"],
        "open_files_limit": limit,
    }


def _read(child: subprocess.Popen) -> dict:
    assert child.stdout is not None  # a pipe
    line = child.stdout.readline()
    if not line:
        raise RuntimeError(f"the load client exited early (code {child.wait()})")
    return json.loads(line)


def measure_ballots(n: int, concurrency: int, workers: int | None = None, post_batch: int = 1) -> dict:
    """post_batch 1 (default): every voter posts its own ballot, one request each, like real voters do."""
    from mixscope.bench_election import open_voting_election
    from mixscope.client.voters import simulate_voters

    with tempfile.TemporaryDirectory(prefix="mixscope-load-") as data_dir:
        runner = ServerRunner(port=0, data_dir=data_dir, ballot_limits=BallotLimits.off())
        runner.start()
        try:
            board = runner.board
            election_id, _, held = open_voting_election(board, CANDIDATES, prefix="load", question="Load?", voters=n)
            choices = [secrets.randbelow(len(CANDIDATES)) for _ in range(n)]
            started = time.perf_counter()
            receipts = simulate_voters(runner.url, election_id, choices, concurrency=concurrency, workers=workers,
                                       post_batch=post_batch, credentials=held)
            seconds = time.perf_counter() - started
            stored = board.ballots(election_id)
        finally:
            runner.stop()
    by_voter = {b.voter_id: b for b in stored}
    matching = sum(1 for r in receipts if r and r["voter_id"] in by_voter
                   and by_voter[r["voter_id"]].tracking_hash == r["receipt"]
                   and by_voter[r["voter_id"]].position == r["position"])
    return {
        "ballots": n,
        "concurrency": concurrency,
        "ballots_per_request": post_batch,
        "acknowledged": sum(1 for r in receipts if r),
        "stored": len(stored),
        "stored_once": len(by_voter) == len(stored) and len({b.position for b in stored}) == len(stored),
        "receipts_matching_board": matching,
        "seconds": round(seconds, 2),
        "ballots_per_second": round(n / seconds, 1),
    }


def run(args) -> int:
    report: dict[str, Any] = {"cores": os.cpu_count()}
    if not args.skip_websockets:
        report["websockets"] = measure_websockets(args.clients, args.rounds)
    if not args.skip_ballots:
        report["ballots"] = measure_ballots(args.ballots, args.voters, post_batch=getattr(args, "post_batch", 1))
    report["backend"] = backend()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["client"]:
    import asyncio

    raise_open_files_limit(int(sys.argv[3]) + 100)
    asyncio.run(_clients_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))

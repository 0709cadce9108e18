"""`mixscope bench voters --n 1000 --json [--tally homomorphic]`: ballots per second through the real JSON API.

A real server (ServerRunner on a loopback port, a board in a temporary directory) with one election in the
voting state, and the voter simulator casting N real encrypted ballots over keep-alive HTTP. Reported: the
end-to-end rate, the encryption-only rate of the same pool size (what the voters' side alone could do),
and the server alone on pre-encrypted ballots (verify one signature and one proof + one durable commit + HTTP
per ballot). Every ballot is signed with a listed voter credential, as real ones are.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

from mixscope.bench_election import open_voting_election
from mixscope.client.vote import BallotApi
from mixscope.client.voters import encrypt_batch, simulate_voters
from mixscope.mixnet import credentials
from mixscope.mixnet.group import backend
from mixscope.server.election import lab
from mixscope.server.runner import ServerRunner

CANDIDATES = ["yes", "no", "abstain"]


def measure(n: int, concurrency: int, workers: int | None, post_batch: int = 200, tally: str = "mixnet") -> dict:
    with tempfile.TemporaryDirectory(prefix="mixscope-bench-") as data_dir:
        runner = ServerRunner(port=0, data_dir=data_dir)
        runner.start()
        try:
            board = runner.board
            election_id, public_key, held = open_voting_election(board, CANDIDATES, threshold=2, trustee_count=3,
                                                                 voters=n)
            lab.save(Path(data_dir), election_id, lab.LabSettings(tally=tally))  # what a ballot is

            # Encryption and signing alone, in this process, on a small sample: the voters' cost per ballot.
            sample = min(n, 50)
            start = time.perf_counter()
            encrypt_batch(public_key, election_id, len(CANDIDATES), [(i, held[i], i % 3) for i in range(sample)],
                          tally)
            encrypt_ms = 1000 * (time.perf_counter() - start) / sample

            choices = [secrets.randbelow(len(CANDIDATES)) for _ in range(n)]
            start = time.perf_counter()
            receipts = simulate_voters(runner.url, election_id, choices, concurrency=concurrency, workers=workers,
                                       post_batch=post_batch, credentials=held)
            seconds = time.perf_counter() - start
            stored = board.count_ballots(election_id)
            server_rate = _server_only_rate(runner.url, board, public_key, min(n, 500), concurrency, tally)
        finally:
            runner.stop()
    return {
        "ballots": n,
        "tally": tally,
        "stored": stored,
        "receipts": len(receipts),
        "seconds": round(seconds, 3),
        "ballots_per_second": round(n / seconds, 1),
        "encrypt_ms_per_ballot_one_core": round(encrypt_ms, 2),
        "server_only_ballots_per_second": round(server_rate, 1),
        "concurrency": concurrency,
        "post_batch": post_batch,
        "workers": workers or os.cpu_count(),
        "cores": os.cpu_count(),
    }


def _server_only_rate(url: str, board, public_key: bytes, n: int, concurrency: int, tally: str = "mixnet") -> float:
    """Ballots/s the server takes when the ballots are already encrypted: verify + commit + HTTP only."""
    election_id = "bench" + secrets.token_hex(4)
    held = credentials.generate(n)
    board.create_election(election_id, "Benchmark?", CANDIDATES, 1, 1, 1, [c.voter_id for c in held])
    board.set_state(election_id, "key_ceremony")
    board.set_public_key(election_id, public_key.hex())  # any valid key will do for verifying
    board.set_state(election_id, "voting")
    lab.save(Path(board.path).parent, election_id, lab.LabSettings(tally=tally))
    jobs = [(i, held[i], i % 3) for i in range(n)]
    encrypted = encrypt_batch(public_key, election_id, len(CANDIDATES), jobs, tally)
    chunks = [encrypted[k::concurrency] for k in range(concurrency)]

    def post(chunk):
        with BallotApi(url) as api:
            for _, voter, ballot in chunk:
                api.cast(election_id, voter, ballot)

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, chunks))
    return n / (time.perf_counter() - start)


def run(args) -> int:
    report = measure(args.n, args.concurrency, args.workers, args.post_batch, getattr(args, "tally", "mixnet"))
    report["backend"] = backend()
    print(json.dumps(report, indent=2))
    return 0

"""The voter simulator: many voters casting real encrypted ballots through the server's JSON API.

Encryption (mixnet.ballots.cast: an ElGamal encryption, a Schnorr and a disjunctive proof) is CPU-bound, so
it runs in a process pool, in batches; posting is I/O-bound, so a few threads each hold one keep-alive
HTTP connection. Encryption of later batches overlaps with posting of earlier ones.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import queue
import secrets
import threading
from typing import Callable, Sequence

from client.vote import ApiError, BallotApi, public_key_of
from mixnet import ballots

BATCH = 25  # ballots per encryption job: big enough to amortise pickling, small enough to start posting soon
IN_PROCESS_BELOW = 40  # fewer ballots than this: encrypt here, a pool's start-up would cost more
_DONE = object()


class SimulationError(Exception):
    """Some ballots were refused or could not be sent; `errors` maps voter index -> reason."""

    def __init__(self, errors: dict[int, str], receipts: list[dict | None]):
        first = next(iter(sorted(errors.items())))
        super().__init__(f"{len(errors)} of {len(receipts)} ballots failed; first: voter {first[0]}: {first[1]}")
        self.errors, self.receipts = errors, receipts


def encrypt_batch(public_key: bytes, election_id: str, candidates: int, jobs: list[tuple[int, str, int]]) -> list:
    """(index, voter_id, ballot JSON) for each (index, voter_id, choice). Module-level: runs in the pool."""
    return [(i, voter, ballots.cast(public_key, election_id, voter, candidates, choice).to_json())
            for i, voter, choice in jobs]


def simulate_voters(
    base_url: str,
    election_id: str,
    choices: Sequence[int],
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
    *,
    voter_prefix: str | None = None,
    workers: int | None = None,
) -> list[dict]:
    """Cast one ballot per entry of `choices` (0-based candidate indices) for voters `<prefix><i+1>`; return
    the receipts in the same order. `progress(done, total)` is called from the posting threads. Raises
    ApiError if the election cannot be read or is not voting, SimulationError if any ballot was refused."""
    total = len(choices)
    with BallotApi(base_url) as api:
        election = api.election(election_id)
    if election.get("state") != "voting":
        raise ApiError(409, f"election {election_id!r} is {election.get('state')}, not voting")
    public_key, candidates = public_key_of(election), len(election["candidates"])
    for choice in choices:
        if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < candidates:
            raise ValueError(f"every choice must be an index 0..{candidates - 1}, got {choice!r}")
    prefix = voter_prefix if voter_prefix is not None else f"sim-{secrets.token_hex(4)}-"
    jobs = [(i, f"{prefix}{i + 1}", choice) for i, choice in enumerate(choices)]
    batches = [jobs[k:k + BATCH] for k in range(0, total, BATCH)]

    receipts: list[dict | None] = [None] * total
    errors: dict[int, str] = {}
    done = [0]
    lock = threading.Lock()
    outbox: queue.Queue = queue.Queue(maxsize=8 * BATCH)  # bounded: encryption cannot run far ahead

    def post_loop() -> None:
        with BallotApi(base_url) as poster:
            while (item := outbox.get()) is not _DONE:
                index, voter, ballot = item
                try:
                    receipt, error = poster.cast(election_id, voter, ballot), None
                except Exception as exc:  # recorded, never fatal: a dead poster would stall the queue
                    receipt, error = None, str(exc) if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
                with lock:
                    receipts[index] = receipt
                    if error is not None:
                        errors[index] = error
                    done[0] += 1
                    count = done[0]
                if progress is not None:
                    progress(count, total)

    posters = [threading.Thread(target=post_loop, name=f"voter-post-{k}", daemon=True)
               for k in range(max(1, min(concurrency, total)))]
    for thread in posters:
        thread.start()
    try:
        for batch in _encrypted(batches, public_key, election_id, candidates, total, workers):
            for item in batch:
                outbox.put(item)
    finally:
        for _ in posters:
            outbox.put(_DONE)
        for thread in posters:
            thread.join()
    if errors:
        raise SimulationError(errors, receipts)
    return receipts  # type: ignore[return-value]


def _encrypted(batches, public_key, election_id, candidates, total, workers):
    """Yield encrypted batches as they are ready (in a process pool unless there are only a few)."""
    if total < IN_PROCESS_BELOW or workers == 0:
        for batch in batches:
            yield encrypt_batch(public_key, election_id, candidates, batch)
        return
    workers = workers or os.cpu_count() or 1
    # spawn, not fork: the caller (the panel, the server's own process) has threads a fork would copy mid-work.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(encrypt_batch, public_key, election_id, candidates, b) for b in batches]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

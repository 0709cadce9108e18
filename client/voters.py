"""The voter simulator: many voters casting real encrypted ballots through the server's JSON API.

Every simulated voter holds a real credential (mixnet/credentials.py) whose public key is on the election's list:
its ballot is keyed by that public credential and signed with it. Encryption and signing (mixnet.credentials.cast:
an ElGamal encryption, a Schnorr proof and an Ed25519 signature; in a homomorphic election one encryption per
candidate with its proofs, mixnet/homomorphic.py) are CPU-bound, so
it runs in a process pool, in batches; posting is I/O-bound, so a few threads each hold one keep-alive
HTTP connection. Encryption of later batches overlaps with posting of earlier ones. By default ballots are
posted `post_batch` at a time in one request ({"ballots": [...]}, one board commit on the server); post_batch=1
posts them one by one (what the load benchmark measures).
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from typing import Any, Callable, Sequence

from mixscope.client.http_api import ApiError
from mixscope.client.vote import MAX_RETRY_WAIT, RATE_LIMIT_RETRIES, BallotApi, public_key_of
from mixscope.mixnet import credentials as credentials_mod
from mixscope.mixnet import homomorphic
from mixscope.mixnet.credentials import Credential

BATCH = 25  # ballots per encryption job: big enough to amortise pickling, small enough to start posting soon
POST_BATCH = 200  # ballots per POST: amortises HTTP and the board's fsync; the server allows up to 1,000
IN_PROCESS_BELOW = 40  # fewer ballots than this: encrypt here, a pool's start-up would cost more
CHILD_PROGRESS_EVERY = 0.2  # seconds between progress lines from a child simulator
_DONE = object()


class SimulationError(Exception):
    """Some ballots were refused or could not be sent; `errors` maps voter index -> reason."""

    def __init__(self, errors: dict[int, str], receipts: list[dict | None]):
        first = next(iter(sorted(errors.items())))
        super().__init__(f"{len(errors)} of {len(receipts)} ballots failed; first: voter {first[0]}: {first[1]}")
        self.errors, self.receipts = errors, receipts


def encrypt_batch(public_key: bytes, election_id: str, candidates: int, jobs: list[tuple[int, Credential, int]],
                  mode: str = homomorphic.MIXNET) -> list:
    """(index, voter_id, signed ballot JSON) for each (index, credential, choice): a ballot of the election's
    tally `mode`, keyed by the public credential. Module-level: runs in the pool (credentials reach it through
    a pipe, never a command line)."""
    return [(i, credential.voter_id, homomorphic.cast_signed(mode, credential, public_key, election_id, candidates,
                                                             choice).to_json())
            for i, credential, choice in jobs]


def simulate_voters(
    base_url: str,
    election_id: str,
    choices: Sequence[int],
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
    *,
    credentials: Sequence[Credential],
    workers: int | None = None,
    post_batch: int = POST_BATCH,
    cafile: str | None = None,
) -> list[dict]:
    """Cast one ballot per entry of `choices` (0-based candidate indices), ballot i signed with
    `credentials[i]` (its voter id is that public credential); return the receipts in the same order,
    `post_batch` ballots per request (1: one request per ballot). `cafile`: a CA to trust for https.
    `progress(done, total)` is called from the posting threads. Raises
    ApiError if the election cannot be read or is not voting, SimulationError if any ballot was refused."""
    total = len(choices)
    if isinstance(post_batch, bool) or not isinstance(post_batch, int) or not 1 <= post_batch <= 1000:
        raise ValueError(f"post_batch must be 1..1000, got {post_batch!r}")
    with BallotApi(base_url, cafile=cafile) as api:
        election = api.election(election_id)
    if election.get("state") != "voting":
        raise ApiError(409, f"election {election_id!r} is {election.get('state')}, not voting")
    public_key, candidates = public_key_of(election), len(election["candidates"])
    mode = election.get("tally", homomorphic.MIXNET)
    for choice in choices:
        if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < candidates:
            raise ValueError(f"every choice must be an index 0..{candidates - 1}, got {choice!r}")
    if len(credentials) != total:
        raise ValueError(f"{total} choices need {total} credentials, got {len(credentials)}")
    jobs = [(i, credential, choice) for i, (credential, choice) in enumerate(zip(credentials, choices))]
    batches = [jobs[k:k + BATCH] for k in range(0, total, BATCH)]

    receipts: list[dict | None] = [None] * total
    errors: dict[int, str] = {}
    done = [0]
    lock = threading.Lock()
    outbox: queue.Queue = queue.Queue(maxsize=2 * concurrency)  # bounded: encryption cannot run far ahead

    def post_loop() -> None:
        with BallotApi(base_url, cafile=cafile) as poster:
            while (chunk := outbox.get()) is not _DONE:
                outcomes = _post_chunk(poster, election_id, chunk)
                with lock:
                    for (index, _, _), (receipt, error) in zip(chunk, outcomes):
                        receipts[index] = receipt
                        if error is not None:
                            errors[index] = error
                    done[0] += len(chunk)
                    count = done[0]
                if progress is not None:
                    for k in range(count - len(chunk) + 1, count + 1):  # one call per ballot, as documented
                        progress(k, total)

    posters = [threading.Thread(target=post_loop, name=f"voter-post-{k}", daemon=True)
               for k in range(max(1, min(concurrency, total)))]
    for thread in posters:
        thread.start()
    try:
        pending: list = []
        for batch in _encrypted(batches, public_key, election_id, candidates, total, workers, mode):
            pending.extend(batch)
            while len(pending) >= post_batch:
                outbox.put(pending[:post_batch])
                del pending[:post_batch]
        if pending:
            outbox.put(pending)
    finally:
        for _ in posters:
            outbox.put(_DONE)
        for thread in posters:
            thread.join()
    if errors:
        raise SimulationError(errors, receipts)
    return receipts  # type: ignore[return-value]


def _post_chunk(poster: BallotApi, election_id: str, chunk: list) -> list[tuple[dict | None, str | None]]:
    """(receipt, None) or (None, reason) per ballot of the chunk; never raises (a dead poster would stall)."""
    try:
        if len(chunk) == 1:
            _, voter, ballot = chunk[0]
            return [(poster.cast(election_id, voter, ballot), None)]
        results = _cast_batch(poster, election_id, [{"voter_id": v, "ballot": b} for _, v, b in chunk])
    except Exception as exc:
        reason = str(exc) if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
        return [(None, reason)] * len(chunk)
    if len(results) != len(chunk):
        return [(None, f"the server answered {len(results)} results for {len(chunk)} ballots")] * len(chunk)
    outcomes: list[tuple[dict[str, Any] | None, str | None]] = []
    for result in results:
        if result.get("status", 500) >= 400:
            outcomes.append((None, f"{result.get('status')}: {result.get('error')}"))
        else:
            outcomes.append(({k: result[k] for k in ("receipt", "position", "election_id", "voter_id")}, None))
    return outcomes


def _cast_batch(poster: BallotApi, election_id: str, entries: list[dict]) -> list[dict]:
    """POST one batch; waits out a 429 (the whole request over the address limit) like BallotApi.cast."""
    path = f"/api/elections/{urllib.parse.quote(election_id, safe='')}/ballots"
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return poster.request("POST", path, {"ballots": entries})[1]["results"]
        except ApiError as exc:
            if exc.status != 429 or attempt == RATE_LIMIT_RETRIES:
                raise
            time.sleep(min(exc.retry_after or 1.0, MAX_RETRY_WAIT))
    raise AssertionError("unreachable")


def _background() -> None:
    """Lower CPU priority (the child simulator and its encryption pool), so the simulated voters' work never starves the
    process that started them (the panel's GUI thread, the server it hosts)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), 10))
    except (AttributeError, OSError):
        pass


def _encrypted(batches, public_key, election_id, candidates, total, workers, mode):
    """Yield encrypted batches as they are ready (in a process pool unless there are only a few)."""
    if total < IN_PROCESS_BELOW or workers == 0:
        for batch in batches:
            yield encrypt_batch(public_key, election_id, candidates, batch, mode)
        return
    workers = workers or os.cpu_count() or 1
    # spawn, not fork: the caller (the panel, the server's own process) has threads a fork would copy mid-work.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_background) as pool:
        futures = [pool.submit(encrypt_batch, public_key, election_id, candidates, b, mode) for b in batches]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def simulate_voters_in_child(
    base_url: str,
    election_id: str,
    choices: Sequence[int],
    progress: Callable[[int, int], None] | None = None,
    *,
    credentials: Sequence[Credential],
    concurrency: int = 4,
    timeout: float = 3600.0,
    cafile: str | None = None,
) -> list[dict]:
    """`simulate_voters` in a child process (`python -m mixscope.client.voters`). A process that hosts the server (the
    panel, the demo) uses this so the voters' HTTP and JSON work competes with the server for cores, not for
    its GIL. The credentials' secret keys reach the child on its stdin (never its command line). The child
    reports progress as JSON lines; `progress(done, total)` runs on the calling thread.
    Raises SimulationFailed with the child's reason if any ballot was refused or the child failed."""
    job = json.dumps({"url": base_url, "election_id": election_id, "choices": list(choices),
                      "keys": [c.secret_key.hex() for c in credentials], "concurrency": concurrency,
                      "cafile": cafile})
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen([sys.executable, "-m", "mixscope.client.voters"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=errors, text=True)
        assert child.stdin is not None and child.stdout is not None  # both are pipes
        child.stdin.write(job)
        child.stdin.close()
        receipts, reason = None, None
        for line in child.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "progress" in message and progress is not None:
                progress(*message["progress"])
            receipts = message.get("receipts", receipts)
            reason = message.get("error", reason)
        child.wait(timeout)
        errors.seek(0)
        if receipts is None:
            detail = reason or errors.read().strip()[-500:] or f"exit code {child.returncode}"
            raise SimulationFailed(f"voter simulator failed: {detail}")
    return receipts


class SimulationFailed(Exception):
    """The child simulator did not cast every ballot; the message says why."""


def _child_main() -> int:
    _background()  # the child's posting threads too: it stands in for voters elsewhere, not for this machine's panel
    job = json.loads(sys.stdin.read())
    last = [0.0]

    def report(done: int, total: int) -> None:  # posting threads: a line at most every CHILD_PROGRESS_EVERY
        now = time.monotonic()
        if done == total or now - last[0] >= CHILD_PROGRESS_EVERY:
            last[0] = now
            print(json.dumps({"progress": [done, total]}), flush=True)

    try:
        held = [credentials_mod.from_secret_key(bytes.fromhex(key)) for key in job["keys"]]  # no re-derivation
        receipts = simulate_voters(job["url"], job["election_id"], job["choices"], credentials=held,
                                   concurrency=job.get("concurrency", 4), progress=report,
                                   cafile=job.get("cafile"))
    except (ApiError, SimulationError, OSError, ValueError) as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    print(json.dumps({"receipts": receipts}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())

"""`mixscope verify RECORD`: check a published election record with the core's stand-alone verifier.

Prints one line per check (`PASS name: note` / `FAIL name: reason`) and exits 0 when all pass, 1 when any
fails (a wrong `format` string or a JSON value that is no record included: the report says which check). Only a
file that cannot be read or is not JSON at all is one line on stderr and exit 2. A record written in parts
(docs/verifier.md §2.1) is given by its index; its parts are read from beside it one at a time.
Ballot and shuffle proofs are checked on a process pool (`--workers`, default: every core), or on a
Dask cluster (`--cluster`, engine/cluster.py), which falls back to that pool if it cannot be reached.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import sys

from mixscope.engine import LocalEngine, open_engine
from mixscope.mixnet import group, record_parts
from mixscope.mixnet.verifier import all_passed, verify_record

POOL_FROM = 200  # ballots


class NotARecord(Exception):
    """The file cannot be read or is not JSON at all."""


def load_record(path: str) -> dict:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise NotARecord(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError too
        raise NotARecord(f"{path} is not JSON: {exc}") from None
    if record_parts.is_parted(doc):  # an index: each part is read from beside it when the verifier reaches it
        folder = os.path.dirname(os.path.abspath(path))
        return record_parts.PartedRecord(doc, lambda name: _read_part(folder, name))
    return doc  # any JSON value: a wrong `format` (or no object at all) is a failing check with a report, exit 1


def _read_part(folder: str, name: str) -> bytes:
    with open(os.path.join(folder, name), "rb") as handle:  # the name is a plain file name (record_parts.load)
        return handle.read()


def verify_file(path: str, workers: int | None = None, cluster: str | None = None, log=None,
                fork: bool = False) -> list:
    """fork: start the pool's workers by forking (Linux only), for a caller that knows it runs one thread, as
    the `mixscope verify` command does: they start in milliseconds with the modules loaded, where a spawned
    worker imports them again (about 0.2 CPU seconds each). Anything else (the panel) spawns them."""
    doc = load_record(path)
    if workers is None:
        workers = os.cpu_count() or 1
    if cluster:
        return _verify_on_cluster(doc, cluster, workers, log)
    if workers <= 1 or _small(doc):
        return verify_record(doc)
    method = "fork" if fork and sys.platform.startswith("linux") else "spawn"
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        for _ in range(workers):  # start every worker now: spawned ones import the crypto core while this
            pool.submit(_ready)   # process reads and checks the record's first parts, instead of after
        return verify_record(doc, map_fn=pool.map)


def _ready() -> None:
    """Pool job that does nothing: a started worker has imported this module, and so the crypto core."""


def _small(doc) -> bool:
    """A one-document record of few ballots: starting a pool would cost more than it saves. An index is big."""
    if isinstance(doc, record_parts.PartedRecord):
        return False
    ballots = doc.get("ballots") if isinstance(doc, dict) else None
    return not isinstance(ballots, list) or len(ballots) < POOL_FROM


def _verify_on_cluster(doc: dict, cluster: str, workers: int, log) -> list:
    """On the cluster's workers; on a local pool of `workers` processes if it cannot be reached or is lost."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        engine = open_engine(cluster, LocalEngine(pool), log=log)
        try:
            return verify_record(doc, map_fn=engine.map_fn())
        finally:
            engine.close()


def run(args) -> int:
    cluster = args.cluster
    log = lambda level, text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    try:
        checks = verify_file(args.record, args.workers, cluster, log, fork=True)  # this command runs one thread
    except NotARecord as exc:
        print(f"mixscope verify: {exc}", file=sys.stderr)
        return 2
    for check in checks:
        print(f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.reason}")
    passed = all_passed(checks)
    failed = sum(not c.ok for c in checks)
    print(f"{'VERIFIED' if passed else 'NOT VERIFIED'}: {len(checks) - failed} of {len(checks)} checks passed "
          f"(backend: {group.backend()})")
    return 0 if passed else 1

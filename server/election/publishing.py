"""Publishing a tallied election in one process-pool job, so the server process never holds the record.

The record is tens of MB of JSON at 10,000 ballots; building it from the board, verifying it and storing it
would keep the server's GIL (which the panel's GUI thread shares) busy for seconds. Instead one pool worker
opens the board file itself (WAL: it reads while the server keeps writing), rebuilds the record, verifies it
over its own small process pool, and only if every check passes stores the record on the board (the same
transaction moves the election to "published") and writes the record file. The server gets back the checks
summary and the record's hash and path.

`full=False` verifies the record without re-verifying the ballot, stage and share proofs: this server
checked each one as it arrived and stored only what passed, so re-checking them here would repeat the most
expensive work of the election on the same machine (see mixnet.verifier.verify_record). Everything else is
checked. `full=True` runs every check, as `mixscope verify` does for anyone else.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

from mixscope.mixnet import record_parts
from mixscope.server.board import Board
from mixscope.server.election import homomorphic, records, work
from mixscope.server.executors import Executors, batched_map

PARTS_FROM = 5_000  # ballots from which the record is written as an index and parts (docs/verifier.md §2.1)


async def publish(executors: Executors, board_path: Path, election_id: str, record_path: Path,
                  full: bool) -> dict[str, Any]:
    """Build, verify, store and write the record in a pool worker (a helper thread without a pool): the server
    process never holds the record. A connected cluster verifies it on its workers."""
    job = (str(board_path), election_id, str(record_path), executors.pool_size(), full, executors.cluster_address())
    return await executors.in_pool(publish_job, job)


def publish_job(job: tuple) -> dict[str, Any]:
    """Pool job (or in-process): {ok, checks, record_hash, record} once published; {ok: False, checks} if the
    record does not verify (then nothing is stored or written)."""
    board_path, election_id, record_path, workers, full, *more = job
    cluster = more[0] if more else None  # the server's connected scheduler: the record's checks run there too
    path = Path(record_path)
    with Board(board_path) as board:
        # A homomorphic record is one document (its ballots are the only big value; not split in parts yet).
        summed = homomorphic.summed_on_board(board, election_id)
        in_parts = not summed and board.count_ballots(election_id) >= parts_from()
        doc = homomorphic.build_record(board, election_id) if summed else \
            records.build_record(board, election_id, _part_writer(path) if in_parts else None)
    parted = None
    if in_parts:  # the index reads each part from its file when the verifier reaches it (mixnet/record_parts.py)
        doc = parted = record_parts.PartedRecord(doc, lambda name: (path.parent / name).read_bytes())
    verdict = _verify_on_cluster(doc, cluster, workers, full) if cluster else _verify(doc, workers, full)
    verdict["verification"] = "full" if full else "proofs checked on arrival"
    if verdict["ok"]:
        index = dict.copy(doc)  # for an index: the references, never the parts
        with Board(board_path) as board:
            verdict["record_hash"] = board.publish_record(election_id, index)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index), encoding="utf-8")
        tmp.replace(path)
        verdict["record"] = str(path)
        if parted is not None:
            verdict["parts"] = [ref["part"] for _, ref in parted.references()]
    return verdict


def parts_from() -> int:
    """PARTS_FROM, or MIXSCOPE_RECORD_PARTS_FROM from the environment (a lab's choice; tests publish small
    elections in parts with it)."""
    try:
        return max(1, int(os.environ.get("MIXSCOPE_RECORD_PARTS_FROM", PARTS_FROM)))
    except ValueError:
        return PARTS_FROM


def _part_writer(path: Path):
    """part(name, value) for records.build_record: writes `<record stem>.<name>.json` beside the record and
    returns its reference (docs/verifier.md §2.1)."""

    def part(name: str, value: Any) -> dict:
        data = record_parts.encode(value)
        file = path.with_name(f"{path.stem}.{name}.json")
        tmp = file.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(file)
        return record_parts.reference(file.name, data)

    return part


def _verify_on_cluster(doc: dict, cluster: str, workers: int, full: bool) -> dict[str, Any]:
    """On the scheduler's workers; on this process's own pool if the scheduler is gone (engine/cluster.py)."""
    from mixscope.engine import LocalEngine, open_engine

    engine = open_engine(cluster, LocalEngine())
    try:
        if engine.state != "connected":
            return _verify(doc, workers, full)
        return work.verify_record_doc(doc, engine.map_fn(), not full)
    finally:
        engine.close()


def _verify(doc: dict, workers: int, full: bool) -> dict[str, Any]:
    if workers <= 1:
        return work.verify_record_doc(doc, map, not full)
    # fork: this worker is single-threaded, and its children start in milliseconds with the modules loaded.
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return work.verify_record_doc(doc, batched_map(pool), not full)

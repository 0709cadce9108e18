"""The shuffle's generators h_0 … h_N on disk, shared by the nodes of one data directory.

They are public constants of N alone (docs/verifier.md, "Independent generators"), yet deriving 10,001 of
them costs each mixer process about 0.4 s of every stage it mixes. The file is the elements concatenated
after a SHA-256 of them (a torn or damaged file is ignored), written atomically, and mixnet recomputes a
few of them before adopting the rest.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from mixscope.client.identity import ensure_private_dir
from mixscope.mixnet import _shuffle_spec as spec

FILE_NAME = "shuffle-generators-v1.bin"


def _path(data_dir) -> Path:
    return ensure_private_dir(data_dir) / FILE_NAME


def load(data_dir) -> int:
    """Adopt the generators on disk; how many this process now knows."""
    try:
        raw = _path(data_dir).read_bytes()
    except OSError:
        return len(spec.known_generators())
    digest, body = raw[:32], raw[32:]
    if len(body) % 32 == 0 and body and hashlib.sha256(body).digest() == digest:
        spec.adopt_generators([body[i : i + 32] for i in range(0, len(body), 32)])
    return len(spec.known_generators())


def store(data_dir, on_disk: int) -> None:
    """Write this process's generators if it knows more than the `on_disk` count that load() found."""
    known = spec.known_generators()
    if len(known) <= on_disk:
        return
    path = _path(data_dir)
    body = b"".join(known)
    tmp = path.with_name(f"{FILE_NAME}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(hashlib.sha256(body).digest() + body)
        os.replace(tmp, path)
    except OSError:  # a cache: failing to write it only costs the next process the derivation
        tmp.unlink(missing_ok=True)

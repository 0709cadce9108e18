"""The public, deterministic parts of the shuffle proof that prover and verifier must agree on: domain tags,
the independent generators, and the Fiat–Shamir hashes (the tags themselves live in mixnet/transcript.py).
docs/verifier.md specifies exactly these bytes.

Nothing here touches a witness; the verifier shares these functions with the prover because they ARE the
specification, not because they carry any of the prover's intermediate values.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Callable, Sequence

from mixscope.mixnet import group
from mixscope.mixnet.transcript import (
    CHALLENGE_TAG,
    GENERATORS_TAG,
    STATEMENT_TAG,
    U_TAG,
    framed,
    hash_to_element,
    hash_to_scalar,
)

_CHUNK = 512

# Generators are public constants of (tag, index); derived lazily and kept, since every stage of an election
# with N ballots needs the same first N+1 of them.
_generator_cache: list[bytes] = []
_generator_sums: dict[int, bytes] = {}


def generators(count: int, map_fn: Callable[..., Any] = map) -> list[bytes]:
    """h_0 .. h_{count-1}: h_i = hash_to_element(GENERATORS_TAG, i as 4-byte big-endian)."""
    have = len(_generator_cache)
    if count > have:
        spans = [(lo, min(lo + _CHUNK, count)) for lo in range(have, count, _CHUNK)]
        for part in map_fn(generator_chunk, spans):
            _generator_cache.extend(part)
    return _generator_cache[:count]


def generator_sum(n: int, map_fn: Callable[..., Any] = map) -> bytes:
    """h_1 + ... + h_n, which the verifier's first equation needs; kept per n like the generators."""
    if n not in _generator_sums:
        hs = generators(n + 1, map_fn)[1:]
        acc = group.IDENTITY
        for part in map_fn(sum_chunk, [hs[lo : lo + _CHUNK] for lo in range(0, n, _CHUNK)]):
            acc = group.add(acc, part)
        _generator_sums[n] = acc
    return _generator_sums[n]


def sum_chunk(points: list[bytes]) -> bytes:
    acc = group.IDENTITY
    for p in points:
        acc = group.add(acc, p)
    return acc


def generator_chunk(span: tuple[int, int]) -> list[bytes]:
    lo, hi = span
    return [hash_to_element(GENERATORS_TAG, i.to_bytes(4, "big")) for i in range(lo, hi)]


def known_generators() -> list[bytes]:
    """The generators derived (or adopted) so far in this process, h_0 first."""
    return list(_generator_cache)


def adopt_generators(elements: list[bytes]) -> bool:
    """Take generators derived elsewhere (a node's cache on disk) after recomputing the first, the last and a
    few random ones of them; False, and nothing taken, if any differs."""
    have, count = len(_generator_cache), len(elements)
    if count <= have:
        return True
    probes = {0, count - 1, *(secrets.randbelow(count) for _ in range(4))}
    if any(generator_chunk((i, i + 1))[0] != elements[i] for i in sorted(probes)):
        return False
    if elements[:have] != _generator_cache:
        return False
    _generator_cache.extend(elements[have:])
    return True


def clear_generator_cache() -> None:
    """For benchmarks that must pay the derivation cost in each phase."""
    _generator_cache.clear()
    _generator_sums.clear()


def _concat_ciphertexts(cts: Sequence[tuple[bytes, bytes]]) -> bytes:
    return b"".join(a + b for a, b in cts)


def statement_digest(
    public: bytes,
    inputs: Sequence[tuple[bytes, bytes]],
    outputs: Sequence[tuple[bytes, bytes]],
    commitments: list[bytes],
    context: bytes,
) -> bytes:
    """SHA-512 over the whole statement and the permutation commitment (what the u_i may depend on)."""
    n = len(inputs)
    return hashlib.sha512(
        framed(
            STATEMENT_TAG,
            (
                group.GROUP_NAME.encode(),
                group.GENERATOR,
                GENERATORS_TAG.encode(),
                n.to_bytes(8, "big"),
                public,
                bytes(context),
                _concat_ciphertexts(inputs),
                _concat_ciphertexts(outputs),
                b"".join(commitments),
            ),
        )
    ).digest()


def challenges(digest: bytes, count: int) -> list[int]:
    """u_1..u_N (returned 0-based): u_i = hash_to_scalar(U_TAG, digest, i as 4-byte big-endian), i from 1."""
    return challenge_chunk((digest, 0, count))


def challenge_chunk(job: tuple[bytes, int, int]) -> list[int]:
    """(digest, lo, hi) -> challenges(digest, N)[lo:hi], for any N >= hi: a map_fn job, so a pool derives the
    N hashes in parallel."""
    digest, lo, hi = job
    prefix = framed(U_TAG, (digest,)) + (4).to_bytes(4, "big")
    sha, order = hashlib.sha512, group.ORDER
    return [int.from_bytes(sha(prefix + i.to_bytes(4, "big")).digest(), "little") % order
            for i in range(lo + 1, hi + 1)]


def challenge(
    digest: bytes, chain: list[bytes], t1: bytes, t2: bytes, t3: bytes, t4a: bytes, t4b: bytes, t_hat: list[bytes]
) -> int:
    """The final challenge c, binding the statement digest, the commitment chain and every t."""
    return hash_to_scalar(CHALLENGE_TAG, digest, b"".join(chain), t1, t2, t3, t4a, t4b, b"".join(t_hat))

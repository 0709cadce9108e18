"""The hot loops of the shuffle and its proof, one function per pass, each working on a chunk of indices.

They are module-level so a caller's `map_fn` can ship them to a process pool, and they call mixnet.group's
buffer functions (`mul_into`, `base_into`, `add_into`: libsodium with reused output buffers, and only
mixnet/group.py touches the binding): per scalar multiplication (~50 µs) the Python-side work is one int→bytes
conversion and one copy of the result.

Every element handed in here is used by a libsodium call that decodes it; a non-zero return code is turned
into InvalidElement, so no separate validation pass is needed (scalar multiplication also returns -1 for an
identity result, which is told apart by checking the input point). The one exception is `check_chunk`, the
verifier's part of its weighted product: public data only, so it goes through group.multi_mul_part, which may
use the variable-time native backend (decoding, and so validating, every point).
"""

from __future__ import annotations

import ctypes
from typing import Sequence

from mixscope.mixnet import _shuffle_spec as spec
from mixscope.mixnet import group
from mixscope.mixnet.group import Buffer, PointBytes
from mixscope.mixnet.group import add_into as _add_into
from mixscope.mixnet.group import base_into as _base_into
from mixscope.mixnet.group import mul_into as _mul_into

_ORDER = group.ORDER

# The chunk jobs (built by mixnet.shuffle), one tuple per pool task.
ReencryptJob = tuple[bytes, Sequence[tuple[bytes, bytes]], Sequence[int]]
CommitJob = tuple[Sequence[int], Sequence[bytes]]
ProveJob = tuple[
    bytes, int, int, Sequence[int], Sequence[int], Sequence[int], Sequence[int], Sequence[bytes], Sequence[bytes],
    Sequence[bytes],
]
ProveResult = tuple[list[bytes], list[bytes], bytes, bytes, bytes]
VerifyJob = tuple[
    int, Sequence[int], Sequence[int], Sequence[int], Sequence[bytes], Sequence[bytes], Sequence[bytes],
    Sequence[bytes], Sequence[bytes], Sequence[bytes], bytes, Sequence[bytes], Sequence[bytes], int,
]
VerifyResult = tuple[bytes, bytes, bytes, bytes, list[int]]


class _Acc:
    """A running sum of points in one reused buffer."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = ctypes.create_string_buffer(32)  # zeros: the identity

    def add(self, point: PointBytes) -> None:
        _add_into(self.buf, self.buf, point)

    def value(self) -> bytes:
        return self.buf.raw


def reencrypt_chunk(job: ReencryptJob) -> list[tuple[bytes, bytes]]:
    """(a + r·G, b + r·Y) for each (a, b), r of the chunk."""
    public, pairs, rs = job
    t1, t2, oa, ob = (ctypes.create_string_buffer(32) for _ in range(4))
    out: list[tuple[bytes, bytes]] = []
    for (a, b), r in zip(pairs, rs):
        _base_into(t1, r)
        _mul_into(t2, r, public)
        _add_into(oa, a, t1)
        _add_into(ob, b, t2)
        out.append((oa.raw, ob.raw))
    return out


def commit_chunk(job: CommitJob) -> list[bytes]:
    """Permutation commitment elements r·G + h."""
    rs, hs = job
    t, o = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
    out: list[bytes] = []
    for r, h in zip(rs, hs):
        _base_into(t, r)
        _add_into(o, t, h)
        out.append(o.raw)
    return out


def _chain_point(out: Buffer, tmp: Buffer, big_r: int, big_u: int, h: bytes) -> None:
    """out = R·G + U·h (a commitment-chain element in closed form)."""
    _base_into(tmp, big_r)
    _mul_into(out, big_u, h)
    _add_into(out, out, tmp)


def prove_chunk(job: ProveJob) -> ProveResult:
    """For output indices lo..hi-1 (0-based): chain elements ĉ_i = R_i·G + U_i·h, t̂_i = ω̂_i·G + ω'_i·ĉ_{i-1},
    and the partial sums Σ ω'_i·h_i, Σ ω'_i·a'_i, Σ ω'_i·b'_i."""
    h, r_prev, u_prev, big_rs, big_us, w_primes, w_hats, hs, out_a, out_b = job
    tmp, t, prev, cur = (ctypes.create_string_buffer(32) for _ in range(4))
    if r_prev == 0 and u_prev == 1:
        ctypes.memmove(prev, h, 32)  # ĉ_0 = h
    else:
        _chain_point(prev, tmp, r_prev, u_prev, h)
    sum_h, sum_a, sum_b = _Acc(), _Acc(), _Acc()
    chain: list[bytes] = []
    t_hat: list[bytes] = []
    for big_r, big_u, wp, wh, hi_, a, b in zip(big_rs, big_us, w_primes, w_hats, hs, out_a, out_b):
        _mul_into(tmp, wp, hi_)
        sum_h.add(tmp)
        _mul_into(tmp, wp, a)
        sum_a.add(tmp)
        _mul_into(tmp, wp, b)
        sum_b.add(tmp)
        _mul_into(t, wp, prev)
        _base_into(tmp, wh)
        _add_into(t, t, tmp)
        t_hat.append(t.raw)
        _chain_point(cur, tmp, big_r, big_u, h)
        chain.append(cur.raw)
        prev, cur = cur, prev
    return chain, t_hat, sum_h.value(), sum_a.value(), sum_b.value()


def verify_chunk(job: VerifyJob) -> VerifyResult:
    """The N-sized parts of the verification equations for indices lo..hi-1 (0-based).

    Returns (Σ c_j, Σ c·u_j·c_j + Σ s'_i·h_i, Σ c·u_j·a_j + Σ s'_i·a'_i, Σ c·u_j·b_j + Σ s'_i·b'_i,
    [indices i whose t̂_i ≠ c·ĉ_i + ŝ_i·G + s'_i·ĉ_{i-1}])."""
    c, us, s_primes, s_hats, commits, hs, in_a, in_b, out_a, out_b, chain_prev, chain, t_hat, lo = job
    tmp, t = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
    sum_c, acc3, acc4a, acc4b = _Acc(), _Acc(), _Acc(), _Acc()
    bad: list[int] = []
    prev: PointBytes = chain_prev
    for k, (u, sp, sh, cj, hi_, a, b, a2, b2, ch, th) in enumerate(
        zip(us, s_primes, s_hats, commits, hs, in_a, in_b, out_a, out_b, chain, t_hat)
    ):
        cu = c * u % _ORDER
        sum_c.add(cj)
        _mul_into(tmp, cu, cj)
        acc3.add(tmp)
        _mul_into(tmp, sp, hi_)
        acc3.add(tmp)
        _mul_into(tmp, cu, a)
        acc4a.add(tmp)
        _mul_into(tmp, sp, a2)
        acc4a.add(tmp)
        _mul_into(tmp, cu, b)
        acc4b.add(tmp)
        _mul_into(tmp, sp, b2)
        acc4b.add(tmp)
        # t̂_i = c·ĉ_i + ŝ_i·G + s'_i·ĉ_{i-1}
        _mul_into(t, c, ch)
        _base_into(tmp, sh)
        _add_into(t, t, tmp)
        _mul_into(tmp, sp, prev)
        _add_into(t, t, tmp)
        if t.raw != th:
            bad.append(lo + k)
        prev = ch
    return sum_c.value(), acc3.value(), acc4a.value(), acc4b.value(), bad


# (backend, digest, c, (z1·c, z2, z3, z4, z5), N, lo, weights y[lo:hi+1], s'[lo:hi+1], ŝ[lo:hi], c_j, h_i,
#  a_j, b_j, a'_i, b'_i, ĉ_i, t̂_i for lo..hi-1)
CheckJob = tuple[
    str, bytes, int, tuple[int, int, int, int, int], int, int, Sequence[int], Sequence[int], Sequence[int],
    Sequence[bytes], Sequence[bytes], Sequence[bytes], Sequence[bytes], Sequence[bytes], Sequence[bytes],
    Sequence[bytes], Sequence[bytes],
]


def check_chunk(job: CheckJob) -> tuple[bytes, int, int]:
    """The N-sized terms of the verifier's one weighted product (mixnet.shuffle._all_checks_hold) for indices
    lo..hi-1: their challenges u_j derived here, their scalars, and their product of powers. Returns (that
    product, Σ y_i·ŝ_i, ∏ u_j) over the span: the caller adds the few terms that are not per index.
    InvalidElement (from the product) if a point does not decode."""
    (name, digest, c, (zc, z2, z3, z4, z5), n, lo, y, sp, s_hat,
     commits, hs, in_a, in_b, out_a, out_b, chain, t_hat) = job
    o, count = _ORDER, len(commits)
    u = spec.challenge_chunk((digest, lo, lo + count))
    cu = [c * x % o for x in u]
    own = sp[:count]  # s'_i of the span (sp has one more, for the last ĉ_i's successor)
    scalars = [(zc + z3 * x) % o for x in cu]  # c_j
    scalars += [(z3 * s - zc) % o for s in own]  # h_i
    scalars += [z4 * x % o for x in cu]  # a_j
    scalars += [z5 * x % o for x in cu]  # b_j
    scalars += [z4 * s % o for s in own]  # a'_i
    scalars += [z5 * s % o for s in own]  # b'_i
    last = count - 1 if lo + count == n else count  # ĉ_{N-1} (0-based) has no successor
    scalars += [(y[i] * c + y[i + 1] * sp[i + 1]) % o for i in range(last)]  # ĉ_i, i < N-1
    if last < count:
        scalars.append((y[last] + z2) * c % o)  # ĉ_N
    scalars += [o - w for w in y[:count]]  # t̂_i
    points = [*commits, *hs, *in_a, *in_b, *out_a, *out_b, *chain, *t_hat]
    product = group.multi_mul_part((name, 0, scalars, points))
    weighted = sum(w * s for w, s in zip(y, s_hat)) % o
    big_u = 1
    for x in u:
        big_u = big_u * x % o
    return product, weighted, big_u

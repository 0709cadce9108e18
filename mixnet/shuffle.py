"""Verifiable shuffle: re-encrypt and permute ElGamal ciphertexts, and the Terelius–Wikström proof that it was
done honestly (CHVote's GenShuffleProof / CheckShuffleProof, written additively over ristretto255).

Notation (0-based in code, 1-based in docs/verifier.md): outputs[i] = inputs[π(i)] + (r̃_i·G, r̃_i·Y).
Prover and verifier share only the public specification in mixnet._shuffle_spec (tags, generators, hashes);
`verify` recomputes everything else from the statement and the proof.

Parallelism is injected: every N-sized pass runs as `map_fn(kernel, chunks)`, so a caller may pass
`ProcessPoolExecutor(...).map`; with the default `map` everything runs in this process.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from mixscope.mixnet import _shuffle_kernels as kernels
from mixscope.mixnet import _shuffle_spec as spec
from mixscope.mixnet import group
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError, RecordError

_ORDER = group.ORDER
_CHUNK_MIN = 64
MapFn = Callable[..., Any]  # map, or a pool's map: map_fn(kernel, chunks) -> results in order
_CHUNKS = 32  # enough pieces to balance a few workers, few enough that per-chunk overhead stays invisible
# The verifier's weighted product goes to map_fn in at most this many spans of at least this many terms each
# (8 per index): Pippenger's cost per term grows as a product is split, and a small one is not worth shipping.
_CHECK_PARTS, _CHECK_MIN_TERMS = 4, 4096


@dataclass(frozen=True)
class ShuffleWitness:
    """What the shuffler keeps secret: outputs[i] re-encrypts inputs[permutation[i]] with randomness[i]."""

    permutation: list[int] = field(repr=False)
    randomness: list[int] = field(repr=False)


@dataclass(frozen=True)
class ShuffleProof:
    commitments: list[bytes]  # c_j = r_j·G + h_{π⁻¹(j)}: the permutation commitment, one per input
    chain: list[bytes]  # ĉ_i = r̂_i·G + u'_i·ĉ_{i-1}, ĉ_0 = h: the commitment chain, one per output
    t1: bytes
    t2: bytes
    t3: bytes
    t4a: bytes
    t4b: bytes
    t_hat: list[bytes]
    s1: int
    s2: int
    s3: int
    s4: int
    s_hat: list[int]
    s_prime: list[int]

    _ELEMENTS = ("t1", "t2", "t3", "t4a", "t4b")
    _SCALARS = ("s1", "s2", "s3", "s4")
    _ELEMENT_LISTS = ("commitments", "chain", "t_hat")
    _SCALAR_LISTS = ("s_hat", "s_prime")

    @property
    def size(self) -> int:
        return len(self.commitments)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for name in self._ELEMENT_LISTS:
            d[name] = [e.hex() for e in getattr(self, name)]
        for name in self._ELEMENTS:
            d[name] = getattr(self, name).hex()
        for name in self._SCALARS:
            d[name] = group.scalar_hex(getattr(self, name))
        for name in self._SCALAR_LISTS:
            d[name] = [group.scalar_hex(k) for k in getattr(self, name)]
        return d

    @classmethod
    def from_json(cls, d: object, validate: bool = True) -> "ShuffleProof":
        """Parse and validate every element and scalar (InvalidElement / InvalidScalar / RecordError).
        validate=False leaves the elements' group membership to `verify`, whose libsodium calls decode every
        element (or compare it with a canonical result), so an invalid one still fails the proof."""
        if not isinstance(d, dict):
            raise RecordError("shuffle proof must be an object")
        expected = set(cls._ELEMENTS + cls._SCALARS + cls._ELEMENT_LISTS + cls._SCALAR_LISTS)
        if set(d) != expected:
            missing, extra = sorted(expected - set(d)), sorted(set(d) - expected)
            raise RecordError(f"shuffle proof fields wrong: missing {missing}, unexpected {extra}")
        lists = {name: d[name] for name in cls._ELEMENT_LISTS + cls._SCALAR_LISTS}
        for name, value in lists.items():
            if not isinstance(value, list):
                raise RecordError(f"shuffle proof field {name} must be a list")
        sizes = {len(v) for v in lists.values()}
        if len(sizes) != 1 or 0 in sizes:
            raise RecordError("shuffle proof lists must be non-empty and of equal length")
        kwargs: dict[str, Any] = {}
        parse = group.decode if validate else group.from_hex
        for name in cls._ELEMENT_LISTS:
            kwargs[name] = [parse(e) for e in d[name]] if validate else group.from_hex_list(d[name])
        for name in cls._ELEMENTS:
            kwargs[name] = parse(d[name])
        for name in cls._SCALARS:
            kwargs[name] = _decode_scalar_text(d[name])
        for name in cls._SCALAR_LISTS:
            texts = d[name]
            kwargs[name] = (group.decode_scalar_list(texts) if all(type(k) is str for k in texts)
                            else [_decode_scalar_text(k) for k in texts])
        return cls(**kwargs)


def _decode_scalar_text(value: object) -> int:
    if not isinstance(value, str):
        raise group.InvalidScalar("scalar must be hex text")
    return group.decode_scalar(value)


# ---------------------------------------------------------------------------------------------- helpers


def _spans(n: int) -> list[tuple[int, int]]:
    size = max(_CHUNK_MIN, -(-n // _CHUNKS))
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def _random_scalars(n: int) -> list[int]:
    # 64 bytes per scalar reduced mod ℓ: bias below 2^-250, one CSPRNG call for the lot.
    raw = secrets.token_bytes(64 * n)
    return [int.from_bytes(raw[64 * i : 64 * i + 64], "little") % _ORDER for i in range(n)]


def _random_permutation(n: int) -> list[int]:
    """A uniform permutation: Fisher–Yates with the OS CSPRNG, its 64-bit words drawn in one call (not one
    system call per position). Each j is exactly uniform: a word from the biased top of the range (probability
    below 2^-50) is drawn again."""
    perm = list(range(n))
    words = secrets.token_bytes(8 * n)
    for i in range(n - 1, 0, -1):
        bound = i + 1
        word = int.from_bytes(words[8 * i : 8 * i + 8], "little")
        while word >= _WORDS - _WORDS % bound:
            word = secrets.randbits(64)
        j = word % bound
        perm[i], perm[j] = perm[j], perm[i]
    return perm


_WORDS = 1 << 64


def _sum_points(points: Iterable[bytes]) -> bytes:
    acc = group.IDENTITY
    for p in points:
        acc = group.add(acc, p)
    return acc


# ---------------------------------------------------------------------------------------------- shuffle


def shuffle(public: bytes, inputs: list[Ciphertext], map_fn: MapFn = map) -> tuple[list[Ciphertext], ShuffleWitness]:
    """Re-encrypt every input under `public` and permute them with a fresh secret permutation."""
    n = len(inputs)
    if n == 0:
        raise ValueError("nothing to shuffle")
    perm = _random_permutation(n)
    rand = _random_scalars(n)
    jobs = [(public, [inputs[perm[i]] for i in range(lo, hi)], rand[lo:hi]) for lo, hi in _spans(n)]
    outputs = [Ciphertext(a, b) for part in map_fn(kernels.reencrypt_chunk, jobs) for a, b in part]
    return outputs, ShuffleWitness(perm, rand)


def prove(
    public: bytes,
    inputs: Sequence[Ciphertext],
    outputs: Sequence[Ciphertext],
    witness: ShuffleWitness,
    context: bytes,
    map_fn: MapFn = map,
) -> ShuffleProof:
    """The TW proof that `outputs` is a re-encryption and permutation of `inputs`, bound to `context`."""
    n = len(inputs)
    perm, rr = witness.permutation, witness.randomness
    if n == 0 or len(outputs) != n or len(perm) != n or len(rr) != n:
        raise ValueError("inputs, outputs and witness must have the same non-zero length")
    gens = spec.generators(n + 1, map_fn)
    h, hs = gens[0], gens[1:]
    spans = _spans(n)

    # Permutation commitment: c_{π(i)} = r_{π(i)}·G + h_i.
    inverse = [0] * n
    for i, j in enumerate(perm):
        inverse[j] = i
    r = _random_scalars(n)
    jobs = [(r[lo:hi], [hs[inverse[j]] for j in range(lo, hi)]) for lo, hi in spans]
    commitments = [c for part in map_fn(kernels.commit_chunk, jobs) for c in part]

    digest = spec.statement_digest(public, inputs, outputs, commitments, context)
    u = [x for part in map_fn(spec.challenge_chunk, [(digest, lo, hi) for lo, hi in spans]) for x in part]
    u_out = [u[j] for j in perm]  # u'_i

    # Commitment chain in closed form, so it parallelises: ĉ_i = R_i·G + U_i·h with U_i = u'_1···u'_i and R_i
    # uniform (equivalent to CHVote's uniform r̂_i, which are recovered below as r̂_i = R_i − u'_i·R_{i-1}).
    big_r = _random_scalars(n)
    big_u: list[int] = []
    acc = 1
    for x in u_out:
        acc = acc * x % _ORDER
        big_u.append(acc)
    w_prime, w_hat = _random_scalars(n), _random_scalars(n)
    chain_jobs = [
        (
            h,
            big_r[lo - 1] if lo else 0,
            big_u[lo - 1] if lo else 1,
            big_r[lo:hi],
            big_u[lo:hi],
            w_prime[lo:hi],
            w_hat[lo:hi],
            hs[lo:hi],
            [ct.a for ct in outputs[lo:hi]],
            [ct.b for ct in outputs[lo:hi]],
        )
        for lo, hi in spans
    ]
    chain: list[bytes] = []
    t_hat: list[bytes] = []
    sums_h: list[bytes] = []
    sums_a: list[bytes] = []
    sums_b: list[bytes] = []
    for part_chain, part_t_hat, sh, sa, sb in map_fn(kernels.prove_chunk, chain_jobs):
        chain += part_chain
        t_hat += part_t_hat
        sums_h.append(sh)
        sums_a.append(sa)
        sums_b.append(sb)

    w1, w2, w3, w4 = _random_scalars(4)
    t1 = group.base_mul(w1)
    t2 = group.base_mul(w2)
    t3 = group.add(group.base_mul(w3), _sum_points(sums_h))
    t4a = group.add(group.base_mul(-w4), _sum_points(sums_a))
    t4b = group.add(group.mul(-w4, public), _sum_points(sums_b))
    c = spec.challenge(digest, chain, t1, t2, t3, t4a, t4b, t_hat)

    r_bar = sum(r) % _ORDER
    r_tilde = sum(rj * uj for rj, uj in zip(r, u)) % _ORDER
    r_prime = sum(ri * ui for ri, ui in zip(rr, u_out)) % _ORDER
    s_hat = [
        (w_hat[i] - c * (big_r[i] - u_out[i] * (big_r[i - 1] if i else 0))) % _ORDER for i in range(n)
    ]
    s_prime = [(w_prime[i] - c * u_out[i]) % _ORDER for i in range(n)]
    return ShuffleProof(
        commitments=commitments,
        chain=chain,
        t1=t1,
        t2=t2,
        t3=t3,
        t4a=t4a,
        t4b=t4b,
        t_hat=t_hat,
        s1=(w1 - c * r_bar) % _ORDER,
        s2=(w2 - c * big_r[-1]) % _ORDER,
        s3=(w3 - c * r_tilde) % _ORDER,
        s4=(w4 - c * r_prime) % _ORDER,
        s_hat=s_hat,
        s_prime=s_prime,
    )


def shuffle_and_prove(
    public: bytes, inputs: list[Ciphertext], context: bytes, map_fn: MapFn = map
) -> tuple[list[Ciphertext], ShuffleProof]:
    outputs, witness = shuffle(public, inputs, map_fn)
    return outputs, prove(public, inputs, outputs, witness, context, map_fn)


# ---------------------------------------------------------------------------------------------- verify


def _check_shapes(
    public: bytes, inputs: Sequence[Any], outputs: Sequence[Any], proof: object, context: object
) -> int:
    if not isinstance(proof, ShuffleProof):
        raise ProofError("not a shuffle proof")
    if not isinstance(context, (bytes, bytearray)):
        raise ProofError("context must be bytes")
    n = len(inputs)
    if n == 0:
        raise ProofError("empty shuffle")
    if len(outputs) != n:
        raise ProofError(f"{n} inputs but {len(outputs)} outputs")
    lists = [proof.commitments, proof.chain, proof.t_hat, proof.s_hat, proof.s_prime]
    if any(not isinstance(x, list) or len(x) != n for x in lists):
        raise ProofError(f"proof is not for {n} ciphertexts")

    def is_element(x: object) -> bool:
        return type(x) is bytes and len(x) == 32

    def is_ciphertext(ct: object) -> bool:
        return isinstance(ct, (tuple, list)) and len(ct) == 2 and is_element(ct[0]) and is_element(ct[1])

    # Each test first over a whole list at C speed (it only ever accepts what the item-by-item one accepts),
    # then item by item when that is not enough to say.
    if not (_all_ciphertexts(inputs) or all(is_ciphertext(ct) for ct in inputs)):
        raise ProofError("malformed input ciphertext")
    if not (_all_ciphertexts(outputs) or all(is_ciphertext(ct) for ct in outputs)):
        raise ProofError("malformed output ciphertext")
    elements = [proof.t1, proof.t2, proof.t3, proof.t4a, proof.t4b, *proof.commitments, *proof.chain, *proof.t_hat]
    if not (_all_elements(elements) or all(is_element(x) for x in elements)):
        raise ProofError("malformed proof element")

    def is_scalar(k: object) -> bool:
        return type(k) is int and 0 <= k < _ORDER

    scalars = [proof.s1, proof.s2, proof.s3, proof.s4, *proof.s_hat, *proof.s_prime]
    if not (_all_scalars(scalars) or all(is_scalar(k) for k in scalars)):
        raise ProofError("proof scalar out of range")
    try:
        group.decode(public)
    except group.InvalidElement:
        raise ProofError("public key is not a group element") from None
    return n


def _all_elements(values: list[Any]) -> bool:
    """Every value exactly `bytes` of 32 (True only if so)."""
    return set(map(type, values)) <= {bytes} and set(map(len, values)) <= {32}


def _all_ciphertexts(cts: Sequence[Any]) -> bool:
    """Every item a Ciphertext, tuple or list (exactly those types) of two 32-byte `bytes` (True only if so)."""
    return (set(map(type, cts)) <= {Ciphertext, tuple, list} and set(map(len, cts)) <= {2}
            and _all_elements(list(itertools.chain.from_iterable(cts))))


def _all_scalars(values: list[Any]) -> bool:
    """Every value exactly an `int` in [0, ℓ) (True only if so)."""
    return set(map(type, values)) <= {int} and (not values or (min(values) >= 0 and max(values) < _ORDER))


def verify(
    public: bytes,
    inputs: Sequence[Ciphertext],
    outputs: Sequence[Ciphertext],
    proof: ShuffleProof,
    context: bytes,
    map_fn: MapFn = map,
    combined: bool = True,
) -> None:
    """Check `proof` for the statement (public, inputs, outputs, context); raise ProofError saying what failed.
    combined=False skips the one-product check of every equation, for a caller that has just seen `holds` say
    False for this statement: it goes straight to the exact checks, which say what fails."""
    n, h, hs, digest, c = _statement(public, inputs, outputs, proof, context, map_fn)
    if combined and _all_checks_hold(public, inputs, outputs, proof, h, hs, digest, c, map_fn):
        return
    # Something fails: the exact checks below say which (and where), the same way on every backend.
    u = spec.challenges(digest, n)

    jobs = [
        (
            c,
            u[lo:hi],
            proof.s_prime[lo:hi],
            proof.s_hat[lo:hi],
            proof.commitments[lo:hi],
            hs[lo:hi],
            [ct[0] for ct in inputs[lo:hi]],
            [ct[1] for ct in inputs[lo:hi]],
            [ct[0] for ct in outputs[lo:hi]],
            [ct[1] for ct in outputs[lo:hi]],
            proof.chain[lo - 1] if lo else h,
            proof.chain[lo:hi],
            proof.t_hat[lo:hi],
            lo,
        )
        for lo, hi in _spans(n)
    ]
    try:
        parts = list(map_fn(kernels.verify_chunk, jobs))
        sum_c = _sum_points(p[0] for p in parts)
        acc3 = _sum_points(p[1] for p in parts)
        acc4a = _sum_points(p[2] for p in parts)
        acc4b = _sum_points(p[3] for p in parts)
        bad_chain = [i for p in parts for i in p[4]]
        sum_h = spec.generator_sum(n, map_fn)

        big_u = 1
        for x in u:
            big_u = big_u * x % _ORDER
        # t1: the commitments open to a permutation's sum: c·(Σc_j − Σh_i) + s1·G
        t1 = group.add(group.mul(c, group.sub(sum_c, sum_h)), group.base_mul(proof.s1))
        # t2: the chain ends at ∏u_i·h plus a known multiple of G: c·(ĉ_N − (∏u_i)·h) + s2·G
        t2 = group.add(group.mul(c, group.sub(proof.chain[-1], group.mul(big_u, h))), group.base_mul(proof.s2))
        # t3: Σ c·u_j·c_j + Σ s'_i·h_i + s3·G
        t3 = group.add(acc3, group.base_mul(proof.s3))
        # t4: Σ c·u_j·e_j + Σ s'_i·e'_i − s4·(G, Y)
        t4a = group.sub(acc4a, group.base_mul(proof.s4))
        t4b = group.sub(acc4b, group.mul(proof.s4, public))
    except group.InvalidElement as exc:
        raise ProofError(f"an input, output or proof element is not a group element ({exc})") from None

    if t1 != proof.t1:
        raise ProofError("t1 check failed: the permutation commitment does not sum to the generators")
    if t2 != proof.t2:
        raise ProofError("t2 check failed: the commitment chain does not end at the product of the challenges")
    if t3 != proof.t3:
        raise ProofError("t3 check failed: the challenges are not permuted as committed")
    if t4a != proof.t4a or t4b != proof.t4b:
        raise ProofError("t4 check failed: outputs are not a re-encryption of the permuted inputs")
    if bad_chain:
        raise ProofError(f"t_hat check failed at position {bad_chain[0]}: commitment chain link does not verify")
    # Every equation holds, so the combined check failed on decoding: an element with its top bit set, which
    # libsodium reads as if it were clear but RFC 9496 (docs/verifier.md, "Elements") refuses.
    raise ProofError("an input, output or proof element is not a canonical encoding (its top bit is set)")


def holds(
    public: bytes,
    inputs: Sequence[Ciphertext],
    outputs: Sequence[Ciphertext],
    proof: ShuffleProof,
    context: bytes,
    map_fn: MapFn = map,
) -> bool:
    """True when `verify` would accept: every equation holds and every input, output and proof element
    decodes (the one product of powers decodes each of them, exactly as `group.decode` does, so outputs read
    with `group.from_hex` need no separate check). False for anything else; `verify` then says what fails."""
    try:
        _, h, hs, digest, c = _statement(public, inputs, outputs, proof, context, map_fn)
    except ProofError:
        return False
    return _all_checks_hold(public, inputs, outputs, proof, h, hs, digest, c, map_fn)


def _statement(public: bytes, inputs: Sequence[Ciphertext], outputs: Sequence[Ciphertext], proof: ShuffleProof,
               context: bytes, map_fn: MapFn) -> tuple[int, bytes, list[bytes], bytes, int]:
    """(N, h, h_1..h_N, the statement's digest, the challenge c) once the proof's shapes fit; ProofError if not."""
    n = _check_shapes(public, inputs, outputs, proof, context)
    gens = spec.generators(n + 1, map_fn)
    digest = spec.statement_digest(public, inputs, outputs, proof.commitments, context)
    c = spec.challenge(digest, proof.chain, proof.t1, proof.t2, proof.t3, proof.t4a, proof.t4b, proof.t_hat)
    return n, gens[0], gens[1:], digest, c


def _weights(count: int) -> list[int]:
    raw = secrets.token_bytes(16 * count)
    return [int.from_bytes(raw[16 * i : 16 * i + 16], "little") for i in range(count)]


def _all_checks_hold(
    public: bytes,
    inputs: Sequence[Ciphertext],
    outputs: Sequence[Ciphertext],
    proof: ShuffleProof,
    h: bytes,
    hs: list[bytes],
    digest: bytes,
    c: int,
    map_fn: MapFn,
) -> bool:
    """Checks t1..t4 and the N t_hat links of docs/verifier.md at once, as ONE product of powers.

    Each equation is written as (left − right = 0) and weighted by a fresh 128-bit random scalar from the
    OS CSPRNG: the weighted sum is the identity if every equation holds and, if any fails, with probability
    at most 2^-128 (the group has prime order). One multi_mul of 8N+8 terms replaces 8N scalar mults and
    N base mults. False means some equation fails or some element does not decode; the caller then runs
    the exact checks to report which.

    The 8N per-index terms go to map_fn in a few spans (kernels.check_chunk): each job derives its challenges
    u_j, computes its scalars and its part of the product, so that serial work runs on the pool's cores
    beside the products, and a job carries three scalars per index instead of eight."""
    n, o = len(inputs), _ORDER
    z1, z2, z3, z4, z5 = _weights(5)
    y = _weights(n)
    sp = proof.s_prime
    parts = min(_CHECK_PARTS, 8 * n // _CHECK_MIN_TERMS) if map_fn is not map else 1
    size = -(-n // max(1, parts))
    name, zs = group.backend(), (z1 * c % o, z2, z3, z4, z5)
    jobs = [
        (name, digest, c, zs, n, lo, y[lo:hi + 1], sp[lo:hi + 1], proof.s_hat[lo:hi], proof.commitments[lo:hi],
         hs[lo:hi], [ct[0] for ct in inputs[lo:hi]], [ct[1] for ct in inputs[lo:hi]],
         [ct[0] for ct in outputs[lo:hi]], [ct[1] for ct in outputs[lo:hi]], proof.chain[lo:hi], proof.t_hat[lo:hi])
        for lo, hi in ((lo, min(lo + size, n)) for lo in range(0, n, size))
    ]
    try:
        total, weighted, big_u = group.IDENTITY, 0, 1
        for product, part_weighted, part_u in (map_fn if len(jobs) > 1 else map)(kernels.check_chunk, jobs):
            total = group.add(total, product)
            weighted += part_weighted
            big_u = big_u * part_u % o
        g_coeff = (z1 * proof.s1 + z2 * proof.s2 + z3 * proof.s3 - z4 * proof.s4 + weighted) % o
        scalars = [(y[0] * sp[0] - z2 * c * big_u) % o, g_coeff, -z5 * proof.s4 % o]  # h, G, Y
        scalars += [o - z1, o - z2, o - z3, o - z4, o - z5]  # t1, t2, t3, t4a, t4b
        points = [h, group.GENERATOR, public, proof.t1, proof.t2, proof.t3, proof.t4a, proof.t4b]
        return group.add(total, group.multi_mul(scalars, points)) == group.IDENTITY
    except group.InvalidElement:
        return False

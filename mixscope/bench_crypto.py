"""`mixscope bench crypto --n N --json`: what a shuffle, its proof and their verification cost per ciphertext,
in milliseconds and in "scalar-mult equivalents" (time / one variable-base scalar multiplication measured in
the same run, so the ratio survives a noisy or shared machine), plus the speed-up of prove+verify on a
process pool over all cores and the peak memory.

The generators h, h_1..h_N are derived once up front and reported as their own phase.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import secrets
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from mixnet import _shuffle_spec, elgamal, group, shuffle

_POOL_CHUNKSIZE = 1  # the kernels already receive chunks of ciphertexts


def scalar_mult_us(samples: int = 400, rounds: int = 3) -> float:
    """One libsodium variable-base scalar multiplication: the median of a few short rounds."""
    point = group.base_mul(group.random_scalar())
    scalars = [secrets.randbelow(group.ORDER).to_bytes(32, "little") for _ in range(samples)]
    out = ctypes.create_string_buffer(32)
    mul = group._sodium.crypto_scalarmult_ristretto255
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for k in scalars:
            mul(out, k, point)
        times.append((time.perf_counter() - start) / samples)
    return statistics.median(times) * 1e6


class _Phases:
    """Times phases and calibrates a scalar multiplication right before and after each, so the ratio of a
    phase to a multiplication is taken under the same machine load."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calibrations: list[float] = []
        self.report: dict = {}

    def run(self, name: str, func):
        before = scalar_mult_us()
        start = time.perf_counter()
        result = func()
        seconds = time.perf_counter() - start
        after = scalar_mult_us()
        self.calibrations += [before, after]
        per_ct = seconds / self.n
        self.report[name] = {
            "ms_per_ciphertext": round(per_ct * 1e3, 4),
            "scalar_mult_equivalents": round(per_ct * 1e6 / ((before + after) / 2), 2),
        }
        return result, seconds


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(own / 1024, 1)


def measure(n: int, parallel: bool = True) -> dict:
    cores = os.cpu_count() or 1
    keys = elgamal.KeyPair.generate()
    inputs = [elgamal.encrypt(keys.public, elgamal.encode_choice(i % 8)) for i in range(n)]
    context = b"bench/crypto"
    phases = _Phases(n)

    # The generators h, h_1..h_N (and their sum) are public constants a node derives once per N; the targets
    # count shuffle/prove/verify without them, so they are derived first and reported on their own.
    _shuffle_spec.clear_generator_cache()
    phases.run("generators", lambda: _shuffle_spec.generator_sum(n))
    (outputs, witness), t_shuffle = phases.run("shuffle", lambda: shuffle.shuffle(keys.public, inputs))
    proof, t_prove = phases.run("prove", lambda: shuffle.prove(keys.public, inputs, outputs, witness, context))
    _, t_verify = phases.run("verify", lambda: shuffle.verify(keys.public, inputs, outputs, proof, context))

    report = {"n": n, "cores": cores, "scalar_mult_us": round(statistics.median(phases.calibrations), 2)}
    report.update(phases.report)
    report["shuffle_and_prove_scalar_mult_equivalents"] = round(
        report["shuffle"]["scalar_mult_equivalents"] + report["prove"]["scalar_mult_equivalents"], 2
    )
    if parallel:
        with ProcessPoolExecutor(max_workers=cores) as pool:
            pool_map = partial(pool.map, chunksize=_POOL_CHUNKSIZE)
            list(pool_map(abs, range(cores * 4)))  # start the workers before timing
            start = time.perf_counter()
            proof2 = shuffle.prove(keys.public, inputs, outputs, witness, context, map_fn=pool_map)
            shuffle.verify(keys.public, inputs, outputs, proof2, context, map_fn=pool_map)
            t_parallel = time.perf_counter() - start
        report["serial_seconds"] = round(t_prove + t_verify, 3)
        report["parallel_seconds"] = round(t_parallel, 3)
        report["parallel_speedup"] = round((t_prove + t_verify) / t_parallel, 2)
    report["peak_rss_mb"] = _peak_rss_mb()
    return report


def run(args) -> int:
    from mixscope.cli import UsageError

    if args.n < 1:
        raise UsageError("--n must be at least 1")
    print(json.dumps(measure(args.n, parallel=not args.no_parallel)))
    return 0

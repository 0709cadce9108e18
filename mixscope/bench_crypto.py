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
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

from mixscope.mixnet import _shuffle_spec, elgamal, group, shuffle

_POOL_CHUNKSIZE = 1  # the kernels already receive chunks of ciphertexts


class _Phases:
    """Times single-core phases in scalar-mult equivalents, calibrating the multiplication *during* each phase.

    The phase gets a map_fn that, before every chunk of kernel work, times a short burst of scalar
    multiplications (excluded from the phase's time). The calibration therefore samples the same moments,
    and the same machine load, as the work it is compared with; CPU time on both sides keeps other
    processes' scheduling out. ms_per_ciphertext is wall time, as a user sees it.
    """

    BURST = 25

    def __init__(self, n: int) -> None:
        self.n = n
        self.report: dict = {}
        self.mult_cpu = 0.0  # CPU seconds spent in calibration bursts
        self.mults = 0
        self.calib_wall = 0.0
        point = group.base_mul(group.random_scalar())
        scalars = [secrets.randbelow(group.ORDER).to_bytes(32, "little") for _ in range(self.BURST)]
        out = ctypes.create_string_buffer(32)
        mul = group._sodium.crypto_scalarmult_ristretto255
        self._burst = lambda: [mul(out, k, point) for k in scalars]

    def _calibrate(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self._burst()
        self.mult_cpu += time.process_time() - cpu
        self.calib_wall += time.perf_counter() - wall
        self.mults += self.BURST

    def _map(self, func, jobs):
        for job in jobs:
            self._calibrate()
            yield func(job)

    def run(self, name: str, func):
        """func(map_fn) runs the phase; returns (its result, its wall seconds without calibration)."""
        first_mults, first_cpu = self.mults, self.mult_cpu
        self._calibrate()  # one burst before and one after, so even a one-chunk phase is bracketed
        inside_cpu, inside_wall = self.mult_cpu, self.calib_wall
        wall, cpu = time.perf_counter(), time.process_time()
        result = func(self._map)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall -= self.calib_wall - inside_wall
        cpu -= self.mult_cpu - inside_cpu
        self._calibrate()
        mult_us = (self.mult_cpu - first_cpu) / (self.mults - first_mults) * 1e6
        self.report[name] = {
            "ms_per_ciphertext": round(wall / self.n * 1e3, 4),
            "scalar_mult_equivalents": round(cpu / self.n * 1e6 / mult_us, 2),
        }
        return result, wall

    def scalar_mult_us(self) -> float:
        return self.mult_cpu / self.mults * 1e6


def _burn_chunk(count: int) -> int:
    """Pool baseline work: `count` scalar multiplications, the same kind of work the kernels do."""
    point, k = group.GENERATOR, (group.ORDER - 1).to_bytes(32, "little")
    out = ctypes.create_string_buffer(32)
    for _ in range(count):
        group._sodium.crypto_scalarmult_ristretto255(out, k, point)
    return count


def _machine_speedup(pool_map, cores: int) -> float:
    """How much faster the pool runs embarrassingly parallel scalar mults than this process does, right now:
    the ceiling for parallel_speedup on a machine shared with other work."""
    jobs = [250] * (8 * cores)
    start = time.perf_counter()
    list(map(_burn_chunk, jobs))
    serial = time.perf_counter() - start
    start = time.perf_counter()
    list(pool_map(_burn_chunk, jobs))
    return serial / (time.perf_counter() - start)


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
    phases.run("generators", lambda m: _shuffle_spec.generator_sum(n, m))
    (outputs, witness), t_shuffle = phases.run("shuffle", lambda m: shuffle.shuffle(keys.public, inputs, m))
    proof, t_prove = phases.run("prove", lambda m: shuffle.prove(keys.public, inputs, outputs, witness, context, m))
    _, t_verify = phases.run("verify", lambda m: shuffle.verify(keys.public, inputs, outputs, proof, context, m))

    report: dict[str, Any] = {
        "n": n,
        "cores": cores,
        "backend": group.backend(),
        "scalar_mult_us": round(phases.scalar_mult_us(), 2),
    }
    report.update(phases.report)
    report["shuffle_and_prove_scalar_mult_equivalents"] = round(
        report["shuffle"]["scalar_mult_equivalents"] + report["prove"]["scalar_mult_equivalents"], 2
    )
    if parallel:
        with ProcessPoolExecutor(max_workers=cores) as pool:
            pool_map = partial(pool.map, chunksize=_POOL_CHUNKSIZE)
            list(pool_map(abs, range(cores * 4)))  # start the workers before timing
            baseline_before = _machine_speedup(pool_map, cores)
            start = time.perf_counter()
            proof2 = shuffle.prove(keys.public, inputs, outputs, witness, context, map_fn=pool_map)
            shuffle.verify(keys.public, inputs, outputs, proof2, context, map_fn=pool_map)
            t_parallel = time.perf_counter() - start
            baseline_after = _machine_speedup(pool_map, cores)
        report["machine_parallel_speedup"] = round((baseline_before + baseline_after) / 2, 2)
        report["serial_seconds"] = round(t_prove + t_verify, 3)
        report["parallel_seconds"] = round(t_parallel, 3)
        report["parallel_speedup"] = round((t_prove + t_verify) / t_parallel, 2)
    report["peak_rss_mb"] = _peak_rss_mb()
    if parallel:  # the pool's workers have been joined, so the kernel reports their largest peak
        report["peak_rss_worker_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return report


def run(args) -> int:
    from mixscope.cli import UsageError

    if args.n < 1:
        raise UsageError("--n must be at least 1")
    print(json.dumps(measure(args.n, parallel=not args.no_parallel)))
    return 0

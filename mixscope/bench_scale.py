"""`mixscope bench scale --n N [--cluster ADDRESS] --json`: how the proof work scales out.

One shuffle of N ciphertexts, proved and verified on each engine (engine/): the local process pool with 1 and
2 processes, then Dask with 1 and 2 workers (without --cluster: a LocalCluster of that size on 127.0.0.1; with
it: the first 1 and 2 workers of that scheduler). Reported: ciphertexts/s for shuffle+prove and for verify,
the speed-up and efficiency per worker from 1 to 2 workers, the cluster's overhead against the local pool of
the same size, the bytes a proof stage moves per ciphertext (pickled jobs and results, measured on a smaller
shuffle: they are linear in N), and the peak RSS of every process. Wall-clock figures: a shared machine's
load shows in them, so the load average is reported too.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from mixscope.engine import LocalEngine
from mixscope.mixnet import _shuffle_spec, elgamal, shuffle

CONTEXT = b"mixscope/bench/scale"
BYTES_SAMPLE = 2000  # ciphertexts in the shuffle whose traffic is weighed


def _peak_rss_mb(dask_scheduler=None, dask_worker=None) -> float:
    """This process's peak resident set (Linux and macOS report ru_maxrss in KiB and bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def _proc_peak_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _pid_cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _noop(_):
    return None


def _cpu_seconds(dask_worker=None) -> float:
    """User + system CPU seconds of this process so far."""
    times = os.times()
    return times.user + times.system


def _measure(public, inputs, map_fn_for, worker_cpu) -> dict:
    """Wall and CPU seconds of prove and verify. `worker_cpu()`: the workers' CPU seconds so far. CPU time is
    what a loaded machine does not distort: cluster overhead shows in it even when the wall clock is shared."""
    n = len(inputs)
    result = {}
    outputs: list[elgamal.Ciphertext] | None = None
    proof: shuffle.ShuffleProof | None = None
    for what in ("prove", "verify"):
        workers_before, main_before, started = worker_cpu(), _cpu_seconds(), time.perf_counter()
        if what == "prove":
            outputs, proof = shuffle.shuffle_and_prove(public, inputs, CONTEXT, map_fn=map_fn_for())
        else:
            assert outputs is not None and proof is not None  # proved in the first pass
            shuffle.verify(public, inputs, outputs, proof, CONTEXT, map_fn=map_fn_for())
        wall = time.perf_counter() - started
        result.update({f"{what}_seconds": round(wall, 3), f"{what}_per_s": round(n / wall, 1),
                       f"{what}_worker_cpu_seconds": round(worker_cpu() - workers_before, 3),
                       f"{what}_main_cpu_seconds": round(_cpu_seconds() - main_before, 3)})
    return result


def _local(public, inputs, workers: int) -> dict:
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_noop, range(workers * 2)))  # processes started before the clock runs
        engine = LocalEngine(pool)
        pids = sorted(pool._processes)
        result = _measure(public, inputs, engine.map_fn, lambda: sum(_pid_cpu(pid) for pid in pids))
        result["peak_rss_mb"] = {f"pool-{k}": _proc_peak_mb(pid) for k, pid in enumerate(sorted(pool._processes))}
    return result


def _dask(public, inputs, workers: int, cluster: str | None) -> dict:
    from mixscope.engine.cluster import ClusterEngine

    address = cluster or f"local:{workers}"
    engine = ClusterEngine(address, LocalEngine())
    engine.start()
    try:
        if engine.state != "connected":
            raise SystemExit(f"mixscope bench scale: {engine.reason}")
        engine.client.wait_for_workers(workers, timeout=60)
        names = sorted(engine.client.scheduler_info(n_workers=-1)["workers"])
        engine.only_workers = names[:workers] if cluster else None
        engine.client.run(_noop, 0)
        on = engine.only_workers or names
        result = _measure(public, inputs, engine.map_fn,
                          lambda: sum(engine.client.run(_cpu_seconds, workers=on).values()))
        if engine.state != "connected":
            raise SystemExit(f"mixscope bench scale: the cluster failed during the run: {engine.reason}")
        result["tasks"] = engine.tasks_sent
        peaks = engine.client.run(_peak_rss_mb, workers=engine.only_workers or names)
        result["peak_rss_mb"] = {f"worker-{k}": peaks[a] for k, a in enumerate(sorted(peaks))}
        if cluster:  # a LocalCluster's scheduler lives in this process: its peak is the bench's own
            result["peak_rss_mb"]["scheduler"] = engine.client.run_on_scheduler(_peak_rss_mb)
    finally:
        engine.close()
    return result


def _traffic(public, inputs) -> dict:
    """Bytes a stage's jobs and results weigh pickled, per ciphertext: what a cluster moves over the network."""
    weighed = {"sent": 0, "returned": 0}

    def weighing_map(fn, jobs):
        for job in jobs:
            weighed["sent"] += len(pickle.dumps(job, protocol=5))
            result = fn(job)
            weighed["returned"] += len(pickle.dumps(result, protocol=5))
            yield result

    n = len(inputs)
    outputs, proof = shuffle.shuffle_and_prove(public, inputs, CONTEXT, map_fn=weighing_map)
    prove = dict(weighed)
    weighed.update(sent=0, returned=0)
    shuffle.verify(public, inputs, outputs, proof, CONTEXT, map_fn=weighing_map)
    return {
        "prove_bytes_per_ciphertext": round((prove["sent"] + prove["returned"]) / n, 1),
        "verify_bytes_per_ciphertext": round((weighed["sent"] + weighed["returned"]) / n, 1),
        "ciphertext_json_bytes": round(len(json.dumps([ct.to_json() for ct in outputs])) / n, 1),
        "proof_json_bytes_per_ciphertext": round(len(json.dumps(proof.to_json())) / n, 1),
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else 0.0


def run_scale(n: int, cluster: str | None = None, say=lambda text: None) -> dict:
    keys = elgamal.KeyPair.generate()
    say(f"encrypting {n} ballots ...")
    inputs = [elgamal.encrypt(keys.public, elgamal.encode_choice(i % 3)) for i in range(n)]
    _shuffle_spec.generators(n + 1)  # public constants, the same for every run: derived once, outside the clock
    _shuffle_spec.generator_sum(n)
    report: dict[str, Any] = {"n": n, "cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
              "cluster": cluster or "LocalCluster on 127.0.0.1"}
    runs = {}
    for workers in (1, 2):
        say(f"local pool, {workers} process(es) ...")
        runs[f"local_{workers}"] = _local(keys.public, inputs, workers)
    for workers in (1, 2):
        say(f"dask, {workers} worker(s) ...")
        runs[f"dask_{workers}"] = _dask(keys.public, inputs, workers, cluster)
    report["runs"] = runs
    for kind in ("local", "dask"):
        one, two = runs[f"{kind}_1"], runs[f"{kind}_2"]
        for what in ("prove", "verify"):
            speedup = _ratio(one[f"{what}_seconds"], two[f"{what}_seconds"])
            report[f"{kind}_{what}_speedup_1_to_2"] = speedup
            report[f"{kind}_{what}_efficiency_per_worker"] = round(speedup / 2, 3)
    for workers in (1, 2):
        dask, local = runs[f"dask_{workers}"], runs[f"local_{workers}"]
        for what in ("prove", "verify"):
            report[f"dask_{what}_overhead_{workers}"] = round(
                _ratio(dask[f"{what}_seconds"], local[f"{what}_seconds"]) - 1, 3)
            cpu = [r[f"{what}_worker_cpu_seconds"] + r[f"{what}_main_cpu_seconds"] for r in (dask, local)]
            report[f"dask_{what}_cpu_overhead_{workers}"] = round(_ratio(*cpu) - 1, 3)
    report["traffic"] = _traffic(keys.public, inputs[:BYTES_SAMPLE])
    report["peak_rss_mb_bench_process"] = _peak_rss_mb()
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return report


def run(args) -> int:
    if args.n < 2:
        print("mixscope bench scale: --n must be at least 2", file=sys.stderr)
        return 2
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    print(json.dumps(run_scale(args.n, getattr(args, "cluster", None), say), indent=2))
    return 0

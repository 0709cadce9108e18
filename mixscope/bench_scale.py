"""`mixscope bench scale --n N [--cluster ADDRESS] [--rounds R] --json`: how the proof work scales out.

One shuffle of N ciphertexts, proved and verified on four engines (engine/) that all stay up for the whole
run: a local process pool of 1 and one of 2 processes, and Dask with 1 and 2 workers (one cluster of two
workers, the 1-worker runs restricted to the first; without --cluster a LocalCluster on 127.0.0.1, with it the
first two workers of that scheduler). Every engine is warmed up on a small shuffle first (imports, pool and
worker start-up are not in the figures).

The four runs repeat for R rounds. In each round the local and the Dask run with the same number of workers
are next to each other, and the order alternates from round to round (local then Dask, Dask then local; 1
then 2 workers, 2 then 1), so a drift of the machine's load weighs on both sides alike. Every ratio is taken
within a round, and the figure reported is its median over the rounds:

- `dask_{what}_overhead_{k}`: wall time Dask / wall time local pool − 1, with k workers each;
- `dask_{what}_cpu_overhead_{k}`: the same with CPU seconds (the workers' plus the calling process's, which
  holds the client and, for a LocalCluster, the scheduler and the nannies; a remote scheduler's own CPU is
  added too). CPU time is what a loaded machine inflates least: on a shared machine it is the figure to read;
- `{kind}_{what}_speedup_1_to_2`: wall time with 1 worker / wall time with 2; efficiency per worker is half.

Also reported: ciphertexts/s (N / median wall time), the bytes a proof stage moves per ciphertext (pickled
jobs and results, measured on a smaller shuffle: they are linear in N), the peak RSS of every process, the load
average at the start and end of every round, and what Dask itself costs (`dask_costs`: CPU while idle, and CPU
per task for tasks that do nothing).
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

from mixscope.engine import LocalEngine
from mixscope.mixnet import _shuffle_spec, elgamal, shuffle

CONTEXT = b"mixscope/bench/scale"
BYTES_SAMPLE = 2000  # ciphertexts in the shuffle whose traffic is weighed
WARM_UP = 64  # ciphertexts in the shuffle each engine does before the clock runs
IDLE_SECONDS = 5.0  # how long Dask's idle CPU is measured
EMPTY_TASKS = 400  # tasks that do nothing, for Dask's own cost per task
PHASES = ("prove", "verify")
DEFINITIONS = {
    "overhead": "median over rounds of (Dask wall seconds / local pool wall seconds - 1), same worker count, "
                "the two runs next to each other in each round, their order alternating between rounds",
    "cpu_overhead": "the same ratio of CPU seconds: the workers' (pool processes or Dask workers) plus the "
                    "calling process's (client; for a LocalCluster also its scheduler and nannies) plus a "
                    "remote scheduler's",
    "speedup_1_to_2": "median over rounds of (wall seconds with 1 worker / wall seconds with 2)",
    "efficiency_per_worker": "speedup_1_to_2 / 2",
    "per_s": "N / median wall seconds",
}


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


def _cpu_seconds(dask_worker=None, dask_scheduler=None) -> float:
    """User + system CPU seconds of this process so far."""
    times = os.times()
    return times.user + times.system


class _Engine:
    """One of the four engines: its map_fn per stage, and the CPU seconds its workers and helpers used so far."""

    def __init__(self, map_fn: Callable[[], Any], worker_cpu: Callable[[], float], other_cpu=lambda: 0.0,
                 before: Callable[[], None] = lambda: None):
        self.map_fn, self.worker_cpu, self.other_cpu, self.before = map_fn, worker_cpu, other_cpu, before


def _measure(public, inputs, engine: _Engine) -> dict:
    """Wall and CPU seconds of shuffle+prove, then of verifying that proof, on one engine."""
    engine.before()
    result: dict[str, Any] = {}
    outputs: list[elgamal.Ciphertext] | None = None
    proof: shuffle.ShuffleProof | None = None
    for what in PHASES:
        workers, main, other = engine.worker_cpu(), _cpu_seconds(), engine.other_cpu()
        started = time.perf_counter()
        if what == "prove":
            outputs, proof = shuffle.shuffle_and_prove(public, inputs, CONTEXT, map_fn=engine.map_fn())
        else:
            assert outputs is not None and proof is not None  # proved in the first pass
            shuffle.verify(public, inputs, outputs, proof, CONTEXT, map_fn=engine.map_fn())
        wall = time.perf_counter() - started
        main = _cpu_seconds() - main
        workers, other = engine.worker_cpu() - workers, engine.other_cpu() - other
        result[what] = {"seconds": wall, "worker_cpu_seconds": workers, "main_cpu_seconds": main + other,
                        "cpu_seconds": workers + main + other}
    return result


def _round_order(round_index: int) -> list[str]:
    sizes = (1, 2) if round_index % 2 == 0 else (2, 1)
    kinds = ("local", "dask") if round_index % 2 == 0 else ("dask", "local")
    return [f"{kind}_{k}" for k in sizes for kind in kinds]


def _median(values: list[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


def _summary(per_round: list[dict]) -> dict:
    """Medians of one engine's rounds, in the report's flat keys."""
    out: dict[str, Any] = {}
    for what in PHASES:
        for field in ("seconds", "worker_cpu_seconds", "main_cpu_seconds", "cpu_seconds"):
            out[f"{what}_{field}"] = _median([r[what][field] for r in per_round])
    return out


def _ratios(per_round: dict[str, list[dict]], top: str, bottom: str, what: str, field: str) -> list[float]:
    return [round(a[what][field] / b[what][field], 3) for a, b in zip(per_round[top], per_round[bottom])
            if b[what][field] > 0]


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _connect(cluster: str | None):
    from mixscope.engine import parse_address
    from mixscope.engine.cluster import ClusterEngine

    if cluster and parse_address(cluster).scheduler is None and parse_address(cluster).local_workers < 2:
        raise SystemExit(f"mixscope bench scale: {cluster} has one worker; the bench compares 1 and 2 (local:2)")
    engine = ClusterEngine(cluster or "local:2", LocalEngine())
    engine.start()
    if engine.state != "connected":
        raise SystemExit(f"mixscope bench scale: {engine.reason}")
    try:
        engine.client.wait_for_workers(2, timeout=60)
    except Exception:
        engine.close()
        raise SystemExit(f"mixscope bench scale: {engine.address} has fewer than 2 workers; it needs two") from None
    return engine


def run_scale(n: int, cluster: str | None = None, rounds: int = 3, say=lambda text: None) -> dict:
    keys = elgamal.KeyPair.generate()
    say(f"encrypting {n} ballots ...")
    inputs = [elgamal.encrypt(keys.public, elgamal.encode_choice(i % 3)) for i in range(n)]
    _shuffle_spec.generators(n + 1)  # public constants, the same for every run: derived once, outside the clock
    _shuffle_spec.generator_sum(n)
    report: dict[str, Any] = {"n": n, "cores": os.cpu_count(), "rounds": rounds, "load_average": _load(),
                              "cluster": cluster or "LocalCluster on 127.0.0.1 (2 workers)",
                              "definitions": DEFINITIONS}
    dask = _connect(cluster)
    try:
        with ProcessPoolExecutor(1) as pool_1, ProcessPoolExecutor(2) as pool_2:
            report.update(_rounds(keys.public, inputs, dask, {1: pool_1, 2: pool_2}, cluster, rounds, say))
    finally:
        dask.close()
    report["traffic"] = _traffic(keys.public, inputs[:BYTES_SAMPLE])
    report["peak_rss_mb_bench_process"] = _peak_rss_mb()
    report["load_average_after"] = _load()
    return report


def _rounds(public, inputs, dask, pools: dict[int, ProcessPoolExecutor], cluster, rounds: int, say) -> dict:
    client = dask.client
    names = sorted(client.scheduler_info(n_workers=-1)["workers"])[:2]
    engines: dict[str, _Engine] = {}

    def pool_cpu(pids: list[int]) -> Callable[[], float]:
        return lambda: sum(_pid_cpu(pid) for pid in pids)

    def workers_cpu(on: list[str]) -> Callable[[], float]:
        return lambda: sum(client.run(_cpu_seconds, workers=on).values())

    def restrict(on: list[str]) -> Callable[[], None]:
        def before() -> None:
            dask.only_workers = on
        return before

    def scheduler_cpu() -> float:  # a LocalCluster's scheduler is in this process: counted as its CPU
        return client.run_on_scheduler(_cpu_seconds) if cluster else 0.0

    for k, pool in pools.items():
        list(pool.map(_noop, range(2 * k)))  # processes started before the clock runs
        engines[f"local_{k}"] = _Engine(LocalEngine(pool).map_fn, pool_cpu(sorted(pool._processes)))  # type: ignore[attr-defined]
        engines[f"dask_{k}"] = _Engine(dask.map_fn, workers_cpu(names[:k]), scheduler_cpu, restrict(names[:k]))
    for name, engine in engines.items():  # imports, first tasks, first connections: outside the clock
        _measure(public, inputs[:WARM_UP], engine)
    per_round: dict[str, list[dict]] = {name: [] for name in engines}
    tasks = dict.fromkeys(engines, 0)
    round_info = []
    for r in range(rounds):
        order = _round_order(r)
        info: dict[str, Any] = {"order": order, "load_average_before": _load()}
        say(f"round {r + 1}/{rounds}: {', '.join(order)} (load {info['load_average_before'][0]}) ...")
        for name in order:
            sent = dask.tasks_sent
            per_round[name].append(_measure(public, inputs, engines[name]))
            tasks[name] += dask.tasks_sent - sent
            if dask.state != "connected":
                raise SystemExit(f"mixscope bench scale: the cluster failed during the run: {dask.reason}")
        info["load_average_after"] = _load()
        info["wall_seconds"] = {name: {what: round(per_round[name][-1][what]["seconds"], 3) for what in PHASES}
                                for name in order}
        round_info.append(info)
    n = len(inputs)
    runs: dict[str, dict] = {}
    for name in engines:
        runs[name] = _summary(per_round[name])
        for what in PHASES:
            runs[name][f"{what}_per_s"] = round(n / runs[name][f"{what}_seconds"], 1)
        if name.startswith("dask"):
            runs[name]["tasks"] = tasks[name] // rounds
    for k, pool in pools.items():
        pids = sorted(pool._processes)  # type: ignore[attr-defined]
        runs[f"local_{k}"]["peak_rss_mb"] = {f"pool-{i}": _proc_peak_mb(pid) for i, pid in enumerate(pids)}
    peaks = client.run(_peak_rss_mb, workers=names)
    for k in (1, 2):
        runs[f"dask_{k}"]["peak_rss_mb"] = {f"worker-{i}": peaks[a] for i, a in enumerate(names[:k])}
        if cluster:  # a LocalCluster's scheduler lives in this process: its peak is the bench's own
            runs[f"dask_{k}"]["peak_rss_mb"]["scheduler"] = client.run_on_scheduler(_peak_rss_mb)
    out: dict[str, Any] = {"runs": runs, "round_log": round_info, "dask_costs": _dask_costs(dask, names, cluster)}
    for kind in ("local", "dask"):
        for what in PHASES:
            speedups = _ratios(per_round, f"{kind}_1", f"{kind}_2", what, "seconds")
            out[f"{kind}_{what}_speedup_1_to_2"] = _median(speedups) if speedups else 0.0
            out[f"{kind}_{what}_speedup_1_to_2_rounds"] = speedups
            out[f"{kind}_{what}_efficiency_per_worker"] = round(out[f"{kind}_{what}_speedup_1_to_2"] / 2, 3)
    for k in (1, 2):
        for what in PHASES:
            for key, field in (("overhead", "seconds"), ("cpu_overhead", "cpu_seconds")):
                ratios = _ratios(per_round, f"dask_{k}", f"local_{k}", what, field)
                out[f"dask_{what}_{key}_{k}"] = round(_median(ratios) - 1, 3) if ratios else 0.0
                out[f"dask_{what}_{key}_{k}_rounds"] = [round(x - 1, 3) for x in ratios]
    return out


def _dask_costs(dask, names: list[str], cluster: str | None) -> dict:
    """What Dask itself costs: CPU while idle (its timers), and per task for tasks that do nothing."""
    client = dask.client

    def cpu() -> list[float]:
        workers = client.run(_cpu_seconds, workers=names)
        scheduler = client.run_on_scheduler(_cpu_seconds) if cluster else 0.0
        return [_cpu_seconds(), scheduler, *(workers[name] for name in names)]

    before, started = cpu(), time.perf_counter()
    time.sleep(IDLE_SECONDS)
    idle = [100 * (b - a) / (time.perf_counter() - started) for a, b in zip(before, cpu())]
    before = cpu()
    futures = client.map(_noop, range(EMPTY_TASKS), pure=False, workers=names)
    client.gather(futures)
    del futures
    per_task = [1000 * (b - a) / EMPTY_TASKS for a, b in zip(before, cpu())]
    return {"idle_cpu_percent": {"calling_process": round(idle[0], 2), "scheduler": round(idle[1], 2),
                                 "workers": [round(x, 2) for x in idle[2:]]},
            "empty_task_cpu_ms": {"calling_process": round(per_task[0], 2), "scheduler": round(per_task[1], 2),
                                  "workers": round(sum(per_task[2:]), 2)},
            "note": "calling_process holds the client, and for a LocalCluster also its scheduler and nannies; "
                    "scheduler: a remote scheduler's own process"}


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


def run(args) -> int:
    if args.n < 2:
        print("mixscope bench scale: --n must be at least 2", file=sys.stderr)
        return 2
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    report = run_scale(args.n, getattr(args, "cluster", None), getattr(args, "rounds", 3), say)
    print(json.dumps(report, indent=2))
    return 0

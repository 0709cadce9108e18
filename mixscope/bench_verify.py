"""`mixscope bench verify RECORD --json`: `mixscope verify RECORD` on the native and on the sodium backend, side by
side in one run, as a user runs it (a fresh process each time, its own pool of `--workers` processes).

The two backends alternate back to back (native, sodium, then sodium, native, ...), so a change in the
machine's load falls on both about equally. Each run reports its wall seconds and its CPU seconds: those of the
`mixscope verify` process and of its pool workers together, which on a machine shared with other work say
more than the wall time does. The ratios are sodium over native, from the medians and round by round.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

BACKENDS = ("native", "sodium")


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children and, through them, their workers
    return usage.ru_utime + usage.ru_stime


def verify_once(record: str, backend: str, workers: int | None) -> dict[str, Any]:
    """One `mixscope verify` run in its own process: wall and CPU seconds, checks passed and the backend it named."""
    command = [sys.executable, "-m", "mixscope", "verify", record, "--backend", backend]
    if workers is not None:
        command += ["--workers", str(workers)]
    cpu, wall = _cpu_of_children(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, _cpu_of_children() - cpu
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-200:]
    return {"backend": backend, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "exit": done.returncode,
            "verified": done.returncode == 0 and f"(backend: {backend})" in summary, "summary": summary}


def _ratio(sodium: float, native: float) -> float | None:
    return round(sodium / native, 2) if native > 0 else None


def measure(record: str, rounds: int, workers: int | None = None) -> dict[str, Any]:
    load_before = os.getloadavg()
    runs: list[dict[str, Any]] = []
    pairs = []
    for round_ in range(rounds):
        order = BACKENDS if round_ % 2 == 0 else BACKENDS[::-1]
        pair = {backend: verify_once(record, backend, workers) for backend in order}
        runs += [pair[backend] for backend in order]
        pairs.append({"wall": _ratio(pair["sodium"]["wall_s"], pair["native"]["wall_s"]),
                      "cpu": _ratio(pair["sodium"]["cpu_s"], pair["native"]["cpu_s"])})
    medians = {backend: {"wall_s": round(statistics.median(r["wall_s"] for r in runs if r["backend"] == backend), 3),
                         "cpu_s": round(statistics.median(r["cpu_s"] for r in runs if r["backend"] == backend), 3)}
               for backend in BACKENDS}
    return {
        "bench": "verify",
        "record": record,
        "rounds": rounds,
        "workers": workers if workers is not None else os.cpu_count(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "all_verified": all(r["verified"] for r in runs),
        **medians,
        "ratio_wall": _ratio(medians["sodium"]["wall_s"], medians["native"]["wall_s"]),
        "ratio_cpu": _ratio(medians["sodium"]["cpu_s"], medians["native"]["cpu_s"]),
        "ratio_per_round": pairs,
        "runs": runs,
    }


def run(args) -> int:
    from mixscope.mixnet import group

    if not group.native_available():
        print("mixscope bench verify: the native backend is not built in this install", file=sys.stderr)
        return 2
    if not os.path.isfile(args.record):
        print(f"mixscope bench verify: no record file {args.record}", file=sys.stderr)
        return 2
    report = measure(args.record, args.rounds, args.workers)
    print(json.dumps(report, indent=2))
    return 0 if report["all_verified"] else 1

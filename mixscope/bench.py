"""`mixscope bench WHAT`: dispatch to the benchmark module, imported only when asked for (the traffic bench
loads Qt, the crypto bench must not)."""

from __future__ import annotations

import importlib

BENCHES = {"crypto": "mixscope.bench_crypto", "traffic": "mixscope.bench_traffic", "voters": "mixscope.bench_voters",
           "nodes": "mixscope.bench_nodes", "server": "mixscope.bench_server",
           "load": "mixscope.bench_load", "gui": "mixscope.bench_gui", "attack": "mixscope.bench_attack",
           "scale": "mixscope.bench_scale", "verify": "mixscope.bench_verify"}


def run(args) -> int:
    return importlib.import_module(BENCHES[args.bench]).run(args)

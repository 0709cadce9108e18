"""`mixscope bench crypto` as a user runs it: a real process printing one JSON object."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_bench(*args):
    return subprocess.run([sys.executable, "-m", "mixscope", "bench", "crypto", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_bench_crypto_prints_the_report(backend):
    result = run_bench("--n", "40", "--json", "--backend", backend)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 40 and report["cores"] >= 1 and report["scalar_mult_us"] > 0
    assert report["backend"] == backend
    # At least the scalar multiplications the algorithm needs (1, 5 and, on libsodium, 8 per ciphertext);
    # the native backend's products of many powers cost a fraction of a scalar mult per term.
    verify_floor = 8.0 if backend == "sodium" else 0.1
    for phase, floor in (("shuffle", 1.0), ("prove", 5.0), ("verify", verify_floor)):
        assert report[phase]["scalar_mult_equivalents"] >= floor, (phase, report)
        assert report[phase]["ms_per_ciphertext"] > 0
    assert report["parallel_speedup"] > 0 and report["machine_parallel_speedup"] > 0
    assert 10 < report["peak_rss_mb"] < 1024


def test_bench_crypto_rejects_a_bad_size():
    result = run_bench("--n", "0", "--no-parallel", "--json")
    assert result.returncode == 2
    assert "--n must be at least 1" in result.stderr and "Traceback" not in result.stderr


def test_bench_crypto_backend_flag_is_checked():
    result = run_bench("--n", "4", "--no-parallel", "--json", "--backend", "gmp")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "--backend" in result.stderr

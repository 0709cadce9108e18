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
def test_bench_crypto_prints_the_report():
    result = run_bench("--n", "40", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 40 and report["cores"] >= 1 and report["scalar_mult_us"] > 0
    for phase, floor in (("shuffle", 1.0), ("prove", 5.0), ("verify", 8.0)):
        # At least the scalar multiplications the algorithm needs (1, 5 and 8 per ciphertext).
        assert report[phase]["scalar_mult_equivalents"] >= floor, (phase, report)
        assert report[phase]["ms_per_ciphertext"] > 0
    assert report["parallel_speedup"] > 0 and report["machine_parallel_speedup"] > 0
    assert 10 < report["peak_rss_mb"] < 1024


def test_bench_crypto_rejects_a_bad_size():
    result = run_bench("--n", "0", "--no-parallel", "--json")
    assert result.returncode == 2
    assert "--n must be at least 1" in result.stderr and "Traceback" not in result.stderr

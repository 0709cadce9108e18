"""`mixscope bench server` runs end to end on small numbers and prints one JSON object."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_server_smoke():
    result = subprocess.run([sys.executable, "-m", "mixscope", "bench", "server", "--nodes", "2", "--rounds", "5",
                             "--frames", "200", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["nodes"] == 2 and report["roll_call_rounds"] == 5
    assert 0 < report["roll_call_ms_p50"] <= report["roll_call_ms_p99"]
    assert report["inbound_frames_per_s"] > 0 and report["nodes_exit_codes"] == [0]

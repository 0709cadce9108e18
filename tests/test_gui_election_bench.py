"""`mixscope bench gui --json` as a real process on a tiny election: it completes and reports what it says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_gui_reports_lateness_and_cpu_per_phase(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    run = subprocess.run([sys.executable, "-m", "mixscope", "bench", "gui", "--ballots", "6", "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    report = json.loads(run.stdout)  # nothing but the JSON on stdout
    assert report["completed"] is True and report["ballots"] == 6
    assert [s["state"] for s in report["stages"]] == ["verified", "rejected", "verified"]
    assert {"voting", "mix", "decrypt", "verify"} <= set(report["phases"])
    mix = report["phases"]["mix"]
    assert mix["lateness_ms_p99"] >= mix["lateness_ms_p50"] >= 0
    assert 0 <= mix["gui_thread_cpu_share"] <= mix["process_cpu_share"] <= 1
    assert report["overall"]["probe_samples"] > 0

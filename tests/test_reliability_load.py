"""The load bench's checks at a small size (the figures come from `mixscope bench load --json`): 100 real
websocket clients in a child process all accepted, listed and answered; 300 ballots from 10 concurrent voters
each stored exactly once, matching its receipt."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from mixscope.bench_load import measure_ballots, measure_websockets

pytestmark = pytest.mark.slow  # load tests: `-m "not slow"` skips them


def test_a_hundred_websocket_clients_are_all_accepted_listed_and_answered():
    report = measure_websockets(100, rounds=3)
    assert report["accepted"] == report["listed"] == 100
    assert report["round_trips"] == 300  # every hello got its welcome
    busy = report["rtt_ms_all_at_once"]
    assert 0 < busy["p50"] <= busy["p99"] <= busy["max"]
    assert 0 < report["rtt_ms_one_at_a_time"]["p50"] <= report["rtt_ms_one_at_a_time"]["p99"]


def test_three_hundred_ballots_from_ten_voters_are_each_stored_exactly_once():
    report = measure_ballots(300, concurrency=10)
    assert report["acknowledged"] == report["stored"] == report["receipts_matching_board"] == 300
    assert report["stored_once"]


def test_bench_load_command_prints_json():
    out = subprocess.run([sys.executable, "-m", "mixscope", "bench", "load", "--clients", "20", "--rounds", "2",
                          "--skip-ballots", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["websockets"]["listed"] == 20

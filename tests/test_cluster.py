"""Proof work on a real Dask cluster (engine/cluster.py): a scheduler and two worker processes on 127.0.0.1,
started here as `dask scheduler` / `dask worker` children, and real elections driven by `mixscope demo`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.dask_cluster import DaskCluster

distributed = pytest.importorskip("distributed")  # the 'cluster' extra (part of 'test')

ROOT = Path(__file__).resolve().parents[1]
PROOF_TASKS = ("verify_chunk", "prove_chunk", "commit_chunk", "reencrypt_chunk")


@pytest.fixture
def cluster(tmp_path):
    dask = DaskCluster(tmp_path, workers=2)
    yield dask
    dask.stop()


def demo(tmp_path, *args: str, timeout: float = 300) -> tuple[dict, str]:
    proc = subprocess.run([sys.executable, "-m", "mixscope", "demo", "--json", "--data-dir", str(tmp_path / "demo"),
                           *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout), proc.stderr


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.mark.slow
def test_election_on_the_cluster_verifies_and_reports_its_tasks(cluster, tmp_path):
    report, _ = demo(tmp_path, "--voters", "24", "--mixers", "2", "--trustees", "2", "--threshold", "2",
                     "--cluster", cluster.address)
    assert report["verified"] and report["tally_matches"]
    assert report["cluster"]["address"] == cluster.address
    assert report["cluster"]["workers"] == 2
    assert "fallback" not in report["cluster"]
    # Two stages proved (mixers: shuffle, commit, prove) and verified (server), two trustees' decryptions
    # and their checks: at least one task each, most of them several.
    assert report["cluster"]["tasks"] >= 12
    # And anyone may verify the record on the same cluster.
    verify = subprocess.run([sys.executable, "-m", "mixscope", "verify", report["record"],
                             "--cluster", cluster.address], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout[-1000:] + verify.stderr[-1000:]
    assert "VERIFIED" in verify.stdout and f"connected to {cluster.address}" in verify.stderr


@pytest.mark.slow
def test_worker_killed_mid_stage_the_election_completes(cluster, tmp_path):
    """As soon as a worker runs a proof task (a mixer's proving or the server's stage check), it is killed:
    its task runs on the other worker and the election completes and verifies."""
    killed: list[str] = []
    stop = threading.Event()

    def killer():
        with distributed.Client(cluster.address, timeout=10) as probe:
            while not stop.is_set():
                for address, keys in probe.processing().items():
                    if any(str(key).startswith(PROOF_TASKS) for key in keys):
                        name = probe.scheduler_info(n_workers=-1)["workers"][address]["name"]
                        proc = cluster.workers[int(str(name).removeprefix("w")) - 1]
                        proc.send_signal(signal.SIGKILL)
                        killed.append(str(name))
                        return
                time.sleep(0.01)

    watcher = threading.Thread(target=killer, daemon=True)
    watcher.start()
    try:
        report, _ = demo(tmp_path, "--voters", "120", "--mixers", "2", "--trustees", "1", "--threshold", "1",
                         "--cluster", cluster.address)
    finally:
        stop.set()
        watcher.join(10)
    assert killed, "no proof task was ever seen running"
    assert report["verified"] and report["tally_matches"]
    assert report["cluster"]["workers"] == 1  # one worker died; the other did the rest
    assert "fallback" not in report["cluster"]
    assert report["cluster"]["tasks"] > 0


@pytest.mark.slow
def test_unreachable_scheduler_falls_back_to_the_local_pool(tmp_path):
    address = f"tcp://127.0.0.1:{closed_port()}"
    report, stderr = demo(tmp_path, "--voters", "8", "--mixers", "1", "--trustees", "1", "--threshold", "1",
                          "--cluster", address)
    assert report["verified"] and report["tally_matches"]
    assert report["cluster"]["tasks"] == 0
    assert "unreachable" in report["cluster"]["fallback"]
    assert f"scheduler {address} unreachable" in stderr and "working on the local pool" in stderr


@pytest.mark.slow
def test_unreachable_scheduler_is_shown_in_the_panel(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    address = f"tcp://127.0.0.1:{closed_port()}"
    runner = ServerRunner(port=0, data_dir=str(tmp_path / "board"))
    win = MainWindow(runner, QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    try:
        win.server_bar.cluster_edit.setText(address)
        win.start_server()
        qtbot.waitUntil(lambda: win.cluster_view.state.state == "fallback", timeout=30_000)
        assert win.cluster_dock.isVisible()
        assert win.cluster_view.address_label.text() == address
        assert "fell back to the local pool" in win.cluster_view.state_label.text()
        assert "unreachable" in win.cluster_view.state_label.text()
        assert runner.cluster_info()["state"] == "fallback"
    finally:
        win.close()
    assert not runner.running


def test_a_bad_cluster_address_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mixscope", "serve", "--cluster", "tcp://nowhere"], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "is not a cluster address" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_bench_scale_reports_both_engines(cluster):
    """The bench's shape on a tiny shuffle, on the test's own cluster (its first 1, then 2 workers)."""
    proc = subprocess.run([sys.executable, "-m", "mixscope", "bench", "scale", "--n", "150", "--cluster",
                           cluster.address, "--json"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert set(report["runs"]) == {"local_1", "local_2", "dask_1", "dask_2"}
    for run in report["runs"].values():
        assert run["prove_per_s"] > 0 and run["verify_per_s"] > 0
        assert all(mb is None or mb > 0 for mb in run["peak_rss_mb"].values())
    assert len(report["runs"]["dask_2"]["peak_rss_mb"]) == 3  # two workers and the scheduler
    assert report["runs"]["dask_1"]["tasks"] > 0
    assert report["traffic"]["ciphertext_json_bytes"] > 128  # two 32-byte elements in hex, and JSON around them
    for key in ("dask_verify_speedup_1_to_2", "dask_verify_overhead_2", "dask_prove_cpu_overhead_1"):
        assert isinstance(report[key], float)
    # Rounds in alternating order, each ratio taken within a round; what Dask itself costs on this cluster.
    orders = [r["order"] for r in report["round_log"]]
    assert len(orders) == report["rounds"] == 3 and orders[0] == orders[2] == orders[1][::-1]
    assert len(report["dask_verify_overhead_2_rounds"]) == 3 and "overhead" in report["definitions"]
    assert len(report["dask_costs"]["idle_cpu_percent"]["workers"]) == 2
    assert report["dask_costs"]["empty_task_cpu_ms"]["workers"] > 0


@pytest.mark.slow
def test_the_panel_shows_its_cluster(cluster, qtbot, tmp_path):
    """The server strip's Cluster field, applied at start: the Cluster dock shows the scheduler, its two
    workers and a link to its dashboard."""
    from PySide6.QtCore import QSettings

    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    runner = ServerRunner(port=0, data_dir=str(tmp_path / "board"))
    settings = QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)
    win = MainWindow(runner, settings)
    qtbot.addWidget(win)
    win.show()
    try:
        win.server_bar.cluster_edit.setText(cluster.address)
        win.start_server()
        qtbot.waitUntil(lambda: win.cluster_view.state.state == "connected", timeout=30_000)
        assert win.cluster_dock.isVisible()
        assert win.cluster_view.address_label.text() == cluster.address
        assert win.cluster_view.workers_text.toPlainText().count("tcp://127.0.0.1:") == 2
        link = win.cluster_view.state.dashboard
        assert link.startswith("http://127.0.0.1:") and win.cluster_view.dashboard_label.text() == link
        assert win.cluster_view.dashboard_button.isEnabled()
        assert settings.value("server/cluster") == cluster.address  # kept for the next start
        assert runner.cluster_info()["workers"] and runner.cluster_info()["state"] == "connected"
    finally:
        win.close()

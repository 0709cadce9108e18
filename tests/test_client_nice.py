"""`mixscope node --nice N`: lab nodes (spawned by the panel and the demo) yield the CPU to the GUI thread."""

import os
import subprocess
import sys

import psutil

from mixscope.gui.process_manager import NODE_NICENESS, node_command
from tests.conftest import ROOT, NodeProcess


def test_a_panel_spawned_node_runs_at_niceness_10_or_more(server, tmp_path):
    command = node_command(server.ws_url, "mixer-nice", "mixer", ("--data-dir", str(tmp_path / "node")))
    node = NodeProcess(command)
    try:
        node.wait_for("welcomed", timeout=20)
        assert NODE_NICENESS == 10
        assert psutil.Process(node.proc.pid).nice() >= 10
        assert psutil.Process(node.proc.pid).nice() >= os.nice(0) + 10  # raised from the parent's, not set
    finally:
        node.terminate()
        for stream in (node.proc.stdout, node.proc.stderr):
            stream.close()


def test_a_node_without_nice_keeps_its_parents_niceness(server, tmp_path):
    node = NodeProcess([sys.executable, "-u", "-m", "mixscope", "node", "--url", server.ws_url, "--name", "plain",
                        "--data-dir", str(tmp_path / "node")])
    try:
        node.wait_for("welcomed", timeout=20)
        assert psutil.Process(node.proc.pid).nice() == os.nice(0)
    finally:
        node.terminate()
        for stream in (node.proc.stdout, node.proc.stderr):
            stream.close()


def test_a_nice_out_of_range_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "mixscope", "node", "--url", "ws://127.0.0.1:9/ws", "--name", "n",
                             "--nice", "25"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--nice must be 0..19" in result.stderr and "Traceback" not in result.stderr

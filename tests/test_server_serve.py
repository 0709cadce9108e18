"""`mixscope serve` as a real process: prints where it listens and its tokens, serves, stops on a signal."""

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import websocket

ROOT = Path(__file__).resolve().parents[1]


def spawn_serve(tmp_path, *args):
    command = [sys.executable, "-u", "-m", "mixscope", "serve", "--data-dir", str(tmp_path), *args]
    return subprocess.Popen(command, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_banner(proc) -> dict:
    """The URL, websocket URL and tokens from the first lines `serve` prints (other lines are skipped)."""
    banner = {}
    while len(banner) < 4:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if m := re.match(r"Mixscope server listening on (http://\S+)", line):
            banner["url"] = m[1]
        elif m := re.match(r"(websocket|admin token|join token): (\S+)", line):
            banner[m[1]] = m[2]
    return banner


@pytest.mark.slow
def test_serve_port_zero_prints_its_url_serves_and_stops_on_sigint(tmp_path):
    proc = spawn_serve(tmp_path, "--port", "0")
    try:
        banner = read_banner(proc)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", banner["url"]) and not banner["url"].endswith(":0")
        assert banner["websocket"] == banner["url"].replace("http", "ws") + "/ws"
        ws = websocket.create_connection(banner["websocket"], timeout=5)
        ws.send(json.dumps({"type": "hello", "name": "probe", "role": "voter"}))
        assert json.loads(ws.recv())["type"] == "welcome"
        request = urllib.request.Request(banner["url"] + "/api/clients",
                                         headers={"Authorization": f"Bearer {banner['admin token']}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert [c["name"] for c in json.load(response)["clients"]] == ["probe"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert "stopped" in proc.stdout.read()
        stderr = proc.stderr.read()
        assert "Traceback" not in stderr
        assert banner["admin token"] not in stderr and banner["join token"] not in stderr  # tokens not logged
        ws.close()
    finally:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.slow
def test_serve_warns_when_not_bound_to_loopback_and_stops_on_sigterm(tmp_path):
    proc = spawn_serve(tmp_path, "--host", "0.0.0.0", "--port", "0")
    try:
        banner = read_banner(proc)
        assert banner["url"].startswith("http://127.0.0.1:")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert "warning" in proc.stderr.read().lower()
    finally:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.slow
def test_serve_on_a_busy_port_fails_with_one_line(tmp_path):
    proc = spawn_serve(tmp_path, "--port", "0")
    try:
        port = read_banner(proc)["url"].rsplit(":", 1)[1]
        busy = subprocess.run([sys.executable, "-m", "mixscope", "serve", "--data-dir", str(tmp_path / "other"),
                               "--port", port], cwd=ROOT,
                              capture_output=True, text=True, timeout=30)
        assert busy.returncode == 1 and "Traceback" not in busy.stderr and busy.stderr.strip()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()

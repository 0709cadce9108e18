"""Test support for the headless lab: a real `mixscope serve` process, its nodes, and the CLI as a child."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Serve:
    """A `mixscope serve --port 0` child with its banner (url, ws_url, admin and join tokens)."""

    def __init__(self, data_dir: Path, *extra: str):
        command = [sys.executable, "-u", "-m", "mixscope", "serve", "--port", "0", "--data-dir", str(data_dir), *extra]
        self.errors = open(data_dir.parent / "serve.err", "w") if data_dir.parent.exists() else subprocess.DEVNULL
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.errors, text=True)
        banner = {}
        while len(banner) < 4:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"serve exited with {self.proc.wait(5)} before its banner")
            if m := re.match(r"Mixscope server listening on (\S+)", line):
                banner["url"] = m[1]
            elif m := re.match(r"(websocket|admin token|join token): (\S+)", line):
                banner[m[1]] = m[2]
        self.url, self.ws_url = banner["url"], banner["websocket"]
        self.admin_token, self.join_token = banner["admin token"], banner["join token"]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        self.proc.stdout.close()
        if hasattr(self.errors, "close"):
            self.errors.close()
        return code


@contextlib.contextmanager
def serve(tmp_path: Path, *extra: str):
    (tmp_path / "server").mkdir(exist_ok=True)
    server = Serve(tmp_path / "server" / "data", *extra)
    try:
        yield server
    finally:
        server.stop()


def cli(server: Serve | None, *args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """`mixscope election ARGS` as a child, server and token from the environment."""
    environment = {**os.environ, **(env or {})}
    if server is not None:
        environment.setdefault("MIXSCOPE_URL", server.url)
        environment.setdefault("MIXSCOPE_TOKEN", server.admin_token)
    return subprocess.run([sys.executable, "-m", "mixscope", "election", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def wait_joined(admin, roles: dict[str, int], timeout: float = 60.0) -> list[dict]:
    """Until the server lists at least `roles[r]` connected nodes of each role that joined (token, signed hello)."""
    deadline = time.monotonic() + timeout
    while True:
        clients = [c for c in admin.clients() if c.get("state", "connected") == "connected"]
        have = {r: sum(1 for c in clients if c.get("role") == r and c.get("joined")) for r in roles}
        if all(have[r] >= n for r, n in roles.items()):
            return clients
        if time.monotonic() > deadline:
            raise AssertionError(f"nodes did not join within {timeout:g} s: have {have}, need {roles}")
        time.sleep(0.1)

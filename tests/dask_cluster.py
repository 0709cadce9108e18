"""A real Dask cluster on 127.0.0.1 for the cluster tests: a `dask scheduler` and worker processes, each a
child of the test (no nanny: a worker killed by a test stays dead, as a crashed machine would)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")


class DaskCluster:
    def __init__(self, tmp_path: Path, workers: int = 2):
        self.tmp = tmp_path
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.scheduler_file = tmp_path / "scheduler.json"
        self.scheduler = self._spawn("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                                   "--dashboard-address", "127.0.0.1:0",  # never a fixed port
                                                   "--scheduler-file", str(self.scheduler_file)])
        self.address = self._wait_address()
        self.workers = [self.add_worker(f"w{k}") for k in range(1, workers + 1)]
        self.wait_workers(workers)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"dask-{name}.log", "w")
        try:
            return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        finally:
            log.close()

    def add_worker(self, name: str) -> subprocess.Popen:
        return self._spawn(name, [str(DASK), "worker", self.address, "--name", name, "--nthreads", "1",
                                  "--no-nanny", "--dashboard-address", "127.0.0.1:0", "--host", "127.0.0.1"])

    def _wait_address(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler exited: {self.log('scheduler')}")
            try:
                return json.loads(self.scheduler_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        raise RuntimeError("dask scheduler did not start")

    def wait_workers(self, count: int, timeout: float = 60) -> None:
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            client.wait_for_workers(count, timeout=timeout)

    def worker_pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.poll() is None]

    def log(self, name: str) -> str:
        try:
            return (self.tmp / f"dask-{name}.log").read_text()[-2000:]
        except OSError:
            return ""

    def kill_scheduler(self) -> None:
        self.scheduler.send_signal(signal.SIGKILL)
        self.scheduler.wait(10)

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

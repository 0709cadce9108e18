"""Child node processes: spawn with QProcess, sample CPU and memory with psutil, kill, restart, stop all.

Everything here is asynchronous (QProcess signals, a 1 Hz sampling timer) so the GUI thread never waits
on a child, except in `stop_all`, which runs once at quit with a short bound.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

# The checkout root, so `python -m mixscope` works in the child even when the package is not installed.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[1])
LOG_LINES = 2_000


@dataclass(eq=False)
class ManagedProcess:
    name: str
    role: str
    url: str
    process: QProcess
    started_at: float = 0.0
    pid: int | None = None
    state: str = "starting"       # starting | running | exited | killed | crashed | failed
    node_status: str = ""         # last "event" from the node's JSON status lines
    exit_code: int | None = None
    cpu_percent: float | None = None
    rss_bytes: int | None = None
    restarts: int = 0
    extra_args: tuple[str, ...] = ()  # role flags (--cheat, --data-dir, --workers): kept for restarts
    join_token: str | None = None     # passed in the environment, never on the command line (ps shows argv)
    log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=LOG_LINES))
    _psutil: psutil.Process | None = None
    _restart_pending: bool = False
    _killed: bool = False
    _partial: str = ""

    @property
    def uptime(self) -> float | None:
        if self.state not in ("starting", "running") or not self.started_at:
            return None
        return time.time() - self.started_at


# Panel-spawned nodes share the machine with the GUI thread: they run nicer so the panel stays responsive.
NODE_NICENESS = 10


def node_command(url: str, name: str, role: str, extra_args: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-u", "-m", "mixscope", "node", "--url", url, "--name", name, "--role", role,
            "--nice", str(NODE_NICENESS), *extra_args]


JOIN_TOKEN_ENV = "MIXSCOPE_JOIN_TOKEN"  # client/node.py reads the token from here when --join-token is absent


class ProcessManager(QObject):
    about_to_add = Signal(int)   # row (the entry is not in `processes` yet)
    added = Signal(int)          # row
    changed = Signal(int)        # row
    log_appended = Signal(int)   # row
    sampled = Signal()           # CPU/memory refreshed for every running row

    def __init__(self, parent: QObject | None = None, sample_ms: int = 1000):
        super().__init__(parent)
        self.processes: list[ManagedProcess] = []
        self._counter = 0
        self._sampler = QTimer(self)
        self._sampler.setInterval(sample_ms)
        self._sampler.timeout.connect(self._sample)
        self._sampler.start()

    # --- spawning ------------------------------------------------------------------------------------------
    def spawn(self, url: str, count: int = 1, role: str = "mixer", prefix: str | None = None, *,
              names: list[str] | None = None, extra_args: dict[str, tuple[str, ...]] | tuple[str, ...] = (),
              join_token: str | None = None) -> list[ManagedProcess]:
        """Start `count` nodes (or one per entry of `names`). `extra_args` are more command-line flags, for
        all of them or per name; `join_token` goes to the child's environment."""
        spawned = []
        for position in range(len(names) if names else count):
            self._counter += 1
            name = names[position] if names else f"{prefix or role}-{self._counter}"
            flags = extra_args.get(name, ()) if isinstance(extra_args, dict) else tuple(extra_args)
            entry = ManagedProcess(name, role, url, QProcess(self), extra_args=flags, join_token=join_token)
            self._wire(entry)
            self.about_to_add.emit(len(self.processes))
            self.processes.append(entry)
            self.added.emit(len(self.processes) - 1)
            self._start(entry)
            spawned.append(entry)
        return spawned

    def _wire(self, entry: ManagedProcess) -> None:
        process = entry.process
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        path = env.value("PYTHONPATH", "")
        env.insert("PYTHONPATH", _PROJECT_ROOT + (os.pathsep + path if path else ""))
        if entry.join_token:
            env.insert(JOIN_TOKEN_ENV, entry.join_token)
        process.setProcessEnvironment(env)
        process.started.connect(lambda e=entry: self._on_started(e))
        process.finished.connect(lambda code, status, e=entry: self._on_finished(e, code, status))
        process.errorOccurred.connect(lambda error, e=entry: self._on_error(e, error))
        process.readyReadStandardOutput.connect(lambda e=entry: self._read(e, e.process.readAllStandardOutput()))
        process.readyReadStandardError.connect(lambda e=entry: self._read(e, e.process.readAllStandardError()))

    def _start(self, entry: ManagedProcess) -> None:
        entry.state, entry.node_status, entry.exit_code = "starting", "", None
        entry.pid, entry._psutil, entry.cpu_percent, entry.rss_bytes = None, None, None, None
        entry.started_at = time.time()
        command = node_command(entry.url, entry.name, entry.role, entry.extra_args)
        entry.process.start(command[0], command[1:])
        self._emit_changed(entry)

    # --- actions -------------------------------------------------------------------------------------------
    def kill(self, entry: ManagedProcess) -> None:
        if entry.process.state() != QProcess.ProcessState.NotRunning:
            entry._killed = True
            entry.process.kill()

    def restart(self, entry: ManagedProcess) -> None:
        """Kill (if running) and start again once it has exited; the row keeps its name."""
        entry.restarts += 1
        if entry.process.state() == QProcess.ProcessState.NotRunning:
            self._start(entry)
        else:
            entry._restart_pending = True
            entry._killed = True
            entry.process.kill()

    def replace(self, entry: ManagedProcess, url: str, extra_args: tuple[str, ...], join_token: str | None) -> None:
        """Start this node again with other settings (another server, token or flags); the row keeps its name."""
        entry.url, entry.extra_args, entry.join_token = url, tuple(extra_args), join_token
        env = entry.process.processEnvironment()
        env.remove(JOIN_TOKEN_ENV)
        if join_token:
            env.insert(JOIN_TOKEN_ENV, join_token)
        entry.process.setProcessEnvironment(env)
        self.restart(entry)

    def set_url(self, url: str) -> None:
        """The URL used by later (re)starts, e.g. after the server moved to another port."""
        for entry in self.processes:
            entry.url = url

    def names(self) -> set[str]:
        return {entry.name for entry in self.processes}

    def running(self) -> list[ManagedProcess]:
        return [e for e in self.processes if e.process.state() != QProcess.ProcessState.NotRunning]

    def stop_all(self, timeout: float = 1.5) -> None:
        """Terminate every child, wait up to `timeout` in total, then kill what is left. Used at quit."""
        self._sampler.stop()
        alive = self.running()
        for entry in alive:
            entry._restart_pending = False
            entry.process.terminate()
        deadline = time.monotonic() + timeout
        for entry in alive:
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            if not entry.process.waitForFinished(remaining_ms):
                entry.process.kill()
                entry.process.waitForFinished(1000)

    # --- process signals -----------------------------------------------------------------------------------
    def _on_started(self, entry: ManagedProcess) -> None:
        entry.state = "running"
        entry.pid = int(entry.process.processId()) or None
        try:
            entry._psutil = psutil.Process(entry.pid) if entry.pid else None
            if entry._psutil:
                entry._psutil.cpu_percent(None)  # prime: the next call reports usage since now
        except psutil.Error:
            entry._psutil = None
        self._emit_changed(entry)

    def _on_finished(self, entry: ManagedProcess, code: int, status: QProcess.ExitStatus) -> None:
        self._read(entry, entry.process.readAllStandardOutput())
        self._read(entry, entry.process.readAllStandardError())
        if status == QProcess.ExitStatus.NormalExit:
            entry.state, entry.exit_code = "exited", code
        elif entry._killed:
            # Qt gives no exit code for a signal death; report SIGKILL the way subprocess does.
            entry.state, entry.exit_code = "killed", -9
        else:
            entry.state, entry.exit_code = "crashed", None
        entry._killed = False
        entry._psutil, entry.cpu_percent, entry.rss_bytes = None, None, None
        self._emit_changed(entry)
        if entry._restart_pending:
            entry._restart_pending = False
            self._start(entry)

    def _on_error(self, entry: ManagedProcess, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            entry.state = "failed"
            entry.log.append(f"[panel] failed to start: {entry.process.errorString()}")
            self._emit_changed(entry)

    def _read(self, entry: ManagedProcess, chunk) -> None:
        text = entry._partial + bytes(chunk).decode("utf-8", "replace")
        *lines, entry._partial = text.split("\n")
        if not lines:
            return
        status_changed = False
        for line in lines:
            entry.log.append(line)
            status = _status_event(line)
            if status:
                entry.node_status, status_changed = status, True
        row = self._row(entry)
        self.log_appended.emit(row)
        if status_changed:
            self.changed.emit(row)

    def _sample(self) -> None:
        any_sampled = False
        for entry in self.processes:
            if entry._psutil is None:
                continue
            try:
                with entry._psutil.oneshot():
                    entry.cpu_percent = entry._psutil.cpu_percent(None)
                    entry.rss_bytes = entry._psutil.memory_info().rss
                any_sampled = True
            except psutil.Error:
                entry._psutil = None
        if any_sampled:
            self.sampled.emit()

    def _row(self, entry: ManagedProcess) -> int:
        return self.processes.index(entry)

    def _emit_changed(self, entry: ManagedProcess) -> None:
        self.changed.emit(self._row(entry))


def _status_event(line: str) -> str | None:
    """The "event" of a node status line ({"event": ..., ...}), or None for any other output."""
    if not line.startswith("{"):
        return None
    try:
        status = json.loads(line)
    except ValueError:
        return None
    return str(status["event"]) if isinstance(status, dict) and "event" in status else None

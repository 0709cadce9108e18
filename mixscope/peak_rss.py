"""Peak resident memory of a process and all its descendants, sampled while they run.

Linux keeps each process's high-water mark (`VmHWM` in /proc/PID/status), so a sample reads the true peak so far
rather than the memory of that instant; a process that ends between two samples keeps its last sampled peak.
Elsewhere the current RSS is sampled instead. Used by `mixscope demo` for its `peak_rss_mb` report.
"""

from __future__ import annotations

import threading

import psutil


def _high_water(proc: psutil.Process) -> int:
    try:
        with open(f"/proc/{proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return proc.memory_info().rss


class PeakRss:
    """Samples this process and its descendants every `interval` seconds on a daemon thread until `stop()`.
    The descendants are listed again only every `rescan` samples: listing them reads every process of the
    machine (psutil's parent map), which cost the demo's server process more CPU than the samples."""

    def __init__(self, interval: float = 0.5, rescan: int = 4):
        self.interval, self.rescan = interval, rescan
        self._known: list[psutil.Process] = []
        self._samples = 0
        self.labels: dict[int, str] = {}  # pid -> a name given by the caller (a node's name)
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (label, bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def start(self) -> "PeakRss":
        self._thread.start()
        return self

    def _label(self, proc: psutil.Process, me: psutil.Process) -> str:
        if proc.pid in self.labels:
            return self.labels[proc.pid]
        if proc.pid == me.pid:
            return "server"
        parent = proc.ppid()
        owner = self.labels.get(parent, "server" if parent == me.pid else f"pid {parent}")
        return f"{owner} child {proc.pid}"

    def sample(self, rescan: bool = False) -> None:
        me = psutil.Process()
        if rescan or self._samples % self.rescan == 0:
            self._known = [me, *me.children(recursive=True)]
        self._samples += 1
        for proc in self._known:
            try:
                seen = self.peaks.get(proc.pid, ("", 0))[1]
                self.peaks[proc.pid] = (self._label(proc, me), max(_high_water(proc), seen))
            except psutil.Error:  # it ended meanwhile
                continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> dict[str, float]:
        """{label: peak MB} for every process seen, largest first."""
        self.sample(rescan=True)
        self._stop.set()
        self._thread.join(5)
        ordered = sorted(self.peaks.values(), key=lambda item: -item[1])
        return {label: round(peak / 2**20, 1) for label, peak in ordered}

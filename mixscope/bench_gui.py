"""`mixscope bench gui --json`: does the panel stay responsive while a big election runs under it?

Real parts only: the panel's MainWindow (offscreen when there is no display) with its own ServerRunner, and
the demo election played through the panel's actions (real trustee and mixer node processes, one cheating
mixer, N ballots cast through the JSON API, mix, decrypt, verify). A 10 ms PreciseTimer probes the GUI
event loop all along; every sample is tagged with the demo phase it fell in, so lateness is reported per
phase (the mix in particular) and overall. CPU: the GUI thread's own time (psutil per-thread times of this
process's main thread), this whole process (GUI + server + its verification pool threads) and every child
process (nodes, their pools, the server's process pool, the voter simulator's pool), per phase.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time

from mixscope.mixnet.group import backend

PROBE_MS = 10
P99_LIMIT_MS = 50.0


class _Cpu:
    """CPU seconds so far: GUI thread, this process, all live descendants (their own children included)."""

    def __init__(self) -> None:
        import psutil
        self.psutil, self.me = psutil, psutil.Process()
        self.seen: dict[int, float] = {}  # descendant pid -> last CPU seconds seen (kept after it exits)

    def sample(self) -> dict[str, float]:
        times = self.me.cpu_times()
        gui = next((t.user_time + t.system_time for t in self.me.threads() if t.id == self.me.pid), 0.0)
        for child in self.me.children(recursive=True):
            try:
                c = child.cpu_times()
                self.seen[child.pid] = c.user + c.system
            except self.psutil.Error:
                pass
        # Pools that came and went between samples (the voter simulator's) are in the reaped-children times.
        reaped = times.children_user + times.children_system
        return {"gui_thread": gui, "process": times.user + times.system, "children": sum(self.seen.values()) + reaped}


def run(args) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from mixscope.gui.app import DEFAULT_SIZE, settle_interpreter
    from mixscope.gui.election.demo import DemoDirector
    from mixscope.gui.lateness import LatenessProbe, percentile, summary
    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    ballots = int(getattr(args, "ballots", 10_000))
    cpu = _Cpu()
    with tempfile.TemporaryDirectory() as tmp:
        runner = ServerRunner(port=0, data_dir=os.path.join(tmp, "data"))
        window = MainWindow(runner, QSettings(os.path.join(tmp, "bench.ini"), QSettings.Format.IniFormat))
        window.resize(*DEFAULT_SIZE)  # the wide layout: every view painted
        demo = DemoDirector(window, voters=ballots, delay=0.0, echo=False)  # stdout is for the JSON
        window.show()
        app.processEvents()  # the window's first paint is start-up, not the loop this bench watches
        settle_interpreter()  # as `mixscope gui` does
        window.start_server()
        cpu_at: dict[str, dict[str, float]] = {}
        wall_at: dict[str, float] = {}
        outcome: list = []

        def phase_now() -> str:
            return demo.phases[demo.index].name if 0 <= demo.index < len(demo.phases) else "end"

        def mark(phase: str) -> None:
            cpu_at[phase], wall_at[phase] = cpu.sample(), time.monotonic()

        probe = LatenessProbe(PROBE_MS, bucket=phase_now, on_new_bucket=mark)
        probe.start()
        # The probe stops with the demo: quitting (stopping the nodes) is not the loop this bench watches.
        def finished(ok: bool, caption: str) -> None:
            probe.stop()
            outcome.append((ok, caption))
            app.quit()

        demo.finished.connect(finished)
        QTimer.singleShot(0, demo.start)
        started = time.monotonic()
        app.exec()
        probe.stop()
        mark("end")
        samples, order = probe.samples, [*probe.order, "end"]
        info = window.election_tracker.info
        stages = [{"mixer": s.name, "state": s.state, "seconds": s.seconds, "count": s.count,
                   "reason": s.reason or None} for s in info.stages]
        window.close()

    phases = {}
    for phase, following in zip(order, order[1:]):
        used = {k: cpu_at[following][k] - cpu_at[phase][k] for k in cpu_at[phase]}
        total = used["process"] + used["children"]
        lateness = samples.get(phase, [])
        phases[phase] = {
            "seconds": round(wall_at[following] - wall_at[phase], 2),
            **summary(lateness),
            "cpu_seconds": {k: round(v, 2) for k, v in used.items()},
            "gui_thread_cpu_share": round(used["gui_thread"] / total, 4) if total else None,
            "process_cpu_share": round(used["process"] / total, 4) if total else None,
        }
    everything = [x for phase in order for x in samples.get(phase, [])]
    mix = phases.get("mix", {})
    result = {
        "bench": "gui",
        "platform": {"python": platform.python_version(), "qpa": app.platformName(), "cpus": os.cpu_count()},
        "ballots": ballots,
        "mixers": 3,
        "completed": bool(outcome and outcome[0][0]),
        "caption": outcome[0][1] if outcome else None,
        "total_seconds": round(time.monotonic() - started, 1),
        "stages": stages,
        "phases": phases,
        "overall": {**summary(everything), "probe_samples": len(everything)},
        "mix": {k: mix.get(k) for k in ("seconds", "lateness_ms_p50", "lateness_ms_p99", "gui_thread_cpu_share",
                                        "process_cpu_share")},
        "target": {"lateness_ms_p99_below": P99_LIMIT_MS},
        "target_met": bool(everything) and percentile(everything, 99) < P99_LIMIT_MS,
    }
    result["backend"] = backend()
    print(json.dumps(result, indent=None if getattr(args, "json", False) else 2))
    return 0 if result["completed"] else 1

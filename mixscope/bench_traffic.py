"""`mixscope bench traffic --json`: can the panel's traffic log keep up with a busy server?

Real parts only: a ServerRunner on an ephemeral loopback port, the panel's MainWindow (shown; offscreen when
there is no display), and websocket-client senders in a separate process pushing "roll_call.reply" frames at rising
rates. For each rate we count the messages that reach the panel's traffic model and measure GUI event-loop
lateness with a timer that expects to fire every PROBE_MS (ticks missed during a stall count as late too). A rate
is "sustained" when at least 95 % of the frames arrive in the window, nothing is dropped, and lateness p99 stays
under 50 ms.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from typing import Any

from mixscope.mixnet.group import backend

RATES = (1_000, 5_000, 10_000, 15_000, 20_000)
PROBE_MS = 10
P99_LIMIT_MS = 50.0
TARGET_RATE = 5_000


def _send(ws_url: str, rate: int, seconds: float, name: str) -> None:
    """Sender process: say hello, then send `rate` frames/s for `seconds`, paced every ~5 ms."""
    import websocket

    ws = websocket.create_connection(ws_url, timeout=10)
    ws.send(json.dumps({"type": "hello", "name": name, "role": "mixer"}))
    ws.recv()  # welcome
    start = time.perf_counter()
    sent = 0
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(rate * elapsed)
        while sent < due:
            ws.send(f'{{"type":"roll_call.reply","request_id":"bench-{sent}","stage":{rate}}}')
            sent += 1
        time.sleep(0.005)
    ws.close()


def run(args) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from mixscope.gui.lateness import LatenessProbe, summary
    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    stage_seconds = max(1.0, float(getattr(args, "seconds", 10.0)) / len(RATES))
    runner = ServerRunner(port=0, message_rate=0)  # the bench floods on purpose: no per-client limit
    runner.start()
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(runner, QSettings(os.path.join(tmp, "bench.ini"), QSettings.Format.IniFormat))
        window.show()
        probe = LatenessProbe(PROBE_MS)
        probe.start()

        def spin(seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

        context = multiprocessing.get_context("spawn")
        stages: list[dict[str, Any]] = []
        try:
            for rate in RATES:
                sender = context.Process(target=_send, args=(runner.ws_url, rate, stage_seconds, f"bench-{rate}"))
                sender.start()
                hello_seen = window.traffic.total
                while window.traffic.total == hello_seen and sender.is_alive():
                    spin(0.02)  # wait for the sender's hello to reach the panel
                before, dropped_before = window.traffic.total, window.pump.dropped
                probe.reset()
                started = time.monotonic()
                spin(stage_seconds)
                elapsed = time.monotonic() - started
                delivered = window.traffic.total - before
                samples = list(probe.samples.get("all", []))
                sender.join(30)
                spin(0.3)  # let the tail drain before the next stage
                window.clear_traffic()
                stage: dict[str, Any] = {
                    "rate_target": rate,
                    "rate_delivered": round(delivered / elapsed),
                    **summary(samples),
                    "probe_samples": len(samples),
                    "dropped": window.pump.dropped - dropped_before,
                }
                stage["sustained"] = (stage["rate_delivered"] >= 0.95 * rate and stage["dropped"] == 0
                                      and stage["lateness_ms_p99"] < P99_LIMIT_MS)
                stages.append(stage)
        finally:
            probe.stop()
            window.close()
            runner.stop()

    at_target = next((s for s in stages if s["rate_target"] == TARGET_RATE), None)
    # The highest rate below which every stage held up (a lone lucky stage above a failing one doesn't count).
    sustained: list[int] = []
    for stage in stages:
        if not stage["sustained"]:
            break
        sustained.append(stage["rate_target"])
    result = {
        "bench": "traffic",
        "platform": {"python": platform.python_version(), "qpa": app.platformName(), "cpus": os.cpu_count()},
        "stage_seconds": stage_seconds,
        "probe_interval_ms": PROBE_MS,
        "stages": stages,
        "max_sustained_rate": max(sustained, default=0),
        "at_5000": {"lateness_ms_p50": at_target["lateness_ms_p50"], "lateness_ms_p99": at_target["lateness_ms_p99"],
                    "rate_delivered": at_target["rate_delivered"]} if at_target else None,
        "target": {"rate": TARGET_RATE, "lateness_ms_p99_below": P99_LIMIT_MS},
        "target_met": bool(at_target and at_target["sustained"]),
    }
    result["backend"] = backend()
    print(json.dumps(result, indent=None if getattr(args, "json", False) else 2))
    return 0

"""`mixscope` alone opens the panel, whose server listens on --port; SIGTERM closes it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bare_mixscope_opens_the_panel_with_its_server_and_quits_on_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path),  # not the user's settings
           "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "mixscope", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the panel's server never listened"
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        settings = list(tmp_path.rglob("*.conf"))
        assert settings, "closing the panel saves its settings"
        with socket.socket() as sock:  # the server let go of the port
            sock.bind(("127.0.0.1", port))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_settling_the_interpreter_keeps_start_up_objects_out_of_full_collections():
    import gc

    from gui.app import GIL_SWITCH_S, settle_interpreter

    switch = sys.getswitchinterval()
    try:
        settle_interpreter()
        assert gc.get_freeze_count() > 10_000 and sys.getswitchinterval() == GIL_SWITCH_S
    finally:
        gc.unfreeze()
        sys.setswitchinterval(switch)

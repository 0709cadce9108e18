"""`mixscope` alone opens the panel, whose server listens on --port; SIGTERM closes it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
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

    from mixscope.gui.app import GIL_SWITCH_S, settle_interpreter

    switch = sys.getswitchinterval()
    try:
        settle_interpreter()
        assert gc.get_freeze_count() > 10_000 and sys.getswitchinterval() == GIL_SWITCH_S
    finally:
        gc.unfreeze()
        sys.setswitchinterval(switch)


needs_display_variables = pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="windows open without one")


@pytest.mark.slow
@needs_display_variables
def test_panel_without_a_display_says_how_to_run_it_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "mixscope"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "xvfb-run -a mixscope" in lines[0] and "mixscope serve" in lines[0], done.stderr
    assert done.stdout == ""


@needs_display_variables
def test_tests_fall_back_to_offscreen_only_without_a_display():
    from mixscope.gui.display import has_display, use_offscreen_without_display

    bare: dict[str, str] = {}
    assert not has_display(bare) and use_offscreen_without_display(bare) and bare["QT_QPA_PLATFORM"] == "offscreen"
    for env in ({"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "xcb"}):
        assert has_display(env) and not use_offscreen_without_display(env) and env.get("QT_QPA_PLATFORM") != \
            "offscreen"

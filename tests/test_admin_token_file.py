"""The admin token is kept beside the board (mode 0600): a `mixscope serve` restarted on the same data
directory keeps it, so a panel attached with --connect reconnects by itself."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
import urllib.parse

import pytest

from mixscope.client.remote import RemoteServer
from mixscope.server import token_file
from tests.headless_lab import ROOT, Serve


@pytest.mark.slow
def test_a_remote_panel_reconnects_across_a_serve_restart(tmp_path):
    data = tmp_path / "data"
    first = Serve(data)
    port = str(urllib.parse.urlsplit(first.url).port)
    states = []
    changed = threading.Condition()
    remote = RemoteServer(first.url, first.admin_token)
    original = remote._state_changed

    def on_state(state, detail):
        original(state, detail)
        with changed:
            states.append(state)
            changed.notify_all()

    remote._state_changed = on_state
    second = None
    try:
        remote.start()
        first.stop()
        with changed:
            assert changed.wait_for(lambda: "disconnected" in states, timeout=30), states
        second = Serve(data, "--port", port)
        assert second.admin_token == first.admin_token
        with changed:
            assert changed.wait_for(lambda: states.count("connected") >= 2, timeout=60), states
        assert "unauthorized" not in states and remote.running
    finally:
        remote.close()
        if second is not None:
            second.stop()
    path = data / token_file.ADMIN_TOKEN
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first.admin_token


@pytest.mark.slow
def test_a_loose_or_broken_token_file(tmp_path):
    path = tmp_path / token_file.ADMIN_TOKEN
    token = token_file.load_or_create(tmp_path, token_file.ADMIN_TOKEN)
    path.chmod(0o644)
    assert token_file.load_or_create(tmp_path, token_file.ADMIN_TOKEN) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened again
    path.write_text("not a token\n")
    result = subprocess.run([sys.executable, "-m", "mixscope", "serve", "--port", "0", "--data-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [f"mixscope serve: {path} does not hold a token; delete it to make "
                                                  "a new one"]

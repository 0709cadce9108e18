"""`mixscope gui --connect`: the panel attached to a `mixscope serve` it did not start drives a whole election
through the admin API and shows what an in-process panel shows; a dropped connection says so and comes back."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings

from mixscope.client.remote import RemoteServer
from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.main_window import MainWindow
from mixscope.gui.remote import RemoteAttachment
from tests.gui_election_driver import WAIT_MS, run_election
from tests.headless_lab import ROOT, serve

SPEC = ElectionSpec("Best group?", ("ristretto255", "P-256"), threshold=2, trustees=3, mixers=3,
                    cheat_mixer=1, cheat="swap")
VOTERS = 6


def open_window(qtbot, runner, tmp_path, name):
    win = MainWindow(runner, QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat))
    if getattr(runner, "remote", False):
        RemoteAttachment(win)
    qtbot.addWidget(win)
    win.show()
    win.start_server()
    qtbot.waitUntil(lambda: win.server_up, timeout=WAIT_MS)
    return win


def expected_checks(shown):
    """The check names, without the simulated voters' random credentials and which t trustees answered first."""
    return sorted(re.sub(r"\((credential|trustee) [^)]*\)", "", name) for name, _ in shown.checks)


@pytest.mark.slow
def test_a_panel_connected_to_serve_shows_what_an_in_process_panel_shows(qtbot, tmp_path, server):
    with serve(tmp_path) as remote_server:
        remote = RemoteServer(remote_server.url, remote_server.admin_token)
        win = open_window(qtbot, remote, tmp_path, "remote")
        try:
            assert win.server_bar.state_label.text() == "● connected"
            assert win.server_bar.ws_edit.text() == remote_server.ws_url
            shown = run_election(win, qtbot, SPEC, VOTERS)
            # the nodes the panel spawned here joined the remote server with the join token from the admin API
            for entry in win.processes.processes:
                assert entry.process.processEnvironment().value("MIXSCOPE_JOIN_TOKEN") == remote_server.join_token
                assert remote_server.join_token not in " ".join(entry.process.arguments())
            clients = {win.clients.client(r).get("name") for r in range(win.clients.rowCount())}
            assert {"trustee-1", "trustee-2", "trustee-3", "mixer-1", "mixer-2", "mixer-3"} <= clients
            assert win.traffic.total > 0  # the traffic came over the event stream
            record = win.election.record_path
            assert record and os.path.isfile(record)  # downloaded: the server's path is not this machine's
            verified = subprocess.run([sys.executable, "-m", "mixscope", "verify", record, "--workers", "1"],
                                      cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert verified.returncode == 0, verified.stdout[-2000:]
        finally:
            win.close()
            remote.close()
    local_win = open_window(qtbot, server, tmp_path, "local")
    try:
        local = run_election(local_win, qtbot, SPEC, VOTERS)
    finally:
        local_win.close()
    for result in (shown, local):
        assert result.stages == [("mixer-1", "verified"), ("mixer-2", "rejected"), ("mixer-3", "verified")]
        assert result.counts == [result.cast.count(0), result.cast.count(1)]
        assert result.results == [("ristretto255", result.counts[0]), ("P-256", result.counts[1])]
        assert result.checks and all(state == "pass" for _, state in result.checks)
    assert shown.stages == local.stages
    assert expected_checks(shown) == expected_checks(local)


@pytest.mark.slow
def test_a_dropped_connection_shows_and_reconnects(qtbot, tmp_path, server):
    remote = RemoteServer(server.url, server.admin_token)
    win = open_window(qtbot, remote, tmp_path, "drop")
    try:
        assert win.server_bar.state_label.text() == "● connected"
        assert win.actions_by_name["action_server_stop"].text() == "&Disconnect"
        server.stop()
        qtbot.waitUntil(lambda: not win.server_up, timeout=WAIT_MS)
        assert win.server_bar.state_label.text() == "connection lost, reconnecting…"
        assert not win.actions_by_name["action_election_new"].isEnabled()
        future = remote.call("election.list", {})
        with pytest.raises(Exception, match="not connected"):
            future.result(5)
        server.start()  # same port and token: the stream comes back by itself
        qtbot.waitUntil(lambda: win.server_up, timeout=WAIT_MS)
        assert win.server_bar.state_label.text() == "● connected"
        assert remote.call("election.list", {}).result(10) == {"elections": []}
    finally:
        win.close()
        remote.close()


@pytest.mark.slow
def test_connect_needs_a_token_and_says_so_in_one_line(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MIXSCOPE_TOKEN": ""}
    run = subprocess.run([sys.executable, "-m", "mixscope", "gui", "--connect", "http://127.0.0.1:9"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and "admin token" in run.stderr


def test_attaching_shows_the_servers_current_election_and_clients(qtbot, tmp_path, server, ws_client):
    from mixscope.mixnet.credentials import generate

    eid = server.call("election.create", {"question": "Already here?", "candidates": ["y", "n"],
                                          "credentials": [c.voter_id for c in generate(1)]}).result(10)
    node = ws_client(hello=("observer-node", "voter"))
    remote = RemoteServer(server.url, server.admin_token)
    win = open_window(qtbot, remote, tmp_path, "attach")
    try:
        qtbot.waitUntil(lambda: win.election_tracker.info.election_id == eid["election_id"], timeout=WAIT_MS)
        info = win.election_tracker.info
        assert info.question == "Already here?" and info.state == "created"
        assert win.actions_by_name["action_election_keygen"].isEnabled()
        names = {win.clients.client(r).get("name"): win.clients.client(r).get("state")
                 for r in range(win.clients.rowCount())}
        assert names.get("observer-node") == "connected"  # from the stream's snapshot, before any event
        node.close()
        qtbot.waitUntil(lambda: any(win.clients.client(r).get("name") == "observer-node"
                                    and win.clients.client(r).get("state") == "disconnected"
                                    for r in range(win.clients.rowCount())), timeout=WAIT_MS)
    finally:
        win.close()
        remote.close()


@pytest.mark.parametrize("election_id, kept", [
    ("t_aIPMvG", True), ("W-ANBX90", True), ("../../.bashrc", False), ("/etc/passwd", False), ("..", False),
    (".hidden", False), ("a/b", False), ("x" * 65, False), ("a\x00b", False)])
def test_a_downloaded_record_is_named_by_a_plain_id_or_a_digest(election_id, kept):
    """The publish result's election id is the server's text: it never leaves the records folder."""
    from mixscope.client.remote import record_file_name

    name = record_file_name(election_id)
    assert "/" not in name and "\x00" not in name and not name.startswith(".")
    assert (name == f"record-{election_id}.json") == kept

"""What outlives a process: the join token (kept beside the board, mode 0600, so running nodes get back in after
a server restart), the board (checkpointed on every stop: the database file alone holds everything), and
nothing else (the temporary directory is left empty). Real `mixscope` processes throughout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, NodeProcess, running_server
from mixscope.server.board import Board
from web_election import request, signed_ballot, voter_id, voting_election


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Serve:
    """`mixscope serve` as a child; `fields` holds what it printed at start (url, websocket, tokens)."""

    def __init__(self, data_dir: Path, port: int = 0, env: dict | None = None):
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "mixscope", "serve", "--port", str(port),
                                      "--data-dir", str(data_dir)], cwd=ROOT, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.fields = {}
        while "join token" not in self.fields:
            line = self.proc.stdout.readline()
            assert line, "mixscope serve exited before it was ready"
            key, _, value = line.partition(": ")
            self.fields["url" if key.startswith("Mixscope server") else key] = (
                line.split(" on ", 1)[1] if key.startswith("Mixscope server") else value).strip()
        self.port = int(self.fields["url"].rsplit(":", 1)[1])

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self.proc.stdout.close()
        return code


def _node(url: str, token: str, data_dir: Path, **env: str) -> NodeProcess:
    """A real mixer node; `env`: variables changed for it (NodeProcess passes on this process's environment)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return NodeProcess([sys.executable, "-u", "-m", "mixscope", "node", "--url", url, "--name", "m1", "--role",
                            "mixer", "--join-token", token, "--data-dir", str(data_dir)])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.slow
def test_a_restarted_server_keeps_its_join_token_and_lets_a_running_node_back_in(tmp_path):
    port = _free_port()
    first = Serve(tmp_path / "board", port)
    token = first.fields["join token"]
    token_file = tmp_path / "board" / "join_token"
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    node = _node(first.fields["websocket"], token, tmp_path / "node")
    try:
        node.wait_for("welcomed")
        assert first.stop() == 0
        second = Serve(tmp_path / "board", port)
        try:
            assert second.fields["join token"] == token
            node.wait_for("welcomed", timeout=60)  # the same node process, reconnected and accepted
            assert not [line for line in node.lines if line.get("reason") == "bad_join"]
        finally:
            second.stop()
    finally:
        node.terminate()


def _cast(server, eid: str, public_key: bytes, count: int) -> None:
    for k in range(count):
        ballot = signed_ballot(eid, public_key, f"voter-{k}", k % 3)
        status, body = request(server, "POST", f"/api/elections/{eid}/ballots",
                               {"voter_id": voter_id(eid, f"voter-{k}"), "ballot": ballot})
        assert status == 201, body


def _copy_of_the_file_alone(board_file: Path, target: Path) -> Board:
    target.mkdir()
    shutil.copyfile(board_file, target / board_file.name)  # no -wal, no -shm
    return Board(target / board_file.name)


@pytest.mark.slow
def test_sigterm_of_serve_leaves_everything_in_the_database_file(tmp_path):
    with Board(data_dir=tmp_path / "board") as board:
        eid, public_key = voting_election(board)
    serve = Serve(tmp_path / "board")
    _cast(serve, eid, public_key, 12)
    assert serve.stop() == 0
    assert sorted(p.name for p in (tmp_path / "board").iterdir()) == ["admin_token", "board.sqlite3", "join_token"]
    with _copy_of_the_file_alone(tmp_path / "board" / "board.sqlite3", tmp_path / "copy") as copy:
        assert copy.count_ballots(eid) == 12
        assert copy.get_election(eid).state == "voting"


def test_runner_restart_and_close_checkpoint_the_board(tmp_path):
    with running_server(tmp_path) as server:
        eid, public_key = voting_election(server.board)
        _cast(server, eid, public_key, 5)
        server.call("election.close", {"election_id": eid}).result(30)
        server.restart()
        with _copy_of_the_file_alone(server.board.path, tmp_path / "after-restart") as copy:
            assert copy.count_ballots(eid) == 5 and copy.get_election(eid).state == "closed"
        folder = server.board.path.parent
        server.close()
    assert sorted(p.name for p in folder.iterdir()) == ["admin_token", "board.sqlite3", "join_token"]


def test_quitting_the_panel_closes_the_board(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from mixscope.gui.main_window import MainWindow
    from mixscope.server.runner import ServerRunner

    runner = ServerRunner(port=0, data_dir=str(tmp_path / "data"))
    window = MainWindow(runner, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    runner.start()
    eid, public_key = voting_election(runner.board)
    _cast(runner, eid, public_key, 4)
    runner.call("election.close", {"election_id": eid}).result(30)
    window.close()  # closeEvent: the panel's quit path
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["admin_token", "board.sqlite3", "join_token"]
    with _copy_of_the_file_alone(tmp_path / "data" / "board.sqlite3", tmp_path / "copy") as copy:
        assert copy.count_ballots(eid) == 4 and copy.get_election(eid).state == "closed"


@pytest.mark.slow
def test_mixscope_processes_leave_nothing_in_the_temporary_directory(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1"}
    serve = Serve(tmp_path / "board", env=env)
    node = _node(serve.fields["websocket"], serve.fields["join token"], tmp_path / "node", TMPDIR=str(scratch))
    try:
        node.wait_for("welcomed")
    finally:
        node.terminate()
        assert serve.stop() == 0
    demo = subprocess.run([sys.executable, "-m", "mixscope", "demo", "--voters", "4", "--mixers", "2", "--trustees",
                           "2", "--threshold", "1", "--json", "--data-dir", str(tmp_path / "demo")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    record = json.loads(demo.stdout)["record"]
    verify = subprocess.run([sys.executable, "-m", "mixscope", "verify", record, "--workers", "2"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr[-2000:]
    assert sorted(p.name for p in scratch.iterdir()) == []

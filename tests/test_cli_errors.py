"""Every subcommand, given bad arguments or unusable files, says what is wrong in one line on stderr and exits
non-zero: never a traceback. Real `python -m mixscope` processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from conftest import ROOT
from mixscope.mixnet.credentials import new_code


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    (folder / "bad.json").write_text("{bad json")
    (folder / "not-a-record.json").write_text(json.dumps({"hello": "world"}))
    (folder / "a-list.json").write_text("[1, 2]")
    (folder / "binary.json").write_bytes(bytes(range(256)) * 4)
    (folder / "empty.json").write_text("")
    (folder / "garbage.pem").write_text("not a certificate")
    (folder / "code.txt").write_text(new_code() + "\n")  # a credential code on no election's list
    return folder


CASES = [  # (arguments, exit code, a piece of the one line)
    (["nope"], 2, "invalid choice"),
    (["serve", "--port", "abc"], 2, "invalid port value"),
    (["serve", "--port", "99999"], 2, "port must be 0..65535"),
    (["serve", "--port", "-1"], 2, "port must be 0..65535"),
    (["serve", "--port", "0", "--data-dir", "/proc/no-such-dir"], 1, "No such file"),
    (["serve", "--port", "0", "--certfile", "{d}/garbage.pem", "--keyfile", "{d}/garbage.pem"], 2, "cannot use"),
    (["serve", "--port", "0", "--keyfile", "{d}/garbage.pem"], 2, "--keyfile needs --certfile"),
    (["serve", "--bogus"], 2, "unrecognized arguments"),
    (["node"], 2, "required"),
    (["node", "--url", "http://x", "--name", "a"], 2, "ws:// or wss://"),
    (["node", "--url", "ws://127.0.0.1:1/ws", "--name", "../evil"], 2, "node name"),
    (["node", "--url", "ws://127.0.0.1:1/ws", "--name", "a", "--role", "king"], 2, "invalid choice"),
    (["node", "--url", "ws://127.0.0.1:1/ws", "--name", "a", "--workers", "0"], 2, "--workers"),
    (["node", "--url", "ws://127.0.0.1:1/ws", "--name", "a", "--cheat", "drop", "--role", "trustee"], 2, "mixers only"),
    (["node", "--url", "wss://127.0.0.1:1/ws", "--name", "a", "--cafile", "{d}/missing.pem"], 2, "CA file"),
    (["vote", "--server", "notaurl", "--election", "e", "--credential", "{d}/code.txt", "--choice", "1"], 2,
     "server URL"),
    (["vote", "--server", "http://127.0.0.1:{closed}", "--election", "e", "--credential", "{d}/code.txt",
      "--choice", "1"], 1, "cannot reach"),
    (["vote", "--server", "http://x", "--election", "e", "--credential", "{d}/bad.json", "--choice", "1"], 2,
     "a credential code is 24 letters"),
    (["vote", "--server", "http://x", "--election", "e", "--credential", "{d}/missing", "--choice", "1"], 2,
     "cannot read"),
    (["election", "credentials", "--count", "0", "--out", "{d}/creds-a"], 2, "--count must be"),
    (["election", "credentials", "--voters", "{d}/missing.txt", "--out", "{d}/creds-b"], 2, "cannot read voter file"),
    (["election", "credentials", "--voters", "{d}/empty.json", "--out", "{d}/creds-c"], 2, "lists no voter"),
    (["election", "credentials", "--count", "3", "--out", "{d}"], 2, "not an empty folder"),
    (["election", "credentials", "--count", "3"], 2, "required"),
    (["vote", "--server", "http://x"], 2, "required"),
    (["verify"], 2, "required"),
    (["verify", "{d}/missing.json"], 2, "cannot read"),
    (["verify", "{d}"], 2, "cannot read"),
    (["verify", "{d}/bad.json"], 2, "is not JSON"),
    (["verify", "{d}/empty.json"], 2, "is not JSON"),
    (["verify", "{d}/binary.json"], 2, "is not JSON"),
    (["demo", "--voters", "-1"], 2, "--voters"),
    (["demo", "--threshold", "5", "--trustees", "2"], 2, "threshold"),
    (["demo", "--cheat", "melt"], 2, "invalid choice"),
    (["bench"], 2, "required"),
    (["bench", "crypto", "--n", "0"], 2, "at least 1"),
    (["bench", "voters", "--n", "0"], 2, "at least 1"),
    (["bench", "nodes", "--n", "-4"], 2, "at least 1"),
    (["bench", "server", "--nodes", "x"], 2, "invalid count value"),
    (["bench", "load", "--clients", "0"], 2, "at least 1"),
    (["bench", "traffic", "--seconds", "-1"], 2, "positive number"),
    (["gui", "--port", "70000"], 2, "port must be 0..65535"),
    (["gui", "--certfile", "{d}/missing.pem"], 2, "does not exist"),  # refused before any window opens
]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


@pytest.mark.slow
@pytest.mark.parametrize("args, code, says", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_arguments_and_files_are_one_line_errors(files, args, code, says):
    argv = [a.format(d=files, closed=_closed_port()) for a in args]
    out = subprocess.run([sys.executable, "-m", "mixscope", *argv], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == code, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("mixscope"), out.stderr


@pytest.mark.slow
def test_a_busy_port_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "mixscope", "serve", "--port", str(port), "--data-dir",
                              str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == ["mixscope serve: Address already in use"]


@pytest.mark.parametrize("name", ["not-a-record.json", "a-list.json"])
def test_json_that_is_no_record_is_a_failing_report_exit_1(files, name):
    """docs/verifier.md: exit 2 only when the file is not JSON at all; a wrong format is a failing check."""
    out = subprocess.run([sys.executable, "-m", "mixscope", "verify", f"{files}/{name}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stdout.splitlines()[0].startswith("FAIL format: ") and "NOT VERIFIED" in out.stdout

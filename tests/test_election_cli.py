"""`mixscope election ...` drives a whole election on a real `mixscope serve` process, with real node
processes that joined with the join token; every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
import websocket

from mixscope.client.admin import AdminClient
from mixscope.demo import DemoNodes
from mixscope.progress_bar import ProgressBar
from tests.headless_lab import ROOT, cli, serve, wait_joined


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    return result.stdout.strip()


def authority(tmp_path, count: int) -> tuple[str, str]:
    """The credential authority's work for `count` voters: (the public list file, the private folder)."""
    from mixscope.credentials_cmd import make

    out = tmp_path / "credentials"
    make([f"voter-{k}" for k in range(1, count + 1)], out)
    return str(out / "public-credentials.json"), str(out / "private")


def one_line_failure(result: subprocess.CompletedProcess, code: int = 1) -> str:
    assert result.returncode == code, (result.args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.slow
def test_the_cli_runs_a_whole_election_on_a_headless_server(tmp_path):
    with serve(tmp_path) as server:
        admin = AdminClient(server.url, server.admin_token)
        nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
        try:
            for k in (1, 2, 3):
                nodes.spawn("trustee", f"trustee-{k}")
            for k in (10, 2, 1):  # the cascade takes them in numeric order: 1, 2, 10
                nodes.spawn("mixer", f"mixer-{k}", "--lab-cheats")
            wait_joined(admin, {"trustee": 3, "mixer": 3})
            voters = tmp_path / "voters.txt"
            voters.write_text("# the lab's voters\n" + "".join(f"v{k:02d}\n" for k in range(1, 11)))
            made = ok(cli(None, "credentials", "--voters", str(voters), "--out", str(tmp_path / "creds")))
            assert "10 credentials" in made  # the credential authority needs no server
            public, private = str(tmp_path / "creds" / "public-credentials.json"), str(tmp_path / "creds" / "private")
            eid = ok(cli(server, "create", "--question", "Where to?", "--candidates", "hills", "sea", "city",
                         "--trustees", "3", "--threshold", "2", "--mixers", "3", "--credentials", public,
                         "--voters", str(voters), "--tally", "mixnet", "--cheat", "swap", "--cheat-mixer", "2"))
            before = ok(cli(server, "status", eid))
            assert "created" in before and "nodes mixer-1 mixer-2 mixer-10 trustee-1 trustee-2 trustee-3" in before
            assert ok(cli(server, "keygen", eid)).startswith("keygen: done")
            cast = json.loads(ok(cli(server, "simulate-voters", eid, "--credentials", private, "--n", "8", "--json")))
            assert cast["cast"] == 8 and sum(cast["choices"]) == 8
            assert ok(cli(server, "close", eid)) == "close: done (ballots 8)"
            watcher = subprocess.Popen([sys.executable, "-m", "mixscope", "election", "status", eid, "--watch"],
                                       cwd=ROOT, env={**os.environ, "MIXSCOPE_URL": server.url,
                                                      "MIXSCOPE_TOKEN": server.admin_token},
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert ok(cli(server, "mix", eid)).startswith("mix: done (accepted 2, stages 3")
            decrypted = json.loads(ok(cli(server, "decrypt", eid, "--json")))
            assert decrypted["counts"] == cast["choices"]
            assert json.loads(ok(cli(server, "publish", eid, "--json")))["verified"] is True
            followed, errors = watcher.communicate(timeout=60)  # --watch ends by itself once published
            states = [line.split(";")[0].split()[1] for line in followed.splitlines()]
            assert watcher.returncode == 0 and not errors, errors
            assert states[0] in ("closed", "mixing") and states[-1] == "published" and len(set(states)) >= 3, states
            status = json.loads(ok(cli(server, "status", eid, "--json")))
            assert status["election"]["state"] == "published" and status["verified"] is True
            assert [(s["mixer"], s["status"]) for s in status["stages"]] == [
                ("mixer-1", "accepted"), ("mixer-2", "rejected"), ("mixer-10", "accepted")]
            watched = ok(cli(server, "status", eid, "--watch")).splitlines()
            assert len(watched) == 1 and "published" in watched[0] and "stage 2 mixer-2 rejected" in watched[0]
            record = tmp_path / "record.json"
            assert "written to" in ok(cli(server, "record", eid, "-o", str(record)))
            verified = subprocess.run([sys.executable, "-m", "mixscope", "verify", str(record)], cwd=ROOT,
                                      capture_output=True, text=True, timeout=120)
            assert verified.returncode == 0, verified.stdout
            listing = json.loads(ok(cli(server, "list", "--json")))
            assert [(e["id"], e["state"]) for e in listing["elections"]] == [(eid, "published")]
            # failures: one line each, non-zero
            assert "409" in one_line_failure(cli(server, "close", eid)) and "is published" in \
                cli(server, "close", eid).stderr
            assert "unauthorized" in one_line_failure(cli(server, "list", "--token", "0" * 64))
            assert "400" in one_line_failure(cli(server, "create", "--question", "Q", "--candidates", "a", "b",
                                                 "--trustees", "2", "--threshold", "3", "--mixers", "1",
                                                 "--credentials", public))
            assert "is published, not voting" in one_line_failure(cli(server, "simulate-voters", eid,
                                                                      "--credentials", private))
            assert "cannot read" in one_line_failure(cli(server, "create", "--question", "Q", "--candidates", "a",
                                                         "b", "--trustees", "1", "--threshold", "1", "--mixers", "1",
                                                         "--credentials", str(tmp_path / "none.json")), 2)
            assert "404" in one_line_failure(cli(server, "mix", "nosuch"))
        finally:
            nodes.stop()


@pytest.mark.slow
def test_cli_usage_and_connection_mistakes_are_one_line(tmp_path):
    no_env = {"MIXSCOPE_URL": "", "MIXSCOPE_TOKEN": ""}
    assert "no server" in one_line_failure(cli(None, "list", env=no_env), 2)
    assert "no admin token" in one_line_failure(cli(None, "list", "--server", "http://127.0.0.1:9", env=no_env), 2)
    refused = one_line_failure(cli(None, "list", "--server", "http://127.0.0.1:9", "--token", "t", env=no_env))
    assert "cannot reach http://127.0.0.1:9" in refused
    assert "must be at least 1" in one_line_failure(
        cli(None, "create", "--question", "Q", "--candidates", "a", "b", "--trustees", "1", "--threshold", "1",
            "--mixers", "0", env=no_env), 2)
    assert "invalid choice: 'weighted'" in one_line_failure(
        cli(None, "create", "--question", "Q", "--candidates", "a", "b", "--trustees", "1", "--threshold", "1",
            "--mixers", "1", "--tally", "weighted", env=no_env), 2)
    assert "--mixers is needed for a mixnet election" in one_line_failure(
        cli(None, "create", "--question", "Q", "--candidates", "a", "b", "--trustees", "1", "--threshold", "1",
            "--credentials", str(tmp_path / "none.json"), "--server", "http://127.0.0.1:9", "--token", "t",
            env=no_env), 2)
    assert "server URL must look like" in one_line_failure(cli(None, "list", "--server", "ftp://x", "--token", "t"), 2)


@pytest.mark.slow
def test_voting_shows_a_progress_bar_on_a_terminal_and_nothing_when_piped(tmp_path):
    with serve(tmp_path) as server:
        admin = AdminClient(server.url, server.admin_token)
        nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
        try:
            nodes.spawn("trustee", "trustee-1")
            wait_joined(admin, {"trustee": 1})
            public, private = authority(tmp_path, 6)
            eid = ok(cli(server, "create", "--question", "Q", "--candidates", "a", "b", "--trustees", "1",
                         "--threshold", "1", "--mixers", "1", "--credentials", public))
            ok(cli(server, "keygen", eid))
            piped = cli(server, "simulate-voters", eid, "--credentials", private, "--n", "3")
            assert ok(piped).startswith("voting: 3 ballots cast") and piped.stderr == ""
            leader, follower = pty.openpty()  # stdout a terminal: the bar goes to stderr
            try:
                env = {**os.environ, "MIXSCOPE_URL": server.url, "MIXSCOPE_TOKEN": server.admin_token}
                shown = subprocess.run([sys.executable, "-m", "mixscope", "election", "simulate-voters", eid,
                                        "--credentials", private],
                                       cwd=ROOT, env=env, stdout=follower, stderr=subprocess.PIPE, text=True,
                                       timeout=120)
            finally:
                os.close(follower)
                os.close(leader)
            assert shown.returncode == 0, shown.stderr
            assert "voting [" in shown.stderr and "3/3" in shown.stderr and "/s" in shown.stderr  # the 3 left
            assert "have not voted yet" in one_line_failure(cli(server, "simulate-voters", eid, "--credentials",
                                                                private), 2)
        finally:
            nodes.stop()


def test_the_bar_shows_rate_and_eta():
    text = ProgressBar.render("mix stage 1/3 mixer-1 proving", 250, 1000, 2.0, 250)
    assert text.startswith("mix stage 1/3 mixer-1 proving [######") and "25% 250/1000" in text
    assert "125/s" in text and "ETA 0:06" in text
    assert ProgressBar.render("voting", 10, 10, 1.0, 10).endswith("done")
    assert ProgressBar.render("mix stage 2/3 mixer-2 prove", 0, 13, 0.5, 0).endswith("0/13 --/s ETA --:--")


@pytest.mark.slow
def test_the_cli_and_the_event_stream_over_https_and_wss(tmp_path):
    from mixscope.client.remote import RemoteServer
    from tests.test_security_tls import make_self_signed

    cert, key = make_self_signed(tmp_path / "tls")
    with serve(tmp_path, "--certfile", str(cert), "--keyfile", str(key)) as server:
        assert server.url.startswith("https://") and server.ws_url.startswith("wss://")
        nodes = DemoNodes(server.ws_url, server.join_token, tmp_path)
        try:
            nodes.spawn("trustee", "trustee-1", "--cafile", str(cert))
            wait_joined(AdminClient(server.url, server.admin_token, cafile=str(cert)), {"trustee": 1})
            untrusted = one_line_failure(cli(server, "list"))
            assert "cannot reach" in untrusted and "CERTIFICATE_VERIFY_FAILED" in untrusted
            trusted = {"MIXSCOPE_CAFILE": str(cert)}
            public, private = authority(tmp_path, 3)
            eid = ok(cli(server, "create", "--question", "Q", "--candidates", "a", "b", "--trustees", "1",
                         "--threshold", "1", "--mixers", "1", "--credentials", public, env=trusted))
            ok(cli(server, "keygen", eid, env=trusted))
            assert ok(cli(server, "simulate-voters", eid, "--credentials", private, env=trusted)).startswith(
                "voting: 3 ballots cast")
            assert json.loads(ok(cli(server, "status", eid, "--json", env=trusted)))["ballots"] == 3
            remote = RemoteServer(server.url, server.admin_token, cafile=str(cert))
            try:
                remote.start()  # the event stream over wss, trusting the same certificate
                assert remote.running and remote.ws_url == server.ws_url
                assert remote.call("election.current", {}).result(10)["election_id"] == eid
            finally:
                remote.close()
        finally:
            nodes.stop()


@pytest.mark.parametrize("token", ["ab\ncd", "ab\rcd", "t€ken", "a b"])
def test_a_token_that_cannot_be_a_header_is_one_line(token):
    result = cli(None, "list", "--server", "http://127.0.0.1:9", env={"MIXSCOPE_TOKEN": token})
    assert "printable ASCII" in one_line_failure(result, 2)


@pytest.mark.slow
def test_node_names_and_questions_reach_the_terminal_as_plain_text(tmp_path):
    """Any websocket client may say hello as a mixer under any name (the status lists it among the nodes, as not
    joined) and an admin may write anything in a question: `status` and `list` show them escaped, never as
    control characters."""
    evil = "\x1b]0;owned\x07\x1b[2Jmixer\u202e-1"
    with serve(tmp_path) as server:
        impostor = websocket.create_connection(server.ws_url, timeout=10)
        try:
            impostor.send(json.dumps({"type": "hello", "name": evil, "role": "mixer"}))
            assert json.loads(impostor.recv())["type"] == "welcome"
            public, _ = authority(tmp_path, 1)
            eid = ok(cli(server, "create", "--question", "Lunch?\x1b[31m\tred", "--candidates", "a", "b",
                         "--trustees", "1", "--threshold", "1", "--mixers", "1", "--credentials", public))
            listed = ok(cli(server, "list"))
            status = ok(cli(server, "status", eid))
        finally:
            impostor.close()
    assert "Lunch?\\x1b[31m\\tred" in listed and listed.count("\t") == 3
    assert "\\x1b]0;owned\\x07\\x1b[2Jmixer\\u202e-1 (not joined)" in status
    assert not any(c in listed + status for c in "\x1b\x07\u202e")

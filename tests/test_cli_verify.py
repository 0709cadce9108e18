"""`mixscope verify RECORD` as a real process: passes a good record, fails an altered one, and answers an
unreadable or foreign file with one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mixscope.mixnet.simulate import run_election

# Every test here runs under both backends of group.multi_mul (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record() -> dict:
    return run_election([0, 2, 1, 2, 2], ["ann", "bo", "cy"], 2, 3, 2, cheat={0: "swap"}, election_id="cli-verify")


def verify(path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mixscope", "verify", str(path), *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def write(tmp_path: Path, doc) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_good_record_passes_every_check(tmp_path, record):
    done = verify(write(tmp_path, record))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    checks, summary = lines[:-1], lines[-1]
    assert len(checks) > 8 and all(line.startswith("PASS ") for line in checks)
    assert any("counts [1, 1, 3]" in line for line in checks)
    assert summary.startswith("VERIFIED")


@pytest.mark.parametrize("alteration", ["count", "plaintext", "ballot", "stage status"])
def test_altered_record_fails(tmp_path, record, alteration):
    doc = json.loads(json.dumps(record))
    if alteration == "count":
        doc["result"]["counts"] = [2, 1, 2]
    elif alteration == "plaintext":
        doc["plaintexts"][0] = (doc["plaintexts"][0] + 1) % 3
    elif alteration == "ballot":
        doc["ballots"][1]["credential"] = doc["ballots"][2]["credential"]
    else:  # pretend the cheating mixer's stage was accepted
        doc["mix"][0]["status"] = "accepted"
        doc["mix"][0].pop("reason", None)
    done = verify(write(tmp_path, doc), "--workers", "1")
    assert done.returncode == 1, done.stdout
    assert any(line.startswith("FAIL ") for line in done.stdout.splitlines())
    assert done.stdout.strip().splitlines()[-1].startswith("NOT VERIFIED")


def _stuffed(doc: dict) -> None:
    """The server adds a ballot of its own, from a credential of its own making, perfectly signed."""
    from mixscope.mixnet import credentials, group

    intruder = credentials.generate(1)[0]
    ballot = credentials.cast(intruder, group.decode(doc["public_key"]), doc["election"]["id"], 3, 0)
    doc["ballots"].append({"credential": intruder.voter_id, **ballot.to_json()})


@pytest.mark.parametrize("tamper, check, reason", [
    (lambda d: d["ballots"][0].pop("signature"), "ballot 0 proof", "no credential signature"),
    (lambda d: d["ballots"][1].__setitem__("signature", d["ballots"][0]["signature"]), "ballot 1 proof",
     "credential signature: the signature does not verify"),
    (_stuffed, "ballots from listed credentials", "not in the list"),
], ids=["unsigned", "another voter's signature", "unlisted credential"])
def test_a_ballot_without_a_valid_credential_signature_fails_with_a_reason(tmp_path, record, tamper, check, reason):
    doc = json.loads(json.dumps(record))
    tamper(doc)
    done = verify(write(tmp_path, doc), "--workers", "1")
    assert done.returncode == 1, done.stdout
    failing = [line for line in done.stdout.splitlines() if line.startswith("FAIL ")]
    assert any(check in line and reason in line for line in failing), failing


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not JSON"),
    (b"\xff\xfe\x00garbage", "is not JSON"),
])
def test_malformed_file_is_one_line_exit_2(tmp_path, content, message):
    path = tmp_path / "record.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    done = verify(path)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "content", ['["a", "list"]', '{"format": "something-else"}', '{"format": "mixscope-election-record"}']
)
def test_json_that_is_no_record_gets_a_report_and_exit_1(tmp_path, content):
    path = tmp_path / "record.json"
    path.write_text(content)
    done = verify(path)
    assert done.returncode == 1 and done.stderr == ""
    assert done.stdout.strip().splitlines()[-1].startswith("NOT VERIFIED")


def test_missing_file_is_one_line_exit_2(tmp_path):
    done = verify(tmp_path / "absent.json")
    assert done.returncode == 2 and "cannot read" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_process_pool_gives_the_same_checks(tmp_path, record, monkeypatch):
    from mixscope.client import verify as verify_module

    path = write(tmp_path, record)
    monkeypatch.setattr(verify_module, "POOL_FROM", 1)  # use the pool even for this small record
    assert verify_module.verify_file(str(path), workers=2) == verify_module.verify_file(str(path), workers=1)

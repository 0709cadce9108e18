"""A record written as an index and parts (docs/verifier.md §2.1): `mixscope verify` checks it part by part,
names an altered or misplaced part, and holds one stage at a time, not the record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from mixscope.mixnet import record_parts
from mixscope.mixnet.simulate import run_election
from mixscope.mixnet.verifier import all_passed, verify_record

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record() -> dict:
    return run_election([0, 2, 1, 2, 2, 1], ["ann", "bo", "cy"], 2, 3, 3, cheat={1: "swap"}, election_id="parts")


def write_parts(folder: Path, doc: dict) -> Path:
    index, parts = record_parts.split(doc, "record")
    for name, data in parts:
        (folder / name).write_bytes(data)
    path = folder / "record.json"
    path.write_text(json.dumps(index))
    return path


def verify(path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mixscope", "verify", str(path), "--workers", "1"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_a_record_in_parts_verifies_part_by_part(tmp_path, record):
    path = write_parts(tmp_path, record)
    index = json.loads(path.read_text())
    assert index["mix"][1] == {"part": "record.mix-1.json", "sha256": index["mix"][1]["sha256"]}
    assert record_parts.join(index, lambda name: (tmp_path / name).read_bytes()) == record  # the one document
    done = verify(path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:6]] == [
        "PASS record part ballots", "PASS record part mix[0]", "PASS record part mix[1]",
        "PASS record part mix[2]", "PASS record part decryption", "PASS record part plaintexts"]
    whole = [f"{'PASS' if c.ok else 'FAIL'} {c.name}: {c.reason}" for c in verify_record(record)]
    assert lines[6:-1] == whole  # then exactly the checks of the one-document record
    assert any("mix stage 1 rejection justified" in line for line in lines)


def test_an_altered_part_fails_with_its_reason(tmp_path, record):
    path = write_parts(tmp_path, record)
    part = tmp_path / "record.mix-2.json"
    part.write_bytes(part.read_bytes().replace(b'"accepted"', b'"rejected"', 1))
    done = verify(path)
    assert done.returncode == 1
    assert "FAIL record part mix[2]: part record.mix-2.json was altered: its SHA-256 is" in done.stdout
    assert "FAIL mix stage 2 status" in done.stdout  # the stage it stood for is unusable, and the checks say so
    assert done.stdout.splitlines()[-1].startswith("NOT VERIFIED")


def test_a_part_rewritten_with_its_hash_still_fails_its_proofs(tmp_path, record):
    index, parts = record_parts.split(record, "record")
    files = dict(parts)
    plaintexts = json.loads(files["record.plaintexts.json"])
    plaintexts[0] = (plaintexts[0] + 1) % 3
    files["record.plaintexts.json"] = record_parts.encode(plaintexts)
    index["plaintexts"] = record_parts.reference("record.plaintexts.json", files["record.plaintexts.json"])
    checks = {c.name: c for c in verify_record(record_parts.PartedRecord(index, files.__getitem__))}
    assert checks["record part plaintexts"].ok
    assert not checks["combination of shares gives the plaintexts"].ok
    assert "plaintext 0" in checks["combination of shares gives the plaintexts"].reason


@pytest.mark.parametrize("name", ["../record.ballots.json", "/etc/passwd", "sub/record.ballots.json", "missing.json"])
def test_a_part_outside_the_record_folder_or_missing_is_refused(tmp_path, record, name):
    path = write_parts(tmp_path, record)
    index = json.loads(path.read_text())
    index["ballots"]["part"] = name
    path.write_text(json.dumps(index))
    done = verify(path)
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if line.startswith("FAIL record part ballots"))
    assert "not a plain file name" in line or "cannot be read" in line
    assert "Traceback" not in done.stderr


def peak_bytes(load) -> int:
    """Peak traced memory of reading the record (`load()`) and verifying it."""
    tracemalloc.start()
    try:
        checks = verify_record(load())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert all_passed(checks)


@pytest.mark.slow
def test_verifying_in_parts_holds_one_stage_not_the_record():
    """Memory does not grow with the cascade's length in parts; it does for the one document."""
    peaks = {}
    for mixers in (2, 6):
        doc = run_election([i % 3 for i in range(200)], ["a", "b", "c"], 2, 3, mixers, election_id="mem")
        index, parts = record_parts.split(doc, "r")
        text, files = json.dumps(doc), dict(parts)
        del doc
        peaks[mixers] = (peak_bytes(lambda: record_parts.PartedRecord(index, files.__getitem__)),
                         peak_bytes(lambda: json.loads(text)))
    (parted_2, whole_2), (parted_6, whole_6) = peaks[2], peaks[6]
    assert parted_6 < 1.15 * parted_2  # four more stages, about the same peak
    assert whole_6 > 1.4 * whole_2  # the one document grows with them
    assert parted_6 < 0.6 * whole_6


@pytest.mark.slow
def test_a_published_election_in_parts_verifies(tmp_path):
    """The real server publishes in parts (here from 1 ballot on) and `mixscope verify` checks its index."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MIXSCOPE_RECORD_PARTS_FROM": "1"}
    out = subprocess.run([sys.executable, "-m", "mixscope", "demo", "--voters", "6", "--mixers", "2", "--trustees",
                          "2", "--threshold", "1", "--json", "--data-dir", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["verified"] and report["peak_rss_mb"]["server"] > 0
    index = json.loads(Path(report["record"]).read_text())
    assert record_parts.is_parted(index) and len(index["mix"]) == 2
    stem = Path(report["record"]).stem
    assert sorted(p.name for p in tmp_path.glob(f"{stem}.*.json")) == sorted(
        f"{stem}.{name}.json" for name in ("ballots", "mix-0", "mix-1", "decryption", "plaintexts"))
    done = verify(Path(report["record"]))
    assert done.returncode == 0, done.stdout
    assert "PASS record part mix[1]" in done.stdout
    # The same board served again: the web API gives the index and each part it lists, nothing else.
    import hashlib
    import urllib.error
    import urllib.request

    from mixscope.server.runner import ServerRunner

    runner = ServerRunner(port=0, data_dir=str(tmp_path))
    runner.start()
    try:
        base = f"{runner.url}/api/elections/{report['election_id']}/record"
        assert json.loads(urllib.request.urlopen(base, timeout=30).read()) == index
        ref = index["mix"][1]
        data = urllib.request.urlopen(f"{base}/{ref['part']}", timeout=30).read()
        assert hashlib.sha256(data).hexdigest() == ref["sha256"]
        for name in ("board.sqlite3", "admin_token", "join_token"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{base}/{name}", timeout=30)
            assert refused.value.code == 404
    finally:
        runner.close()

"""client/identity.py: the node key file is created 0600, reused, and refused when unsafe or damaged."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from mixscope.client import identity
from mixscope.wire import signing


def test_key_file_is_created_0600_and_reused(tmp_path):
    key, created = identity.load_or_create(tmp_path / "nodes", "mixer-1")
    path = tmp_path / "nodes" / "node-mixer-1.key"
    assert created and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "nodes").stat().st_mode) == 0o700
    assert path.read_bytes() == key.encode() and len(key.encode()) == 32
    again, created_again = identity.load_or_create(tmp_path / "nodes", "mixer-1")
    assert not created_again and again.encode() == key.encode()
    other, _ = identity.load_or_create(tmp_path / "nodes", "mixer-2")
    assert other.encode() != key.encode()
    assert not [p for p in path.parent.iterdir() if ".tmp" in p.name]  # no temporary file left behind


def test_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        identity.load_or_create(tmp_path, "n1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "node-n1.key").stat().st_mode) == 0o600


def test_concurrent_first_starts_agree_on_one_key(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: identity.load_or_create(tmp_path, "same")[0].encode(), range(16)))
    assert len(set(keys)) == 1


def test_default_data_dir_is_per_user(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    identity.load_or_create(None, "n1")
    assert (tmp_path / "mixscope" / "nodes" / "node-n1.key").exists()


def test_a_key_file_others_can_read_is_refused(tmp_path):
    identity.load_or_create(tmp_path, "n1")
    (tmp_path / "node-n1.key").chmod(0o644)
    with pytest.raises(identity.IdentityError, match="chmod 600"):
        identity.load_or_create(tmp_path, "n1")


def test_a_damaged_key_file_is_refused(tmp_path):
    path = tmp_path / "node-n1.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"short")
    os.close(fd)
    with pytest.raises(identity.IdentityError, match="not a 32-byte"):
        identity.load_or_create(tmp_path, "n1")


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "x" * 65, "sp ace", None])
def test_names_that_are_not_safe_file_names_are_refused(tmp_path, name):
    with pytest.raises(identity.IdentityError):
        identity.load_or_create(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_signer_seq_rises_strictly_and_survives_a_restart(tmp_path):
    key, _ = identity.load_or_create(tmp_path, "n1")
    signer = identity.Signer(key)
    with ThreadPoolExecutor(4) as pool:
        seqs = list(pool.map(lambda _: signer.next_seq(), range(2000)))
    assert len(set(seqs)) == len(seqs)
    message = signer.sign({"type": "progress", "done": 1})
    assert signing.verify(message) == signer.public_key
    assert message["signed"]["seq"] > max(seqs)
    # A restarted node (new Signer, same key) keeps going up: seq is wall-clock nanoseconds.
    restarted = identity.Signer(identity.load_or_create(tmp_path, "n1")[0])
    assert restarted.public_key == signer.public_key
    assert restarted.next_seq() > message["signed"]["seq"]  # the clock moved on; no counter reset to 0


def test_node_command_refuses_an_unsafe_key_file_with_a_clear_message(tmp_path):
    identity.load_or_create(tmp_path, "n1")
    (tmp_path / "node-n1.key").chmod(0o640)
    proc = subprocess.run(
        [sys.executable, "-m", "mixscope", "node", "--url", "ws://127.0.0.1:9/ws", "--name", "n1",
         "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "must be 0600" in proc.stderr and "Traceback" not in proc.stderr

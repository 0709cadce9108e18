"""A node's Ed25519 identity: a 32-byte seed in <data-dir>/node-<name>.key (mode 0600), made once, reused.

`Signer` signs the node's protocol messages (wire/signing.py) with a sequence number that keeps rising
across restarts (time.time_ns(), bumped past the last one used), as docs/protocol.md asks.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from pathlib import Path
from typing import Any

import nacl.signing
import platformdirs

from mixscope.wire import signing

SEED_BYTES = 32
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class IdentityError(RuntimeError):
    """The key file cannot be used: unreadable, the wrong size, or readable by others."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("mixscope")) / "nodes"


def check_name(name: str) -> str:
    """Node names become file names: letters, digits, '.', '_', '-' only (no path tricks)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise IdentityError(f"node name {name!r} must be 1-64 letters, digits, '.', '_' or '-', not starting with"
                            " a punctuation mark")
    return name


def ensure_private_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    path = Path(data_dir) if data_dir is not None else default_data_dir()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def key_path(data_dir: str | os.PathLike[str] | None, name: str) -> Path:
    return ensure_private_dir(data_dir) / f"node-{check_name(name)}.key"


def write_private(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 from the start (never a moment readable by others); refuse to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_private(path: Path, data: bytes) -> None:
    """Write `path` atomically with mode 0600 (a temporary 0600 file renamed over it)."""
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}-{threading.get_ident()}")
    write_private(tmp, data)
    os.replace(tmp, path)


def read_private(path: Path) -> bytes:
    """The file's bytes, refusing a file that others may read or write (someone may have copied it)."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise IdentityError(f"{path} has mode {stat.S_IMODE(mode):o}; a secret file must be 0600 (chmod 600 it)")
        return path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read {path}: {exc.strerror}") from None


def load_or_create(data_dir: str | os.PathLike[str] | None, name: str) -> tuple[nacl.signing.SigningKey, bool]:
    """The node's signing key and whether it was just created."""
    path = key_path(data_dir, name)
    created = False
    if not path.exists():
        # Write a whole temporary file, then hard-link it into place: atomic and never overwrites, so two
        # processes starting at once agree on one key and neither reads a half-written file.
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        write_private(tmp, nacl.signing.SigningKey.generate().encode())
        try:
            os.link(tmp, path)
            created = True
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    seed = read_private(path)
    if len(seed) != SEED_BYTES:
        raise IdentityError(f"{path} holds {len(seed)} bytes, not a {SEED_BYTES}-byte Ed25519 seed")
    return nacl.signing.SigningKey(seed), created


class Signer:
    """Signs messages with strictly rising seq numbers; safe to call from several threads."""

    def __init__(self, signing_key: nacl.signing.SigningKey):
        self._key = signing_key
        self.public_key = signing.public_key_hex(signing_key)
        self._last_seq = 0
        self._lock = threading.Lock()

    def next_seq(self) -> int:
        with self._lock:
            self._last_seq = max(time.time_ns(), self._last_seq + 1)
            return self._last_seq

    def sign(self, message: dict[str, Any]) -> dict[str, Any]:
        return signing.sign(message, self._key, self.next_seq())

    def sign_encoded(self, message: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The signed message and its frame text (wire/signing.py sign_encoded)."""
        return signing.sign_encoded(message, self._key, self.next_seq())

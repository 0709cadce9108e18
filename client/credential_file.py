"""Credential files: what the credential authority writes and what a voter or an election's creator reads.

* A private credential file (one per voter, mode 0600, never overwritten):
  `{"format": "mixscope-credential", "version": 1, "voter": name, "code": "XXXX-…", "public": hex}`.
  Only `code` matters (mixnet/credentials.py derives the key from it); `public` lets the voter check that
  their credential is on the election's list without deriving anything.
* The public credential list (for the server, the record and everyone):
  `{"format": "mixscope-credentials", "version": 1, "count": n, "fingerprint": hex, "credentials": [hex, …]}`
  with the credentials sorted, and `fingerprint` the SHA-256 of their hex joined by newlines, so the list
  the server publishes can be compared with the one the authority made in one glance.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from mixscope.mixnet import credentials
from mixscope.mixnet.credentials import Credential

PRIVATE_FORMAT = "mixscope-credential"
PUBLIC_FORMAT = "mixscope-credentials"
MAX_FILE = 64 * 1024 * 1024  # a public list of a million credentials is ~70 MB; refuse anything bigger


class CredentialFileError(ValueError):
    """A credential file that is missing, unreadable or not what it claims; the message says which."""


def fingerprint(public_credentials: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(public_credentials)).encode("ascii")).hexdigest()


def write_private(path: Path, voter: str, credential: Credential) -> None:
    """Write one voter's private credential, readable by its owner only; never replaces an existing file."""
    body = {"format": PRIVATE_FORMAT, "version": 1, "voter": voter, "code": credential.code,
            "public": credential.voter_id}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out, indent=1)
        out.write("\n")


def read_private(path: str | os.PathLike[str]) -> tuple[str, Credential]:
    """(voter name, credential) from a private credential file; also takes a file holding just the code."""
    text = _read(path)
    try:
        body = json.loads(text)
    except ValueError:
        body = text.strip()  # a bare code, as pasted into a text file
    try:
        if isinstance(body, str):
            return "", credentials.from_code(body)
        if not isinstance(body, dict) or body.get("format") != PRIVATE_FORMAT:
            raise CredentialFileError(f"{path} is not a {PRIVATE_FORMAT} file")
        credential = credentials.from_code(body.get("code"))
    except ValueError as exc:
        raise CredentialFileError(f"{path}: {exc}") from None
    if body.get("public") not in (None, credential.voter_id):
        raise CredentialFileError(f"{path}: its code does not give its public credential")
    return str(body.get("voter", "")), credential


def write_public(path: Path, public_credentials: list[str]) -> dict:
    listed = credentials.check_list(list(public_credentials))
    body = {"format": PUBLIC_FORMAT, "version": 1, "count": len(listed), "fingerprint": fingerprint(listed),
            "credentials": listed}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out, indent=1)
        out.write("\n")
    return body


def read_public(path: str | os.PathLike[str]) -> list[str]:
    """The validated public credential list from a list file (or a bare JSON list of hex keys)."""
    try:
        body = json.loads(_read(path))
    except ValueError as exc:
        raise CredentialFileError(f"{path} is not JSON: {exc}") from None
    values = body.get("credentials") if isinstance(body, dict) and body.get("format") == PUBLIC_FORMAT else body
    try:
        listed = credentials.check_list(values)
    except ValueError as exc:
        raise CredentialFileError(f"{path}: {exc}") from None
    if isinstance(body, dict) and body.get("fingerprint") not in (None, fingerprint(listed)):
        raise CredentialFileError(f"{path}: the fingerprint does not match the list")
    return listed


def _read(path) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise CredentialFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE:
        raise CredentialFileError(f"{path} is larger than {MAX_FILE} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialFileError(f"{path} is not UTF-8 text") from None

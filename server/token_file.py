"""A server secret kept in the board's data directory (owner-only, mode 0600), so it outlives a restart.

The admin token lives here (`admin_token`): a restarted `mixscope serve` keeps it, so a panel attached with
`--connect`, a running `mixscope election ... --watch` and a shell's $MIXSCOPE_TOKEN go on working. Delete the
file (server stopped) to make a new one; whoever could read it can already read the board beside it.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

ADMIN_TOKEN = "admin_token"
JOIN_TOKEN = "join_token"  # likewise, so the mixers and trustees that were running get back in after a restart
_TOKEN = re.compile(r"[0-9a-f]{64}")


class TokenFileError(Exception):
    """The file exists but does not hold a token."""


def load_or_create(directory: str | os.PathLike[str], filename: str) -> str:
    path = Path(directory) / filename
    try:
        # O_EXCL: two servers starting at once cannot both write; hex: a token never reads as an option ("-x")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text(encoding="ascii", errors="replace").strip()
        if not _TOKEN.fullmatch(token):
            raise TokenFileError(f"{path} does not hold a token; delete it to make a new one") from None
        if os.name == "posix" and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # a secret: never readable by others
        return token
    token = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(token + "\n")
    return token

"""Saved sessions: a folder a colleague can open with `mixscope gui --open FOLDER`.

    traffic.jsonl   one websocket frame per line: {at, direction, client_id, client, type, size, text}
    record.json     the election record (docs/verifier.md), when there is one
    session.json    what was saved and when

Plain functions over plain data (no Qt), run on worker threads: a 10,000-ballot record is tens of MB.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from mixscope.gui.models.traffic import TrafficRow

TRAFFIC, RECORD, META = "traffic.jsonl", "record.json", "session.json"
FORMAT = "mixscope-session"


class SessionError(Exception):
    """The folder is not a readable Mixscope session."""


@dataclass
class Session:
    rows: list[TrafficRow]
    record: dict[str, Any] | None
    record_path: str | None
    meta: dict[str, Any]


def read_json(path: str | os.PathLike) -> Any:
    with open(path, "rb") as handle:
        return json.loads(handle.read())


def export_session(folder: str | os.PathLike, rows: Iterable[TrafficRow], record: dict | str | None) -> str:
    """Write the session into `folder` (created if needed); returns the folder path. `record` is the record
    itself or the path of the file the server published (copied as is)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(target / TRAFFIC, "w", encoding="utf-8") as out:
        for row in rows:
            # ASCII escapes: a lone surrogate in a client name has no UTF-8 form, but it has a JSON one
            out.write(json.dumps(asdict(row), separators=(",", ":")) + "\n")
            count += 1
    if isinstance(record, (str, os.PathLike)):
        shutil.copyfile(record, target / RECORD)
    elif record is not None:
        with open(target / RECORD, "w", encoding="utf-8") as out:
            json.dump(record, out, separators=(",", ":"))
    elif (target / RECORD).exists():
        (target / RECORD).unlink()  # an older export's record must not pass for this session's
    meta = {"format": FORMAT, "version": 1, "exported_at": time.time(), "messages": count,
            "record": RECORD if record is not None else None,
            "election_id": record.get("election", {}).get("id") if isinstance(record, dict) else None}
    with open(target / META, "w", encoding="utf-8") as out:
        json.dump(meta, out, indent=2)
    return str(target)


def _row(line: str, number: int) -> TrafficRow:
    try:
        data = json.loads(line)
        return TrafficRow(float(data["at"]), str(data["direction"]), data.get("client_id"), str(data["client"]),
                          str(data["type"]), int(data["size"]), str(data["text"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise SessionError(f"{TRAFFIC} line {number}: not a traffic row ({exc})") from None


def load_session(folder: str | os.PathLike) -> Session:
    source = Path(folder)
    if not source.is_dir():
        raise SessionError(f"{source} is not a folder")
    if not (source / TRAFFIC).exists() and not (source / RECORD).exists():
        raise SessionError(f"{source} holds neither {TRAFFIC} nor {RECORD}: not a saved session")
    meta = {}
    if (source / META).exists():
        try:
            meta = read_json(source / META)
        except ValueError as exc:
            raise SessionError(f"{META} is not JSON: {exc}") from None
    rows = []
    if (source / TRAFFIC).exists():
        with open(source / TRAFFIC, encoding="utf-8") as lines:
            rows = [_row(line, n) for n, line in enumerate(lines, 1) if line.strip()]
    record, record_path = None, None
    if (source / RECORD).exists():
        record_path = str(source / RECORD)
        try:
            record = read_json(record_path)
        except ValueError as exc:
            raise SessionError(f"{RECORD} is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise SessionError(f"{RECORD} is not an election record")
    return Session(rows, record, record_path, meta if isinstance(meta, dict) else {})


def verify(record_path: str) -> list[dict[str, Any]]:
    """Every check of mixnet.verifier over the saved record (a process pool for big records)."""
    from mixscope.client.verify import NotARecord, verify_file

    try:
        checks = verify_file(record_path)
    except NotARecord as exc:
        return [{"name": "format", "ok": False, "reason": str(exc)}]
    return [{"name": c.name, "ok": c.ok, "reason": c.reason} for c in checks]

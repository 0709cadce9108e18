"""An election's lab settings, next to its board entry: the eligible voter ids, the tally mode and the one
mixer told to cheat (demos and tests).

Kept in `lab-<id>.json` in the data dir, not on the board: they steer the lab, they are not evidence. The
cheat is an instruction in the cheating stage's `mix.request`; a node obeys it only when started with
`--lab-cheats`, so a server cannot make an ordinary node sign a spoiled stage.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mixscope.server.election.common import ElectionError
from mixscope.wire.protocol import MIXER_CHEATS

TALLY_MODES = ("mixnet", "homomorphic")  # homomorphic: ballots summed, no cascade (mixnet/homomorphic.py)
CHEATS = MIXER_CHEATS
MAX_VOTERS = 1_000_000
MAX_CACHED = 256  # elections whose settings stay in memory
_VOTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


@dataclass(frozen=True)
class LabSettings:
    tally: str = "mixnet"
    voters: list[str] = field(default_factory=list)  # eligible voter ids (empty: anyone, as before)
    cheat: str | None = None       # one of wire.protocol.MIXER_CHEATS
    cheat_stage: int | None = None  # 0-based cascade position of the mixer told to cheat

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """What status shows: the voter list's size, not the list."""
        return {"tally": self.tally, "voters": len(self.voters), "cheat": self.cheat, "cheat_stage": self.cheat_stage}


def from_args(args: dict[str, Any], mixers: int) -> LabSettings:
    """The lab part of an election.create call, checked (ElectionError says what is wrong)."""
    tally = args.get("tally", "mixnet")
    if tally not in TALLY_MODES:
        raise ElectionError(f"tally must be one of {list(TALLY_MODES)}, not {str(tally)[:40]!r}")
    voters = args.get("voters", [])
    if not isinstance(voters, list) or len(voters) > MAX_VOTERS:
        raise ElectionError(f"voters must be a list of at most {MAX_VOTERS} voter ids")
    bad = next((v for v in voters if not isinstance(v, str) or not _VOTER_ID.match(v)), None)
    if bad is not None:
        raise ElectionError(f"voter id {str(bad)[:40]!r}: 1-128 letters, digits or ._@+-, starting with a letter "
                            "or digit")
    if len(set(voters)) != len(voters):
        raise ElectionError("voter ids must be distinct")
    cheat, stage = args.get("cheat"), args.get("cheat_mixer")
    if cheat is None:
        if stage is not None:
            raise ElectionError("cheat_mixer needs a cheat mode")
    else:
        if cheat not in CHEATS:
            raise ElectionError(f"cheat must be one of {list(CHEATS)}")
        stage = 0 if stage is None else stage
        if isinstance(stage, bool) or not isinstance(stage, int) or not 0 <= stage < mixers:
            raise ElectionError(f"cheat_mixer must be a cascade position 0..{mixers - 1}")
    return LabSettings(tally, list(voters), cheat, stage)


def _path(data_dir: Path, election_id: str) -> Path:
    return Path(data_dir) / f"lab-{election_id}.json"


_cache: dict[Path, LabSettings] = {}  # settings never change after creation: read each file once
_cache_lock = threading.Lock()


def save(data_dir: Path, election_id: str, settings: LabSettings) -> None:
    path = _path(data_dir, election_id)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(settings.to_json(), out, separators=(",", ":"))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    with _cache_lock:
        _cache[path] = settings


def load(data_dir: Path, election_id: str) -> LabSettings:
    """The election's settings; the defaults for one created without any (or before they existed)."""
    path = _path(data_dir, election_id)
    with _cache_lock:
        if path in _cache:
            return _cache[path]
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        settings = LabSettings(data.get("tally", "mixnet"), list(data.get("voters", [])), data.get("cheat"),
                               data.get("cheat_stage"))
    except (OSError, ValueError, TypeError, AttributeError):
        return LabSettings()
    with _cache_lock:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[path] = settings
    return settings


def cheat_field(settings: LabSettings, position: int) -> dict[str, str]:
    """The `lab_cheat` field of the mix.request for cascade position `position`, if that stage must cheat."""
    if settings.cheat is not None and settings.cheat_stage == position:
        return {"lab_cheat": settings.cheat}
    return {}


def natural_key(name: str) -> tuple:
    """`mixer-2` before `mixer-10`: digit runs compare as numbers, the rest as text."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part)

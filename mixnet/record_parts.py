"""A record written as a set of parts: a small index document plus one file per big value (docs/verifier.md §2.1).

The index is the record document of §2 in which each big value — `ballots`, each entry of `mix`, `decryption`
and `plaintexts` — may be replaced by a reference `{"part": NAME, "sha256": HEX}`: NAME is a plain file name
beside the index, HEX the SHA-256 of that file's bytes, and the file is the JSON of the value it stands for.
Putting every part back in its place gives the one-document record. A verifier reads one part at a time, so
it never holds the whole record.

This module stays pure: the caller hands it a `read(name) -> bytes` function that opens the files.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Callable, Iterator

PART_FIELDS = frozenset({"part", "sha256"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_HEX = re.compile(r"[0-9a-f]{64}")

Reader = Callable[[str], bytes]


class PartError(ValueError):
    """A part that cannot be used: unnamed, missing, altered (its SHA-256 differs) or not JSON."""


def is_reference(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == PART_FIELDS


def is_parted(doc: Any) -> bool:
    """True when `doc` is an index: at least one of the places a part may stand holds a reference."""
    if not isinstance(doc, dict):
        return False
    mix = doc.get("mix")
    return (any(is_reference(doc.get(key)) for key in ("ballots", "decryption", "plaintexts"))
            or (isinstance(mix, list) and any(is_reference(stage) for stage in mix)))


def reference(name: str, data: bytes) -> dict[str, str]:
    """The index entry of a part whose file `name` holds `data`."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise PartError(f"{name[:60]!r} is not a plain part file name")
    return {"part": name, "sha256": hashlib.sha256(data).hexdigest()}


def encode(value: Any) -> bytes:
    """A part's bytes: compact JSON, as the one-document record is written."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def load(ref: dict[str, Any], read: Reader) -> Any:
    """The value a reference stands for, after checking its name and the SHA-256 of its bytes."""
    name, expected = ref.get("part"), ref.get("sha256")
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise PartError(f"part name {str(name)[:60]!r} is not a plain file name beside the record")
    if not isinstance(expected, str) or not _HEX.fullmatch(expected):
        raise PartError(f"part {name}: sha256 must be 64 lowercase hex characters")
    try:
        data = read(name)
    except OSError as exc:
        raise PartError(f"part {name} cannot be read: {exc.strerror or exc}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise PartError(f"part {name} was altered: its SHA-256 is {actual[:16]}…, the record names {expected[:16]}…")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise PartError(f"part {name} is not JSON: {exc}") from None


class _StageList(list[Any]):
    """`mix` of an index: each stage read from its part when it is reached, and let go after."""

    def __init__(self, entries: list[Any], resolve: Callable[[Any], Any]):
        super().__init__(entries)
        self._resolve = resolve

    def __iter__(self) -> Iterator[Any]:
        for position in range(len(self)):
            yield self[position]

    def __getitem__(self, position: Any) -> Any:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        return self._resolve(list.__getitem__(self, position))


class PartedRecord(dict[str, Any]):
    """An index that reads its parts on access and keeps none of them: `verify_record` takes it as a record.

    Every access to a parted value reads and checks its file again, so memory holds only what the verifier
    itself keeps (the lists it chains from stage to stage), never the whole record. What the first read of each
    part found is kept (a line, not the part) for `check_parts`."""

    def __init__(self, index: dict[str, Any], read: Reader):
        super().__init__(index)
        self._read = read
        self._found: dict[int, tuple[bool, str]] = {}  # id of a reference in the index -> (ok, reason)

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        if key == "mix" and isinstance(value, list):
            return _StageList(value, self._resolve)
        return self._resolve(value)

    def _resolve(self, value: Any) -> Any:
        """A part's value, or None when it cannot be used (the `record part` check says why)."""
        if not is_reference(value):
            return value
        try:
            loaded = load(value, self._read)
        except PartError as exc:
            self._found.setdefault(id(value), (False, str(exc)))
            return None
        count = f" ({len(loaded)} entries)" if isinstance(loaded, list) else ""
        self._found.setdefault(id(value), (True, f"{value['part']}: SHA-256 matches{count}"))
        return loaded

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def references(self) -> list[tuple[str, dict[str, Any]]]:
        """(where, reference) for every part the index names, in record order."""
        found = [(key, dict.__getitem__(self, key)) for key in ("ballots",) if key in self]
        mix = dict.get(self, "mix")
        if isinstance(mix, list):
            found += [(f"mix[{k}]", stage) for k, stage in enumerate(mix)]
        found += [(key, dict.__getitem__(self, key)) for key in ("decryption", "plaintexts") if key in self]
        return [(where, ref) for where, ref in found if is_reference(ref)]

    def check_parts(self) -> list[tuple[str, bool, str]]:
        """(name, ok, reason) per part: its SHA-256 compared and its JSON parsed when it was first read (the
        verifier reads every part it uses; those it never reached are read now, and let go)."""
        results = []
        for where, ref in self.references():
            if id(ref) not in self._found:
                self._resolve(ref)
            ok, reason = self._found[id(ref)]
            results.append((f"record part {where}", ok, reason))
        return results


def split(doc: dict[str, Any], stem: str) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """A one-document record as an index and its parts [(file name, bytes)], named `<stem>.<part>.json`
    (the names publishing uses); putting the parts back in place gives `doc` again."""
    index, parts = dict(doc), []

    def part(name: str, value: Any) -> dict[str, str]:
        data = encode(value)
        parts.append((f"{stem}.{name}.json", data))
        return reference(f"{stem}.{name}.json", data)

    index["ballots"] = part("ballots", doc["ballots"])
    index["mix"] = [part(f"mix-{k}", stage) for k, stage in enumerate(doc["mix"])]
    index["decryption"] = part("decryption", doc["decryption"])
    index["plaintexts"] = part("plaintexts", doc["plaintexts"])
    return index, parts


def join(index: dict[str, Any], read: Reader) -> dict[str, Any]:
    """The one-document record an index stands for (every part read and checked): for small records."""
    parted = PartedRecord(index, read)
    doc = {key: parted[key] for key in index}
    doc["mix"] = list(parted["mix"]) if isinstance(index.get("mix"), list) else doc["mix"]
    return doc

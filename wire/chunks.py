"""Chunked transfers: a long message text travels as a run of `chunk` frames (docs/protocol.md, Transport).

Pure Python, no I/O: the server and the nodes both use it. `split` cuts a text into frames; a
`Reassembler` per connection joins them back, checking order, count, and the SHA-256 of the whole text,
and abandons a transfer that breaks a rule (ProtocolError naming the transfer) or stalls (`expire`).

Memory: a Reassembler holds at most `max_bytes` characters over all its open transfers and at most `max_open`
transfers; a shared `Budget` bounds what all of them hold together (the whole server's reassembly memory).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from mixscope.wire import protocol
from mixscope.wire.protocol import ProtocolError

CHUNK_BYTES = 256 * 1024  # the largest slice; frames stay far below the websocket frame limit
STALL_SECONDS = 60.0
MAX_TRANSFER_BYTES = 256 * 1024 * 1024  # a whole reassembled text may not exceed this
MAX_OPEN_TRANSFERS = 8  # per Reassembler: a peer cannot pin memory with endless half transfers
BAD_CHUNK = "bad_chunk"
KEPT_SLICES = 4  # escaped slices a Plan keeps for the next recipient (at most ~1 MB)
_HASH_SLICE = 1 << 20


def _encoded_size(text: str) -> int:
    return len(json.dumps(text)) - 2  # without the quotes; ensure_ascii, like protocol.encode


def _digest(text: str) -> str:
    digest = hashlib.sha256()
    for start in range(0, len(text), _HASH_SLICE):  # a slice at a time: no UTF-8 copy of a whole long text
        digest.update(text[start:start + _HASH_SLICE].encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def fits(text: str, limit: int = CHUNK_BYTES) -> bool:
    """Whether `text` goes as one frame (split gives no chunks). A character is never less than one once escaped:
    a text longer than the limit is not escaped to find that out (megabytes, on the server's loop, per node)."""
    return len(text) <= limit and _encoded_size(text) <= limit


def split(text: str, limit: int = CHUNK_BYTES) -> list[dict[str, Any]]:
    """The chunk frames carrying `text`, or [] when it fits in one frame and should be sent as is.

    `limit` bounds each slice's size *as it appears in the frame* (JSON-escaped, ASCII, as
    protocol.encode writes it), so a frame is never more than `limit` plus a small envelope even when
    the text is itself JSON full of quotes.
    """
    return [json.loads(frame) for frame in encoded_frames(text, limit)]


@dataclass(frozen=True)
class Plan:
    """Where a long text is cut and its digest: worked out once (megabytes: off the server's loop) and reused
    for every recipient of the same text."""

    bounds: tuple[tuple[int, int], ...]
    sha256: str
    _escaped: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def escaped(self, text: str, index: int) -> str:
        """Slice `index` of `text` escaped as a JSON string. The last few are kept (at most KEPT_SLICES: the
        text is not held twice), so recipients streamed side by side escape each slice once. One thread only."""
        data = self._escaped.get(index)
        if data is None:
            start, end = self.bounds[index]
            data = self._escaped[index] = json.dumps(text[start:end])
            while len(self._escaped) > KEPT_SLICES:
                del self._escaped[next(iter(self._escaped))]
        return data


def plan(text: str, limit: int = CHUNK_BYTES) -> Plan | None:
    """The cuts of `text` into slices of at most `limit` escaped bytes, or None when it fits in one frame."""
    cuts = _cuts(text, limit)
    if cuts is None:
        return None
    return Plan(tuple((start, end) for start, end, _ in cuts), _digest(text))


def _cuts(text: str, limit: int) -> list[tuple[int, int, str]] | None:
    """(start, end, the slice escaped as a JSON string) for each slice of at most `limit` escaped bytes, or None
    when `text` fits in one frame. Each slice's length is guessed from how much the previous one grew when
    escaped, so most slices are escaped once (a long text is much the same all through)."""
    if limit < 16:
        raise ValueError("chunk limit must be at least 16 bytes")
    if fits(text, limit):
        return None
    cuts, start, guess = [], 0, limit
    while start < len(text):
        end = min(len(text), start + guess)
        escaped = json.dumps(text[start:end])
        while len(escaped) - 2 > limit:  # escapes made it too big: shrink in proportion, never below one char
            size = end - start
            end = start + max(1, min(size * 7 // 8, size * limit // (len(escaped) - 2)))
            escaped = json.dumps(text[start:end])
        cuts.append((start, end, escaped))
        guess = max(1, min(limit, (end - start) * limit * 255 // (256 * max(1, len(escaped) - 2))))
        start = end
    return cuts


def encoded_frames(text: str, limit: int = CHUNK_BYTES, planned: Plan | None = None) -> Iterator[str]:
    """The texts of the chunk frames carrying `text` (none when it fits in one frame), each what protocol.encode
    makes of that frame, with each slice escaped once. With `planned` (`plan(text, limit)` made beforehand; one
    plan, several recipients) a frame is made only when it is taken: a sender that writes one frame before taking
    the next holds the text and one slice. Without, the slices escaped while cutting are the frames' data (the
    sender then holds the text once more, escaped)."""
    if planned is not None:
        escaped: Iterable[str] = (planned.escaped(text, i) for i in range(len(planned.bounds)))
        count, sha256 = len(planned.bounds), planned.sha256
    else:
        cuts = _cuts(text, limit)
        if cuts is None:
            return
        escaped, count, sha256 = [data for _, _, data in cuts], len(cuts), _digest(text)
    head = f'{{"type":"chunk","transfer":{json.dumps(secrets.token_urlsafe(12))},'
    for i, data in enumerate(escaped):
        yield f'{head}"index":{i},"count":{count},"sha256":{json.dumps(sha256)},"data":{data}}}'


def prepare(message: dict[str, Any]) -> tuple[str, Plan | None]:
    """`message` encoded (protocol.encode) and the plan of its chunks: the work of a long send, done once."""
    text = protocol.encode(message)
    return text, plan(text)


@dataclass
class _Transfer:
    count: int
    sha256: str
    started: float
    last_seen: float
    parts: list[str] = field(default_factory=list)
    size: int = 0
    digest: Any = field(default_factory=hashlib.sha256)  # of the parts so far: the joined text is not hashed again


class Budget:
    """Characters held by the open transfers of many Reassemblers together (one thread: the server's loop)."""

    def __init__(self, limit: int):
        self.limit, self.held = limit, 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size


class Reassembler:
    """Joins the chunk frames of one peer back into whole texts. Not thread-safe: one per connection.

    `max_bytes` and `max_open` may be changed between frames (the server raises them once a node has joined)."""

    def __init__(self, stall_seconds: float = STALL_SECONDS, max_bytes: int = MAX_TRANSFER_BYTES,
                 clock: Callable[[], float] = time.monotonic, *, max_open: int = MAX_OPEN_TRANSFERS,
                 budget: Budget | None = None):
        self.stall_seconds, self.max_bytes, self._clock = stall_seconds, max_bytes, clock
        self.max_open, self.budget = max_open, budget
        self._open: dict[str, _Transfer] = {}
        self.held = 0  # characters in this peer's open transfers

    @property
    def open_transfers(self) -> int:
        return len(self._open)

    def _drop(self, transfer_id: str) -> None:
        transfer = self._open.pop(transfer_id, None)
        if transfer is not None:
            self.held -= transfer.size
            if self.budget is not None:
                self.budget.give(transfer.size)

    def clear(self) -> None:
        """Abandon every open transfer (the connection is gone): their memory goes back to the budget."""
        for transfer_id in list(self._open):
            self._drop(transfer_id)

    def feed(self, frame: dict[str, Any]) -> str | None:
        """Take one chunk frame; return the whole text when its last chunk arrives, else None.

        Raises ProtocolError(BAD_CHUNK, ...) for a malformed frame, a chunk out of order, repeated or
        missing, a changed count/sha256, an oversized transfer or a hash mismatch; the transfer is dropped.
        """
        now = self._clock()
        self.expire(now)
        transfer_id = frame.get("transfer")
        if not isinstance(transfer_id, str) or not 0 < len(transfer_id) <= 64:
            raise ProtocolError(BAD_CHUNK, "chunk needs a string 'transfer' id of 1..64 characters")
        try:
            index, count, sha256, data = _fields(frame)
        except ProtocolError:
            self._drop(transfer_id)
            raise
        transfer = self._open.get(transfer_id)
        if transfer is None:
            if index != 0:
                raise _broken(transfer_id, f"starts at chunk {index}, not 0 (out of order or already abandoned)")
            if len(self._open) >= self.max_open:
                raise _broken(transfer_id, f"more than {self.max_open} transfers open at once")
            transfer = self._open[transfer_id] = _Transfer(count, sha256, now, now)
        elif count != transfer.count or sha256 != transfer.sha256:
            self._drop(transfer_id)
            raise _broken(transfer_id, "count or sha256 changed within the transfer")
        elif index != len(transfer.parts):
            self._drop(transfer_id)
            raise _broken(transfer_id, f"chunk {index} arrived, expected {len(transfer.parts)} (out of order,"
                          " repeated or missing)")
        if self.held + len(data) > self.max_bytes:
            self._drop(transfer_id)
            raise _broken(transfer_id, f"larger than {self.max_bytes} characters (with this peer's other open "
                          "transfers)")
        if self.budget is not None and not self.budget.take(len(data)):
            self._drop(transfer_id)
            raise _broken(transfer_id, "the server holds as much unfinished transfer data as it allows; send it later")
        transfer.size += len(data)
        self.held += len(data)
        transfer.parts.append(data)
        transfer.digest.update(data.encode("utf-8", "surrogatepass"))
        transfer.last_seen = now
        if index < count - 1:
            return None
        self._drop(transfer_id)
        if transfer.digest.hexdigest() != sha256:
            raise _broken(transfer_id, "sha256 of the joined text does not match (changed or truncated)")
        text = "".join(transfer.parts)
        transfer.parts.clear()
        return text

    def expire(self, now: float | None = None) -> list[str]:
        """Drop transfers with no chunk for `stall_seconds`; return their ids (callers report them)."""
        now = self._clock() if now is None else now
        stalled = [tid for tid, t in self._open.items() if now - t.last_seen > self.stall_seconds]
        for tid in stalled:
            self._drop(tid)
        return stalled


def _fields(frame: dict[str, Any]) -> tuple[int, int, str, str]:
    index, count, sha256, data = frame.get("index"), frame.get("count"), frame.get("sha256"), frame.get("data")
    if type(index) is not int or type(count) is not int or not 0 <= index < count:
        raise ProtocolError(BAD_CHUNK, "chunk needs integers 0 <= index < count")
    if not isinstance(sha256, str) or len(sha256) != 64 or sha256.strip("0123456789abcdef"):
        raise ProtocolError(BAD_CHUNK, "chunk sha256 must be 64 lowercase hex digits")
    if not isinstance(data, str):
        raise ProtocolError(BAD_CHUNK, "chunk data must be a string")
    return index, count, sha256, data


def _broken(transfer_id: str, why: str) -> ProtocolError:
    return ProtocolError(BAD_CHUNK, f"transfer {transfer_id[:64]!r} abandoned: {why}")

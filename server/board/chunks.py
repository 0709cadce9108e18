"""Big texts stored as rows of bounded size, and read back whole or as a stream.

A mix stage's outputs and proof are megabytes of canonical JSON (about 480 bytes per ciphertext; 48 MB at
100,000 ballots). A text longer than CHUNK_CHARS is stored in `text_chunks` as consecutive pieces of at most
CHUNK_CHARS characters, and its own column holds NULL; a shorter one stays in its column. The pieces joined
are exactly the text stored, so a signed submission kept as evidence keeps its bytes. Readers that only
walk a list take it piece by piece (`iter_list_items`), never the whole text at once.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable, Iterator

CHUNK_CHARS = 1 << 20  # characters per stored piece (about 7,600 ciphertexts of outputs)


def store(db: sqlite3.Connection, owner: str, owner_id: int, field: str, text: str | None) -> str | None:
    """Store `text` in pieces when it is long; return what its own column should hold (the text, or None)."""
    if text is None or len(text) <= CHUNK_CHARS:
        return text
    db.executemany(
        "INSERT INTO text_chunks (owner, owner_id, field, piece, text) VALUES (?, ?, ?, ?, ?)",
        ((owner, owner_id, field, n, text[start:start + CHUNK_CHARS])
         for n, start in enumerate(range(0, len(text), CHUNK_CHARS))),
    )
    return None


def pieces(db: sqlite3.Connection, owner: str, owner_id: int, field: str) -> Iterator[str]:
    """The stored pieces of one text, in order (nothing when the text is in its own column)."""
    n = 0
    while True:  # one piece per query: the caller holds at most one piece of this text
        row = db.execute(
            "SELECT text FROM text_chunks WHERE owner = ? AND owner_id = ? AND field = ? AND piece = ?",
            (owner, owner_id, field, n),
        ).fetchone()
        if row is None:
            return
        yield row[0]
        n += 1


def load(db: sqlite3.Connection, owner: str, owner_id: int, field: str, inline: str | None) -> str | None:
    """The whole text: its column's value, or its pieces joined."""
    if inline is not None:
        return inline
    joined = "".join(pieces(db, owner, owner_id, field))
    return joined or None


def iter_list_items(texts: Iterable[str]) -> Iterator[object]:
    """The items of one JSON array given as consecutive pieces of its text, parsed one at a time: only the
    piece being read (plus an item that spans two pieces) is held. A text that is no array, or ends early,
    raises ValueError."""
    decoder = json.JSONDecoder()
    pending = iter(texts)
    buffer, position, exhausted, expect = "", 0, False, "["

    def read_more() -> bool:
        nonlocal buffer, position, exhausted
        piece = next(pending, None)
        if piece is None:
            exhausted = True
            return False
        buffer, position = buffer[position:] + piece, 0
        return True

    while True:
        while position < len(buffer) and buffer[position] in " \t\r\n":
            position += 1
        if position == len(buffer):
            if not read_more():
                raise ValueError("the stored JSON array ends early")
            continue
        char = buffer[position]
        if expect == "[":
            if char != "[":
                raise ValueError("the stored text is not a JSON array")
            position, expect = position + 1, "item or ]"
        elif expect in ("item or ]", "item"):
            if char == "]" and expect == "item or ]":
                return
            try:
                item, end = decoder.raw_decode(buffer, position)
            except ValueError:
                if read_more():
                    continue
                raise
            after = end
            while after < len(buffer) and buffer[after] in " \t\r\n":
                after += 1
            if (after == len(buffer) or buffer[after] not in ",]") and not exhausted and read_more():
                continue  # a number cut by a piece's end ("-7." of "-7.5"): parse it again with the next piece
            yield item
            position, expect = end, ", or ]"
        else:
            if char == "]":
                return
            if char != ",":
                raise ValueError("the stored JSON array is malformed")
            position, expect = position + 1, "item"

"""Mix stages: the accepted chain and the rejected attempts kept as evidence."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any, Iterator

from mixscope.server.board import chunks
from mixscope.server.board.canonical import _json_and_text, text_hash
from mixscope.server.board.checks import (
    _HEX32,
    _check_hex,
    _check_int,
    _check_text,
)
from mixscope.server.board.core import BoardCore, inserted_id
from mixscope.server.board.errors import (
    BoardInputError,
    ConflictError,
    NotFoundError,
    StateError,
)
from mixscope.server.board.models import (
    MixStage,
)
from mixscope.server.election import states

_OWNER = "mix_stages"  # owner of a stage's long texts in text_chunks


def _inline(text: str | None) -> str | None:
    return text if text is None or len(text) <= chunks.CHUNK_CHARS else None


def _count(db: sqlite3.Connection, output: Any, text: str | None) -> int | None:
    """How many outputs, for summaries that never read the list; SQLite counts a text given as it is."""
    if isinstance(output, list) and not isinstance(output, str):
        return len(output)
    if text is None:
        return None
    return db.execute("SELECT CASE WHEN json_type(?1) = 'array' THEN json_array_length(?1) END", (text,)).fetchone()[0]


class StageStore(BoardCore):
    _STAGE_COLUMNS = (
        "id, election_id, stage_index, mixer, status, reason, input_hash,"
        " output_json, output_hash, proof_json, received_at, mixer_key, rejected_as, envelope_json"
    )

    @staticmethod
    def _stage_from_row(db: sqlite3.Connection, row: tuple) -> MixStage:
        sid, eid, index, mixer, status, reason, input_hash, output, output_hash, proof, at, key, cls, envelope = row
        output = chunks.load(db, _OWNER, sid, "output", output)
        proof = chunks.load(db, _OWNER, sid, "proof", proof)
        envelope = chunks.load(db, _OWNER, sid, "envelope", envelope)
        return MixStage(
            sid, eid, index, mixer, status, reason, input_hash,
            None if output is None else json.loads(output), output_hash,
            None if proof is None else json.loads(proof), at, key, cls,
            None if envelope is None else json.loads(envelope),
        )  # fmt: skip

    def add_mix_stage(
        self,
        election_id: str,
        index: int,
        mixer: str,
        status: str,
        *,
        input_hash: str,
        output: Any = None,
        proof: Any = None,
        reason: str | None = None,
        mixer_key: str | None = None,
        rejected_as: str | None = None,
        envelope: Any = None,
    ) -> MixStage:
        """Record one mix stage attempt (election in state "mixing").

        Accepted stages (output and proof required) form a chain: stage i is accepted only after stage
        i-1, and for i > 0 its `input_hash` must equal content_hash of stage i-1's output — so a resumed
        mix cannot fork. Rejected stages (reason required) are kept as evidence. Re-recording an accepted
        stage with the same output hash returns the stored one. `output` and `proof` may be given as
        CanonicalJSON text: stored as they are, and returned as that text."""
        _check_int(index, "stage index", 0)
        _check_text(mixer, "mixer", 256)
        input_hash = _check_hex(input_hash, _HEX32, "input hash")
        if status == "accepted":
            if output is None or proof is None:
                raise BoardInputError("an accepted mix stage needs its output and its proof")
            if reason is not None:
                _check_text(reason, "reason")
        elif status == "rejected":
            _check_text(reason, "the reason for rejecting a mix stage")
        else:
            raise BoardInputError("status must be 'accepted' or 'rejected'")
        if mixer_key is not None:
            mixer_key = _check_hex(mixer_key, _HEX32, "mixer key")
        if rejected_as is not None:
            _check_text(rejected_as, "rejection class", 40)
        envelope, envelope_json = (None, None) if envelope is None else _json_and_text(envelope, "response")
        output, output_json = (None, None) if output is None else _json_and_text(output, "output")
        proof, proof_json = (None, None) if proof is None else _json_and_text(proof, "proof")
        output_hash = None if output_json is None else text_hash(output_json)
        with self._write() as db:
            self._require_state(db, election_id, states.MIXING)
            if status == "accepted":
                existing = db.execute(
                    f"SELECT {self._STAGE_COLUMNS} FROM mix_stages"
                    " WHERE election_id = ? AND stage_index = ? AND status = 'accepted'",
                    (election_id, index),
                ).fetchone()
                if existing is not None:
                    stage = self._stage_from_row(db, existing)
                    if stage.output_hash == output_hash and stage.input_hash == input_hash:
                        return stage
                    raise ConflictError(f"stage {index} of {election_id!r} is already accepted with another output")
                previous = db.execute(
                    "SELECT stage_index, output_hash FROM mix_stages WHERE election_id = ? AND status = 'accepted'"
                    " ORDER BY stage_index DESC LIMIT 1",
                    (election_id,),
                ).fetchone()
                expected = 0 if previous is None else previous[0] + 1
                if index != expected:
                    raise StateError(f"stage {index} of {election_id!r} is out of order: the next stage is {expected}")
                if previous is not None and input_hash != previous[1]:
                    raise StateError(f"stage {index}'s input is not the output of accepted stage {previous[0]}")
            now = time.time()
            count = _count(db, output, output_json)
            cursor = db.execute(
                "INSERT INTO mix_stages (election_id, stage_index, mixer, status, reason, input_hash, output_json,"
                " output_hash, proof_json, received_at, mixer_key, rejected_as, envelope_json, output_count)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (election_id, index, mixer, status, reason, input_hash, _inline(output_json), output_hash,
                 _inline(proof_json), now, mixer_key, rejected_as, _inline(envelope_json), count),
            )
            for field, text in (("output", output_json), ("proof", proof_json), ("envelope", envelope_json)):
                chunks.store(db, _OWNER, inserted_id(cursor), field, text)
        # What was stored, without parsing megabytes of it back (that held the GIL the panel shares ~40 ms).
        return MixStage(inserted_id(cursor), election_id, index, mixer, status, reason, input_hash, output, output_hash,
                        proof, now, mixer_key, rejected_as, envelope)

    def mix_stages(self, election_id: str, accepted_only: bool = False) -> list[MixStage]:
        """Mix stage attempts in the order they were recorded."""
        where = "election_id = ?" + (" AND status = 'accepted'" if accepted_only else "")
        with self._read() as db:
            self._state_of(db, election_id)
            query = f"SELECT {self._STAGE_COLUMNS} FROM mix_stages WHERE {where} ORDER BY id"
            rows = db.execute(query, (election_id,)).fetchall()
            return [self._stage_from_row(db, row) for row in rows]

    def iter_mix_stages(self, election_id: str) -> Iterator[MixStage]:
        """Mix stage attempts in the order they were recorded, one read at a time: a caller that lets each go
        before taking the next holds one stage's lists, not the election's."""
        with self._read() as db:
            self._state_of(db, election_id)
            ids = [row[0] for row in db.execute(
                "SELECT id FROM mix_stages WHERE election_id = ? ORDER BY id", (election_id,))]
        for stage_id in ids:
            with self._read() as db:
                row = db.execute(f"SELECT {self._STAGE_COLUMNS} FROM mix_stages WHERE id = ?", (stage_id,)).fetchone()
                stage = self._stage_from_row(db, row)
            yield stage
            del stage

    def mix_stage_summaries(self, election_id: str) -> list[dict[str, Any]]:
        """Each stage attempt without its output and proof (megabytes of JSON at 10,000 ballots): index,
        mixer, status, reason and how many ciphertexts it output. Cheap enough to poll."""
        with self._read() as db:
            self._state_of(db, election_id)
            rows = db.execute(
                "SELECT stage_index, mixer, status, reason,"
                " coalesce(output_count, CASE WHEN json_type(output_json) = 'array'"
                " THEN json_array_length(output_json) END), rejected_as"
                " FROM mix_stages WHERE election_id = ? ORDER BY id",
                (election_id,),
            ).fetchall()
        return [{"index": i, "mixer": m, "status": st, "reason": r, "count": n, "class": c}
                for i, m, st, r, n, c in rows]

    def next_mix_index(self, election_id: str) -> int:
        """The index of the next stage to accept: where a restarted mix resumes."""
        with self._read() as db:
            self._state_of(db, election_id)
            return db.execute(
                "SELECT count(*) FROM mix_stages WHERE election_id = ? AND status = 'accepted'", (election_id,)
            ).fetchone()[0]

    def last_accepted_output(self, election_id: str) -> Any | None:
        """The output of the latest accepted stage (the input of the next one), or None before the first."""
        with self._read() as db:
            self._state_of(db, election_id)
            row = db.execute(
                "SELECT id, output_json FROM mix_stages WHERE election_id = ? AND status = 'accepted'"
                " ORDER BY stage_index DESC LIMIT 1",
                (election_id,),
            ).fetchone()
            text = None if row is None else chunks.load(db, _OWNER, row[0], "output", row[1])
        return None if text is None else json.loads(text)

    def stage_outputs(self, stage_id: int) -> Iterator[Any]:
        """A stored stage's outputs one ciphertext at a time, read piece by piece: the whole list is never
        in memory. Nothing for a stage without outputs."""
        with self._read() as db:
            row = db.execute("SELECT output_json FROM mix_stages WHERE id = ?", (stage_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no mix stage {stage_id}")
        if row[0] is not None:
            yield from chunks.iter_list_items([row[0]])
            return
        yield from chunks.iter_list_items(self._stage_pieces(stage_id, "output"))

    def _stage_pieces(self, stage_id: int, field: str) -> Iterator[str]:
        piece = 0
        while True:  # a short read transaction per piece: writers are never held up by a slow reader
            with self._read() as db:
                row = db.execute(
                    "SELECT text FROM text_chunks WHERE owner = ? AND owner_id = ? AND field = ? AND piece = ?",
                    (_OWNER, stage_id, field, piece),
                ).fetchone()
            if row is None:
                return
            yield row[0]
            piece += 1

"""The election record: ONE JSON document with everything a verifier needs, and the builder that writes it.

The layout, every encoding and every proof context are specified in docs/verifier.md; mixnet/verifier.py
checks a record against that specification. Whoever runs an election (mixnet/simulate.py in-process, the
server over websockets) feeds each accepted or rejected artefact to a `RecordBuilder` as it happens.
"""

from __future__ import annotations

from typing import Sequence

from mixnet import group, proofs
from mixnet.ballots import Ballot
from mixnet.elgamal import Ciphertext
from mixnet.trustees import Dealing, PartialDecryption, check_parameters

FORMAT = "mixscope-election-record"
VERSION = 2  # 2: ballots without a choice proof; plaintexts may be null; result carries "invalid"; key proofs
# cover the question and candidate names
ACCEPTED = "accepted"
REJECTED = "rejected"


def mix_context(election_id: str, stage: int, mixer: str) -> bytes:
    """The `context` of stage `stage` (0-based position in the record's mix list) run by `mixer`."""
    return proofs.context_bytes(proofs.election_context(election_id), "mix", stage, mixer)


def ciphertexts_json(cts: Sequence[Ciphertext]) -> list[list[str]]:
    return [ct.to_json() for ct in cts]


class RecordBuilder:
    """Collects an election's public artefacts in order and renders the record dict."""

    def __init__(self, election_id: str, question: str, candidates: Sequence[str], threshold: int, trustees: int):
        check_parameters(threshold, trustees)
        if not candidates:
            raise ValueError("an election needs at least one candidate")
        self.election = {
            "id": election_id,
            "question": question,
            "candidates": list(candidates),
            "threshold": threshold,
            "trustees": trustees,
        }
        self.dealings: list[dict] = []
        self.public_key: bytes | None = None
        self.ballots: list[dict] = []
        self._ballot_cts: list[Ciphertext] = []
        self.stages: list[dict] = []
        self._current: list[Ciphertext] | None = None  # last accepted outputs
        self.partials: list[dict] = []
        self.plaintexts: list[int | None] | None = None
        self.counts: list[int] | None = None
        self.invalid: int | None = None

    @property
    def election_id(self) -> str:
        return self.election["id"]

    def add_dealing(self, dealing: Dealing) -> None:
        self.dealings.append(dealing.to_json())

    def set_public_key(self, public_key: bytes) -> None:
        self.public_key = public_key

    def add_ballot(self, voter_id: str, ballot: Ballot) -> None:
        self.ballots.append({"voter": voter_id, **ballot.to_json()})
        self._ballot_cts.append(ballot.ciphertext)

    def mix_input(self) -> list[Ciphertext]:
        """What the next stage must shuffle: the last accepted outputs, or the cast ciphertexts."""
        return list(self._ballot_cts if self._current is None else self._current)

    def next_stage_context(self, mixer: str) -> bytes:
        return mix_context(self.election_id, len(self.stages), mixer)

    def add_stage(self, mixer: str, outputs: list | Sequence[Ciphertext], proof: dict, reason: str | None = None) -> None:
        """Record a stage over `mix_input()`. `reason` None means accepted (its outputs feed the next stage);
        otherwise the stage is recorded as rejected and the cascade continues from the same input.
        `outputs` may be raw JSON (a rejected mixer's malformed list is recorded as sent)."""
        inputs = self.mix_input()
        out_json = [o.to_json() if isinstance(o, Ciphertext) else o for o in outputs]
        stage = {"mixer": mixer, "status": ACCEPTED if reason is None else REJECTED, "inputs": ciphertexts_json(inputs), "outputs": out_json, "proof": proof}
        if reason is None:
            self._current = [Ciphertext.from_json(o) for o in out_json]
        else:
            stage["reason"] = reason
        self.stages.append(stage)

    def add_partial(self, partial: PartialDecryption) -> None:
        self.partials.append(partial.to_json())

    def set_result(self, plaintexts: Sequence[int | None], counts: Sequence[int], invalid: int) -> None:
        """`plaintexts`: each decrypted output's candidate index, None for one that encodes no candidate."""
        self.plaintexts, self.counts, self.invalid = list(plaintexts), list(counts), invalid

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "group": {"name": group.GROUP_NAME, "generator": group.GENERATOR.hex()},
            "election": dict(self.election),
            "trustees": list(self.dealings),
            "public_key": self.public_key.hex() if self.public_key else None,
            "ballots": list(self.ballots),
            "mix": list(self.stages),
            "decryption": {"ciphertexts": ciphertexts_json(self.mix_input()), "partials": list(self.partials)},
            "plaintexts": self.plaintexts,
            "result": {"counts": self.counts, "invalid": self.invalid},
        }

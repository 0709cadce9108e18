"""The election record: ONE JSON document with everything a verifier needs, and the builder that writes it.

The layout, every encoding and every proof context are specified in docs/verifier.md; mixnet/verifier.py
checks a record against that specification. Whoever runs an election (mixnet/simulate.py in-process, the
server over websockets) feeds each accepted or rejected artefact to a `RecordBuilder` as it happens.
"""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

from mixscope.mixnet import group, proofs, submission
from mixscope.mixnet.ballots import Ballot
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.trustees import Dealing, PartialDecryption, check_parameters

FORMAT = "mixscope-election-record"
VERSION = 3  # 3: a signed manifest (nonce, listed nodes) opens it; nodes listed with their keys; dealings,
# stages and decryption shares are the nodes' signed messages; a rejected stage states its class
# (mixnet/stages.py); mix contexts name the mixer's key
# 3 also: the public credential list; each ballot keyed by its voter's credential and signed with it
ACCEPTED = "accepted"
REJECTED = "rejected"
NODE_ROLES = ("mixer", "trustee")


def mix_context(election_id: str, stage: int, mixer_key: str, nonce: bytes = b"") -> bytes:
    """The `context` of stage `stage` (0-based position in the record's mix list) run by the mixer whose
    Ed25519 key is `mixer_key` (64 lowercase hex characters), in the election with this manifest nonce."""
    return proofs.context_bytes(proofs.election_context(election_id, nonce), "mix", stage, mixer_key)


MANIFEST_FIELDS = frozenset({"election_id", "question", "candidates", "threshold", "trustees", "mixers", "nonce",
                             "listed_trustees", "listed_mixers"})


def make_manifest(
    election_id: str,
    question: str,
    candidates: Sequence[str],
    threshold: int,
    trustees: int,
    mixers: int,
    nonce: str,
    listed_trustees: Sequence[dict[str, Any]],
    listed_mixers: Sequence[dict[str, Any]],
    tally: str = "mixnet",
) -> dict[str, Any]:
    """The election manifest that opens the record: what is asked, the random nonce every node proof context
    carries, and the nodes expected to take part ({index, name, key} trustees; {name, key} mixers). A
    homomorphic election's manifest also says `"tally": "homomorphic"` (mixnet/homomorphic.py)."""
    mode = {} if tally == "mixnet" else {"tally": tally}
    return {**mode, "election_id": election_id, "question": question, "candidates": list(candidates),
            "threshold": threshold, "trustees": trustees, "mixers": mixers, "nonce": nonce,
            "listed_trustees": [dict(t) for t in listed_trustees], "listed_mixers": [dict(m) for m in listed_mixers]}


def manifest_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 hex of the manifest's canonical JSON (mixnet/submission.py): what each node signs to take its seat."""
    return hashlib.sha256(submission.canonical(manifest)).hexdigest()


def ciphertexts_json(cts: Sequence[Ciphertext]) -> list[list[str]]:
    return [ct.to_json() for ct in cts]


def dealing_of(message: dict[str, Any]) -> Dealing:
    """The dealing inside a trustee's signed keygen.commitment message."""
    return Dealing.from_json({k: message[k] for k in ("index", "commitments", "proof")})


def partial_of(message: dict[str, Any], validate: bool = True) -> PartialDecryption:
    """The partial decryption inside a trustee's signed decrypt.response message."""
    return PartialDecryption.from_json({"trustee": message["index"], "factors": message["partials"],
                                        "proof": message["proof"]}, validate=validate)


def ballot_entry(credential: str, ballot_json: dict[str, Any]) -> dict[str, Any]:
    """One entry of the record's `ballots`: the credential, then the signed ballot's fields."""
    return {"credential": credential, **ballot_json}


class RecordBuilder:
    """Collects an election's public artefacts in order and renders the record dict."""

    def __init__(self, election_id: str, question: str, candidates: Sequence[str], threshold: int, trustees: int):
        check_parameters(threshold, trustees)
        check_candidates(candidates)
        self.election: dict[str, Any] = {
            "id": election_id,
            "question": question,
            "candidates": list(candidates),
            "threshold": threshold,
            "trustees": trustees,
        }
        self.nodes: dict[str, dict[str, Any]] = {}
        self.manifest: dict[str, Any] | None = None
        self.seats: list[dict[str, Any]] = []
        self.credentials: list[str] = []  # the public credentials, hex (mixnet/credentials.py)
        self.dealings: list[dict[str, Any]] = []
        self.public_key: bytes | None = None
        self.ballots: list[dict[str, Any]] = []
        self._ballot_cts: list[list[str]] = []
        self.stages: list[dict[str, Any]] = []
        self._current: list[list[str]] | None = None  # last accepted outputs (JSON)
        self.partials: list[dict[str, Any]] = []
        self.refusals: list[dict[str, Any]] = []
        self.plaintexts: list[int | None] | None = None
        self.counts: list[int] | None = None
        self.invalid: int | None = None

    @property
    def election_id(self) -> str:
        election_id: str = self.election["id"]
        return election_id

    @property
    def nonce(self) -> bytes:
        return bytes.fromhex(self.manifest["nonce"]) if self.manifest else b""

    def set_manifest(self, manifest: dict[str, Any]) -> None:
        self.manifest = dict(manifest)

    def add_seat(self, message: dict[str, Any]) -> None:
        """A listed node's signed `seat` message: it signed the manifest's hash when it took its seat."""
        self.seats.append(dict(message))

    def add_node(self, key: str, name: str, role: str) -> None:
        """A node registered at join: its Ed25519 key (hex), its name (a label) and its role."""
        self.nodes[key] = {"key": key, "name": name, "role": role}

    def add_dealing(self, message: dict[str, Any]) -> None:
        """Trustee's signed keygen.commitment message, as signed."""
        self.dealings.append(dict(message))

    def set_public_key(self, public_key: bytes) -> None:
        self.public_key = public_key

    def set_credentials(self, public_credentials: Sequence[str]) -> None:
        """The election's public credential list (hex), as the credential authority gave it."""
        self.credentials = list(public_credentials)

    def add_ballot(self, voter_id: str, ballot: Ballot) -> None:
        """A stored ballot; `voter_id` is its public credential (hex), the ballot carries its signature."""
        self.ballots.append(ballot_entry(voter_id, ballot.to_json()))
        self._ballot_cts.append(ballot.ciphertext.to_json())

    def mix_input(self) -> list[Ciphertext]:
        """What the next stage must shuffle: the last accepted outputs, or the cast ciphertexts."""
        return [Ciphertext.from_json(ct, validate=False) for ct in self.mix_input_json()]

    def mix_input_json(self) -> list[list[str]]:
        return list(self._ballot_cts if self._current is None else self._current)

    def next_stage_context(self, mixer_key: str) -> bytes:
        return mix_context(self.election_id, len(self.stages), mixer_key, self.nonce)

    def add_stage(self, mixer_key: str, response: dict[str, Any] | None, rejected_as: str | None = None,
                  reason: str | None = None) -> None:
        """Record a stage over `mix_input()`: the mixer's signed mix.response (None: it never answered).
        `rejected_as` None means accepted (its outputs feed the next stage); otherwise the stage is recorded as
        rejected with that class and `reason`, and the cascade continues from the same input."""
        stage = {"mixer": mixer_key, "status": ACCEPTED if rejected_as is None else REJECTED,
                 "inputs": self.mix_input_json(), "response": response}
        if rejected_as is None:
            if response is None:
                raise TypeError("a stage without a response cannot be accepted")
            self._current = list(response["outputs"])
        else:
            stage["class"] = rejected_as
            stage["reason"] = reason or rejected_as
        self.stages.append(stage)

    def add_partial(self, message: dict[str, Any]) -> None:
        """Trustee's signed decrypt.response message, as signed."""
        self.partials.append(dict(message))

    def add_refusal(self, trustee_key: str, reason: str) -> None:
        """A trustee that refused to decrypt the list it was given, with its reason (its signed error)."""
        self.refusals.append({"trustee": trustee_key, "reason": reason})

    def set_result(self, plaintexts: Sequence[int | None], counts: Sequence[int], invalid: int) -> None:
        """`plaintexts`: each decrypted output's candidate index, None for one that encodes no candidate."""
        self.plaintexts, self.counts, self.invalid = list(plaintexts), list(counts), invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "group": {"name": group.GROUP_NAME, "generator": group.GENERATOR.hex()},
            "election": dict(self.election),
            "manifest": self.manifest,
            "seats": list(self.seats),
            "nodes": sorted(self.nodes.values(), key=lambda n: (n["role"], n["name"], n["key"])),
            "credentials": list(self.credentials),
            "trustees": list(self.dealings),
            "public_key": self.public_key.hex() if self.public_key else None,
            "ballots": list(self.ballots),
            "mix": list(self.stages),
            "decryption": {"ciphertexts": self.mix_input_json(), "partials": list(self.partials),
                           "refusals": list(self.refusals)},
            "plaintexts": self.plaintexts,
            "result": {"counts": self.counts, "invalid": self.invalid},
        }


def check_candidates(candidates: Sequence[str]) -> None:
    """An election's candidate names: at least one, each a non-empty string, no two the same."""
    if not candidates:
        raise ValueError("an election needs at least one candidate")
    if any(not isinstance(c, str) or not c.strip() for c in candidates):
        raise ValueError("every candidate needs a non-empty name")
    if len(set(candidates)) != len(candidates):
        raise ValueError("candidate names must be distinct")

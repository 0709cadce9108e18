"""The stand-alone verifier: every check docs/verifier.md lists, run over one election record.

`verify_record(doc)` never raises for a bad document: each check is reported as Check(name, ok, reason), and
a malformed part fails the checks that depend on it with the parse error as its reason. Checks that need a
value another check could not produce (say, ballots when the public key is unreadable) fail with a reason
saying so, so the list always shows where verification stopped.

Eligibility (record version 3): the public credential list, every ballot's credential signature (checked
with its proof, on the pool), that every ballot comes from a listed credential, and that none is used twice.

`map_fn` (default: the builtin `map`) spreads the independent work — ballot signatures and proofs, and the
inner loops of the shuffle proofs and the decryption shares' batched proofs — over whatever pool the caller
provides.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any, Callable, Collection, NamedTuple

from mixscope.mixnet import (
    ballots,
    credentials,
    elgamal,
    group,
    homomorphic,
    proofs,
    stages,
    submission,
    tally,
    trustees,
)
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.record import (
    ACCEPTED,
    FORMAT,
    MANIFEST_FIELDS,
    NODE_ROLES,
    REJECTED,
    VERSION,
    dealing_of,
    manifest_hash,
    mix_context,
    partial_of,
)
from mixscope.mixnet.record_parts import PartedRecord

_BATCH = 64  # ballots per map_fn job
# Ballots held back in shares only up to this many (about 25 MB of parsed entries): a bigger list goes to map_fn
# at once, so that it is not held while the stages are checked (memory bounds big elections: docs/scaling.md).
_HELD_BALLOTS_MAX = 20_000

# The closed field sets of docs/verifier.md §2 (one byte form: an extra field fails the check reading it).
RECORD_FIELDS = {"format", "version", "group", "election", "manifest", "seats", "nodes", "credentials", "trustees",
                 "public_key", "ballots", "mix", "decryption", "plaintexts", "result"}
SEAT_FIELDS = {"type", "election_id", "manifest_hash", "signed"}
ELECTION_FIELDS = {"id", "question", "candidates", "threshold", "trustees"}
NODE_FIELDS = {"key", "name", "role"}
DEALING_FIELDS = {"type", "election_id", "index", "commitments", "proof", "shares", "signed"}
ACCEPTED_STAGE_FIELDS = {"mixer", "status", "inputs", "response"}
REJECTED_STAGE_FIELDS = ACCEPTED_STAGE_FIELDS | {"class", "reason"}
DECRYPTION_FIELDS = {"ciphertexts", "partials", "refusals"}
PARTIAL_FIELDS = {"type", "election_id", "index", "partials", "proof", "signed"}
REFUSAL_FIELDS = {"trustee", "reason"}
RESULT_FIELDS = {"counts", "invalid"}
_CREDENTIAL_SLICE = 1000  # public credentials per map_fn job
_UNREAD, _ABSENT = object(), object()  # the verifier's ballots: not read yet; the record has none


class Check(NamedTuple):
    name: str
    ok: bool
    reason: str


class _Missing(Exception):
    """A check cannot run because an earlier part of the record is unusable."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (ValueError, _Missing)) else f"{type(exc).__name__}: {text}"


def _run(name: str, fn: Callable[[], str | None]) -> Check:
    """One check: fn returns an optional success note or raises with the reason for failure."""
    try:
        note = fn()
    except Exception as exc:  # every failure, typed or not, becomes a reason — never an escaping exception
        return Check(name, False, _describe(exc))
    return Check(name, True, note or "ok")


def _ciphertexts(value: Any, what: str, map_fn: Callable[..., Any] = map) -> list[Ciphertext]:
    return stages.decode_list(value, what, map_fn)


def _closed(value: Any, fields: set[str], what: str) -> dict[str, Any]:
    """`value` as an object with exactly `fields` (missing or extra ones fail, naming them)."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be an object")
    missing, extra = sorted(fields - set(value)), sorted(str(k) for k in set(value) - fields)
    if missing or extra:
        said = [f"missing field(s) {', '.join(missing)}" if missing else None,
                f"unexpected field(s) {', '.join(extra)}" if extra else None]
        raise ValueError(f"{what}: " + "; ".join(filter(None, said)))
    return value


def _fail(exc: Exception) -> Callable[[], None]:
    """A check that can only fail, with this reason."""

    def run() -> None:
        raise exc

    return run


def _credential_slice(job: tuple[Any, ...]) -> str | None:
    """Pool job: the reason the slice's first invalid public credential fails, or None."""
    offset, values = job
    for i, value in enumerate(values):
        try:
            if credentials.decode_public(value).hex() != value:
                raise ValueError("a public credential is lowercase hex")
        except ValueError as exc:
            return f"credential {offset + i}: {exc}"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice_text(choice: int | None) -> str:
    return "invalid (null)" if choice is None else str(choice)


# Module-level so a process pool can pickle them.
def _ballot_check(job: tuple[Any, ...]) -> Check:
    """One ballot entry: its credential's signature and its proof of randomness (docs/verifier.md §4)."""
    position, public_key, election_id, entry = job

    def run() -> None:
        if public_key is None:
            raise _Missing("no valid public key to check against")
        credential = _entry_credential(entry)
        ballot = ballots.Ballot.from_json({k: v for k, v in entry.items() if k != "credential"})
        credentials.verify(public_key, election_id, credential, ballot)

    return _run(_ballot_check_name(position, entry), run)


def _entry_credential(entry: Any) -> str:
    """The entry's public credential (hex); ValueError for an entry without one or without a signature."""
    if not isinstance(entry, dict) or not isinstance(entry.get("credential"), str):
        raise ValueError("ballot entry needs a string 'credential'")
    if ballots.SIGNATURE not in entry:
        raise ValueError("ballot entry has no credential signature")
    credential: str = entry["credential"]
    return credential


def _short(entry: object) -> str:
    """A ballot's credential as check names show it: its first 16 hex characters."""
    credential = entry.get("credential") if isinstance(entry, dict) else None
    return credential[:16] if isinstance(credential, str) else repr(credential)


def _ballot_batch(jobs: list[tuple[Any, ...]]) -> list[Check]:
    """Pool job: the checks of a batch of ballots. When every entry parses and every credential signature
    holds, their proofs are first checked together as one product of powers; only if that fails (or anything
    is malformed) is each one checked on its own, which gives the same checks and reasons either way."""
    items = []
    for _, public_key, election_id, entry in jobs:
        try:
            if public_key is None:
                break
            credential = _entry_credential(entry)
            ballot = ballots.Ballot.from_json({k: v for k, v in entry.items() if k != "credential"})
            credentials.verify_signature(election_id, credential, ballot)  # one by one: they do not batch
            items.append((credential, ballot))
        except Exception:  # the check on its own reports it
            break
    else:
        if jobs and ballots.ballots_hold(jobs[0][1], jobs[0][2], items):
            return [Check(_ballot_check_name(job[0], job[3]), True, "ok") for job in jobs]
    return [_ballot_check(job) for job in jobs]


def _ballot_check_name(position: int, entry: object) -> str:
    return f"ballot {position} proof (credential {_short(entry)})"


def _share_check(
    position: int,
    entry: Any,
    vks: dict[int, bytes] | None,
    keys: dict[int, str],
    final: list[Ciphertext] | None,
    context: bytes | None,
    election_id: str | None,
    map_fn: Callable[..., Any],
    on_arrival: bool = False,
) -> tuple[Check, trustees.PartialDecryption | None]:
    """One trustee's signed decryption share: its signer and its batched proof, folded over map_fn.
    (check, parsed share or None)."""
    result: dict[str, Any] = {}

    def run() -> str | None:
        if final is None:
            raise _Missing("no usable list to decrypt")
        if vks is None:
            raise _Missing("no valid trustee commitments to derive verification keys from")
        if context is None:
            raise _Missing("the manifest is unusable: no nonce for the proof contexts")
        message = _closed(entry, PARTIAL_FIELDS, "decryption share")
        if message["type"] != "decrypt.response" or message["election_id"] != election_id:
            raise ValueError("not a decrypt.response for this election")
        partial = partial_of(message, validate=False)
        if partial.trustee not in vks:
            raise ValueError(f"trustee {partial.trustee} is not one of the election's trustees")
        if len(partial.factors) != len(final):
            raise ValueError(f"trustee {partial.trustee} decrypted {len(partial.factors)} of {len(final)} ciphertexts")
        if not on_arrival:
            trustees.verify_factors(vks[partial.trustee], [ct.a for ct in final], partial, context, map_fn)
        if keys.get(partial.trustee) != submission.verify(message):
            raise ValueError(f"share for trustee {partial.trustee} is not signed by the key that dealt as trustee "
                             f"{partial.trustee}")
        result["partial"] = partial  # only a share that passed counts toward the quorum
        return ON_ARRIVAL if on_arrival else None

    trustee = entry.get("index") if isinstance(entry, dict) else None
    return _run(f"decryption share {position} proof (trustee {trustee})", run), result.get("partial")


ON_ARRIVAL = "checked on arrival by the server that built this record (not re-verified)"


class _Verifier:
    # The closed field sets this mode reads (HomomorphicVerifier below widens them for its mode).
    record_fields: Collection[str] = RECORD_FIELDS
    election_fields: Collection[str] = ELECTION_FIELDS
    manifest_fields: Collection[str] = frozenset(MANIFEST_FIELDS)
    mixers_required = True

    def __init__(
        self, doc: dict[str, Any], map_fn: Callable[..., Any], proofs_checked_on_arrival: bool = False
    ) -> None:
        self.doc, self.map_fn = doc, map_fn
        self.on_arrival = proofs_checked_on_arrival
        self.checks: list[Check] = []
        self.election: dict[str, Any] | None = None
        self.nodes: dict[str, dict[str, Any]] | None = None  # key -> {key, name, role}
        self.nonce: bytes | None = None  # the manifest's nonce, once the manifest is usable
        self.listed_trustees: dict[int, str] = {}  # index -> key, from the manifest
        self.listed_mixers: dict[str, str] = {}  # key -> name, from the manifest
        self.mixer_fates: dict[str, list[str]] = {}  # listed mixer key -> what became of its stages
        self.dealings: list[trustees.Dealing] | None = None
        self.trustee_keys: dict[int, str] = {}  # trustee index -> the key that signed its dealing
        self.public_key: bytes | None = None
        self.cast: list[list[str]] | None = None  # the cast ciphertexts (JSON), when readable
        self.final: list[Ciphertext] | None = None
        self.final_json: list[Any] | None = None
        self.quorum: dict[int, tuple[bytes, ...]] | None = None
        self.plaintexts: list[int | None] | None = None  # decoded choices, None: invalid
        self._parsed_lists: list[tuple[list[Any], list[Ciphertext]]] = []
        self.listed: frozenset[str] | None = None  # the valid public credential list
        self._later: list[tuple[int, Callable[[], list[Check]]]] = []  # (report position, what collects them)
        self._entries: Any = _UNREAD  # the ballots, while the checks that read them in turn run
        self._held: list[Callable[[], None]] = []  # credential and ballot jobs not handed to map_fn yet, in order

    def _ciphertexts(self, value: Any, what: str) -> list[Ciphertext]:
        """`_ciphertexts`, reusing the parse of an identical JSON list read before: each stage's inputs repeat
        the previous outputs, and the decrypted list the last ones (parsing is deterministic, so only lists
        that parsed are kept, and the result is the same)."""
        for raw, parsed in self._parsed_lists:
            if raw == value:
                return parsed
        parsed = _ciphertexts(value, what, self.fed)
        self._parsed_lists = [*self._parsed_lists[-2:], (value, parsed)]
        return parsed

    def add(self, name: str, fn: Callable[[], str | None]) -> bool:
        check = _run(name, fn)
        self.checks.append(check)
        return check.ok

    def later(self, collect: Callable[[], list[Check]]) -> None:
        """Keep the report's next place for checks whose map_fn jobs were just handed out: `collect` gathers
        them once the rest of the run is done, so a pool works through them while the checks that follow
        parse and hash the record. Only checks nothing outside `later` reads go here. With the builtin map
        (nothing runs meanwhile) they are gathered at once, so no job holds its part of the record longer."""
        if self.map_fn is map:
            checks = collect()
            self._later.append((len(self.checks), lambda: checks))
        else:
            self._later.append((len(self.checks), collect))

    def release(self) -> None:
        """Hand the next held share of the credential and ballot checks to map_fn."""
        if self._held:
            self._held.pop(0)()

    def release_all(self) -> None:
        while self._held:
            self.release()

    def fed(self, fn: Callable[..., Any], jobs: Any, *rest: Any) -> Any:
        """map_fn for the cast list, the stages and the decryption shares: after handing their jobs out, it
        hands out the next held share too, which a pool works through once those jobs are done, while this
        process does the serial part that follows (reading the next part, checking a signature, parsing a
        proof, hashing its challenges)."""
        results = self.map_fn(fn, jobs, *rest)
        self.release()
        return results

    def settle(self) -> list[Check]:
        """The report: every deferred check collected (in report order) and put in its place."""
        made = [(at, collect()) for at, collect in self._later]
        self._later = []
        for at, checks in reversed(made):
            self.checks[at:at] = checks
        return self.checks

    def check_opening(self) -> None:
        """The checks both tally modes open with, in report order: the record's form, the election, its nodes and
        manifest, the key ceremony, the credentials and the ballots (docs/verifier.md)."""
        self.add("format", self.check_format)
        self.add("record fields", self.check_fields)
        self.add("group", self.check_group)
        self.add("election parameters", self.check_election)
        self.add("nodes", self.check_nodes)
        self.add("manifest", self.check_manifest)
        self.add("every listed node signed the manifest", self.check_seats)
        self.check_trustees()
        self.add("public key matches commitments", self.check_public_key)
        self.check_credential_list()
        self.check_ballots()
        self.later(self.check_listed_credentials())
        self.add("no credential used twice", self.check_credential_reuse)

    def run(self) -> list[Check]:
        self.check_opening()
        self.check_mix()
        self.add("decrypted list shares no ciphertext with the cast ballots", self.check_mixed_apart)
        self.check_decryption()
        self.add("tally matches decrypted plaintexts", self.check_tally)
        return self.settle()

    # --- header ---------------------------------------------------------------------------------------

    def check_format(self) -> None:
        if self.doc.get("format") != FORMAT:
            raise ValueError(f"format is {str(self.doc.get('format'))[:60]!r}, expected {FORMAT!r}")
        if not _is_int(self.doc.get("version")) or self.doc["version"] != VERSION:
            raise ValueError(f"version {str(self.doc.get('version'))[:20]!r} is not supported (only {VERSION})")

    def check_fields(self) -> None:
        _closed(self.doc, set(self.record_fields), "record")

    def check_group(self) -> None:
        g = _closed(self.doc.get("group"), {"name", "generator"}, "group")
        if g["name"] != group.GROUP_NAME:
            raise ValueError(f"group must be {group.GROUP_NAME!r}")
        if g["generator"] != group.GENERATOR.hex():
            raise ValueError("generator is not the ristretto255 base point")

    def check_election(self) -> None:
        e = _closed(self.doc.get("election"), set(self.election_fields), "election")
        if not isinstance(e["id"], str) or not e["id"]:
            raise ValueError("election id must be a non-empty string")
        if not isinstance(e["question"], str):
            raise ValueError("question must be a string")
        cands = e["candidates"]
        if not isinstance(cands, list) or not cands or not all(isinstance(c, str) and c for c in cands):
            raise ValueError("candidates must be a non-empty list of non-empty strings")
        if len(set(cands)) != len(cands):
            raise ValueError("candidate names must be distinct")
        t, n = e["threshold"], e["trustees"]
        if not (_is_int(t) and _is_int(n) and 1 <= t <= n):
            raise ValueError(f"need integers 1 ≤ threshold ≤ trustees, got {t!r}, {n!r}")
        self.election = e

    def _nodes(self) -> dict[str, dict[str, Any]]:
        if self.nodes is None:
            raise _Missing("the node list is unusable")
        return self.nodes

    def _election(self) -> dict[str, Any]:
        if self.election is None:
            raise _Missing("election parameters are unusable")
        return self.election

    @property
    def context(self) -> bytes:
        """The node proofs' election context: the id and the manifest's nonce."""
        if self.nonce is None:
            raise _Missing("the manifest is unusable: no nonce for the proof contexts")
        return proofs.election_context(self._election()["id"], self.nonce)

    def check_manifest(self) -> str | None:
        e = self._election()
        m = _closed(self.doc.get("manifest"), set(self.manifest_fields), "manifest")
        for field, value in (("election_id", e["id"]), ("question", e["question"]), ("candidates", e["candidates"]),
                             ("threshold", e["threshold"]), ("trustees", e["trustees"])):
            if m[field] != value or type(m[field]) is not type(value):
                raise ValueError(f"manifest {field} differs from the election's")
        if self.mixers_required and (not _is_int(m["mixers"]) or m["mixers"] < 1):
            raise ValueError("manifest mixers must be a positive integer")
        if not group.is_hex(m["nonce"], 64):
            raise ValueError("manifest nonce must be 64 lowercase hex characters")
        if self.nodes is None:
            raise _Missing("the node list is unusable")
        trustees_listed = m["listed_trustees"]
        if not isinstance(trustees_listed, list) or len(trustees_listed) != e["trustees"]:
            raise ValueError(f"manifest must list {e['trustees']} trustees")
        listed_t: dict[int, str] = {}
        for i, entry in enumerate(trustees_listed, 1):
            entry = _closed(entry, {"index", "name", "key"}, f"listed_trustees[{i - 1}]")
            if entry["index"] != i or not _is_int(entry["index"]):
                raise ValueError(f"listed_trustees[{i - 1}] must have index {i}")
            self._listed_node(entry, "trustee")
            listed_t[i] = entry["key"]
        mixers_listed = m["listed_mixers"]
        if not isinstance(mixers_listed, list) or (self.mixers_required and not mixers_listed):
            raise ValueError("manifest must list the expected mixers")
        listed_m: dict[str, str] = {}
        for i, entry in enumerate(mixers_listed):
            entry = _closed(entry, {"name", "key"}, f"listed_mixers[{i}]")
            self._listed_node(entry, "mixer")
            listed_m[entry["key"]] = entry["name"]
        if len(set(listed_t.values()) | set(listed_m)) != len(listed_t) + len(listed_m):
            raise ValueError("a key is listed twice in the manifest")
        self.nonce, self.listed_trustees, self.listed_mixers = bytes.fromhex(m["nonce"]), listed_t, listed_m
        return f"nonce {m['nonce'][:16]}…; {len(listed_t)} trustees and {len(listed_m)} mixers listed"

    def _listed_node(self, entry: dict[str, Any], role: str) -> None:
        if not isinstance(entry["key"], str) or not isinstance(entry["name"], str):
            raise ValueError("a listed node has a string name and key")
        node = self._node(entry["key"], role)
        if node["name"] != entry["name"]:
            raise ValueError(f"listed {role} {entry['name']!r} is registered as {node['name']!r}")

    def check_seats(self) -> str | None:
        if self.nonce is None:
            raise _Missing("the manifest is unusable")
        seats = self.doc.get("seats")
        if not isinstance(seats, list):
            raise ValueError("seats must be a list")
        expected = manifest_hash(self.doc["manifest"])
        signed: set[str] = set()
        for i, entry in enumerate(seats):
            seat = _closed(entry, SEAT_FIELDS, f"seats[{i}]")
            if seat["type"] != "seat" or seat["election_id"] != self._election()["id"]:
                raise ValueError(f"seats[{i}] is not a seat in this election")
            if seat["manifest_hash"] != expected:
                raise ValueError(f"seats[{i}] signs another manifest")
            key = submission.verify(seat)
            if key not in self.listed_mixers and key not in self.listed_trustees.values():
                raise ValueError(f"seats[{i}] is signed by a node the manifest does not list")
            if key in signed:
                raise ValueError(f"seats[{i}]: a node took its seat twice")
            signed.add(key)
        missing = (set(self.listed_mixers) | set(self.listed_trustees.values())) - signed
        if missing:
            names = sorted(self._nodes()[k]["name"] for k in missing)
            raise ValueError(f"listed node(s) {', '.join(names)} did not sign the manifest")
        return f"{len(signed)} seats signed"

    def check_mixer_fates(self) -> str | None:
        if self.nonce is None:
            raise _Missing("the manifest is unusable")
        said = []
        for key, name in self.listed_mixers.items():
            fates = self.mixer_fates.get(key)
            said.append(f"{name}: {', '.join(fates) if fates else 'silent (never asked)'}")
        return "; ".join(said)

    def check_nodes(self) -> str | None:
        entries = self.doc.get("nodes")
        if not isinstance(entries, list):
            raise ValueError("nodes must be a list")
        nodes: dict[str, dict[str, Any]] = {}
        names: set[str] = set()
        for i, entry in enumerate(entries):
            node = _closed(entry, NODE_FIELDS, f"nodes[{i}]")
            if not group.is_hex(node["key"], submission.KEY_HEX):
                raise ValueError(f"nodes[{i}]: key must be 64 lowercase hex characters")
            if not isinstance(node["name"], str) or not node["name"]:
                raise ValueError(f"nodes[{i}]: name must be a non-empty string")
            if node["role"] not in NODE_ROLES:
                raise ValueError(f"nodes[{i}]: role must be one of {', '.join(NODE_ROLES)}")
            if node["key"] in nodes:
                raise ValueError(f"nodes[{i}]: key listed twice")
            if node["name"] in names:
                raise ValueError(f"nodes[{i}]: name {node['name']!r} is registered to two keys")
            nodes[node["key"]] = node
            names.add(node["name"])
        self.nodes = nodes
        roles = Counter(n["role"] for n in nodes.values())
        return f"{roles['trustee']} trustees, {roles['mixer']} mixers, each name registered to one key"

    def _node(self, key: str, role: str) -> dict[str, Any]:
        if self.nodes is None:
            raise _Missing("the node list is unusable")
        node = self.nodes.get(key)
        if node is None:
            raise ValueError(f"signed by key {key[:16]}…, which is no listed node")
        if node["role"] != role:
            raise ValueError(f"signed by {node['name']!r}, a {node['role']}, not a {role}")
        return node

    # --- trustees and key -----------------------------------------------------------------------------

    def check_trustees(self) -> None:
        entries = self.doc.get("trustees")
        parsed: dict[int, trustees.Dealing] = {}

        def one(position: int, entry: Any) -> Callable[[], str | None]:
            def run() -> str | None:
                e = self._election()
                message = _closed(entry, DEALING_FIELDS, "dealing")
                if message["type"] != "keygen.commitment" or message["election_id"] != e["id"]:
                    raise ValueError("not a keygen.commitment for this election")
                if not isinstance(message["shares"], dict) or not all(
                        isinstance(v, str) for v in message["shares"].values()):
                    raise ValueError("shares must be an object of strings")
                dealing = dealing_of(message)
                if dealing.index != position + 1:
                    raise ValueError(
                        f"dealing at position {position} has index {dealing.index}, expected {position + 1}"
                    )
                trustees.verify_dealing(dealing, e["threshold"], self.context,
                                        trustees.labels_digest(e["question"], e["candidates"]))
                signer = submission.verify(message)  # binds every commitment, not only C_i0, to the trustee
                node = self._node(signer, "trustee")
                if self.listed_trustees.get(dealing.index) != signer:
                    raise ValueError(f"dealing {dealing.index} is not signed by the trustee the manifest lists")
                if signer in self.trustee_keys.values():
                    raise ValueError(f"{node['name']!r} signed two dealings")
                parsed[dealing.index] = dealing
                self.trustee_keys[dealing.index] = signer
                return f"dealt and signed by {node['name']!r}"
            return run

        if isinstance(entries, list):
            for position, entry in enumerate(entries):
                self.add(f"trustee {position + 1} commitments and key proof", one(position, entry))

        def complete() -> None:
            if not isinstance(entries, list):
                raise ValueError("trustees must be a list of dealings")
            n = self._election()["trustees"]
            if len(entries) != n:
                raise ValueError(f"{len(entries)} dealings for {n} trustees")
            if len(parsed) != n:
                raise ValueError(f"only {len(parsed)} of {n} dealings are valid")
            self.dealings = [parsed[i] for i in range(1, n + 1)]

        self.add("trustee set complete", complete)

    def check_public_key(self) -> None:
        try:
            claimed = group.decode(self.doc["public_key"])
        except (group.InvalidElement, TypeError) as exc:
            raise ValueError(f"public key: {exc}") from None
        # Ballots are checked against the published key even if the commitments are broken, so each
        # failure is reported where it is.
        self.public_key = claimed
        if self.dealings is None:
            raise _Missing("no valid trustee commitments to derive the key from")
        if trustees.joint_public_key(self.dealings) != claimed:
            raise ValueError("public key is not the sum of the trustees' constant-term commitments")

    # --- ballots --------------------------------------------------------------------------------------

    def _ballots(self, required: bool) -> Any:
        """doc["ballots"] (required: KeyError without it; else None), read once for the checks that read it one
        after another: a record in parts would read, hash and parse that part again for each."""
        if self._entries is _UNREAD:
            self._entries = self.doc.get("ballots", _ABSENT)
        if self._entries is _ABSENT:
            if required:
                raise KeyError("ballots")
            return None
        return self._entries

    def check_ballots(self) -> None:
        entries = self._ballots(required=False)
        if not isinstance(entries, list):
            self.add("ballots", _fail(ValueError("ballots must be a list")))
            return
        if self.election is None:
            self.add("ballots", _fail(_Missing("election parameters are unusable")))
            return
        if self.on_arrival:
            self.add("ballot proofs", lambda: f"{len(entries)} ballots, signatures and proofs: {ON_ARRIVAL}")
            return
        jobs = [(i, self.public_key, self.election["id"], entry) for i, entry in enumerate(entries)]
        batches = [jobs[lo:lo + _BATCH] for lo in range(0, len(jobs), _BATCH)]
        # Held back in shares (after the credential list's), so the cast list's decoding does not wait behind
        # them: `fed` hands one out after each of the cast list's, the stages' and the decryption shares' calls
        # of map_fn (about two per stage); the rest, if any, when the checks are collected. More than
        # _HELD_BALLOTS_MAX ballots go out at once instead.
        mix = self.doc.get("mix")
        shares = 1 + 2 * (len(mix) if isinstance(mix, list) else 0)
        size = max(1, -(-len(batches) // shares))
        groups = [batches[lo:lo + size] for lo in range(0, len(batches), size)]
        results: list[Any] = [()] * len(groups)

        def hand_out(i: int) -> None:
            results[i] = self.map_fn(_ballot_batch, groups[i])

        def collect() -> list[Check]:
            self.release_all()
            return [check for share in results for checks in share for check in checks]

        self._held += [functools.partial(hand_out, i) for i in range(len(groups))]
        if len(entries) > _HELD_BALLOTS_MAX:
            self.release_all()
        self.later(collect)

    # --- credentials ----------------------------------------------------------------------------------

    def check_credential_list(self) -> None:
        """The "credential list" check, collected later: its slices are the first share `fed` hands out."""
        values = self.doc.get("credentials")
        errors: list[Any] = [()]
        if isinstance(values, list) and values:
            # Each key's check is a point decoding plus a subgroup check (~70 µs): spread them over map_fn.
            jobs = [(lo, values[lo:lo + _CREDENTIAL_SLICE]) for lo in range(0, len(values), _CREDENTIAL_SLICE)]

            def hand_out() -> None:
                try:
                    errors[0] = self.map_fn(_credential_slice, jobs)
                except Exception as exc:  # reported by the check, as if map_fn had failed inside it
                    errors[0] = exc

            self._held.append(hand_out)

        def collect() -> list[Check]:
            self.release_all()
            return [_run("credential list", lambda: self._credential_list(values, errors[0]))]

        self.later(collect)

    def _credential_list(self, values: Any, errors: Any) -> str | None:
        if not isinstance(values, list) or not values:
            raise ValueError("credentials: the credential list must be a non-empty list of public credentials")
        if isinstance(errors, Exception):
            raise errors
        for error in errors:
            if error is not None:
                raise ValueError(f"credentials: {error}")
        if len(set(values)) != len(values):
            raise ValueError("credentials: the credential list holds the same credential twice")
        if values != sorted(values):
            raise ValueError("credentials must be lowercase hex in ascending order")
        self.listed = frozenset(values)
        return f"{len(values)} public credentials"

    def check_listed_credentials(self) -> Callable[[], list[Check]]:
        """The "ballots from listed credentials" check, decided once the credential list is: the ballots are
        matched now against the list as given, which is the valid list whenever there is one."""
        name = "ballots from listed credentials"
        try:
            entries = self._ballots(required=True)
            if not isinstance(entries, list):
                raise ValueError("ballots must be a list")
        except Exception as exc:
            failed = _fail(exc)
            return lambda: [_run(name, failed)]
        values = self.doc.get("credentials")
        strays: list[int] | Exception = []
        try:
            given = frozenset(values) if isinstance(values, list) else frozenset()
            strays = [i for i, e in enumerate(entries) if not isinstance(e, dict) or e.get("credential") not in given]
        except Exception as exc:  # (an unhashable value: the credential list fails too)
            strays = exc
        shown = "" if isinstance(strays, Exception) else ", ".join(f"{i} ({_short(entries[i])})" for i in strays[:10])
        count = len(entries)

        def decide() -> str | None:
            if self.listed is None:
                raise _Missing("the credential list is unusable")
            if isinstance(strays, Exception):
                raise strays
            if strays:
                raise ValueError(f"{len(strays)} ballot(s) from a credential not in the list: {shown}")
            return f"{count} ballots, each from a listed credential"

        return lambda: [_run(name, decide)]

    def check_credential_reuse(self) -> str | None:
        entries = self._ballots(required=True)
        if not isinstance(entries, list):
            raise ValueError("ballots must be a list")
        used = Counter(e.get("credential") for e in entries if isinstance(e, dict))
        twice = sorted(str(c) for c, k in used.items() if k > 1)
        if twice:
            raise ValueError(f"credentials with more than one ballot: {', '.join(twice)}")
        return f"{len(entries)} ballots from {len(used)} distinct credentials"

    # --- mixing ---------------------------------------------------------------------------------------

    def check_mix(self) -> None:
        stages_json = self.doc.get("mix")
        current: list[Ciphertext] | None = None
        current_json: list[Any] | None = None

        def cast_list() -> str | None:
            nonlocal current, current_json
            entries = self._ballots(required=False)
            self._entries = _UNREAD  # the last check to read them: let them go
            if not isinstance(entries, list):
                raise ValueError("ballots must be a list")
            if not all(isinstance(e, dict) for e in entries):
                raise ValueError("every ballot must be an object")
            current_json = [e.get("ciphertext") for e in entries]
            current = self._ciphertexts(current_json, "ballot ciphertexts")
            self.cast = current_json
            return f"{len(current)} ciphertexts"

        self.add("cast ciphertexts readable", cast_list)
        if not isinstance(stages_json, list):
            # In place of the per-stage checks only: the cascade checks below are still reported, and fail.
            self.add("mix cascade", _fail(ValueError("mix must be a list of stages")))
            stages_json, current, current_json = [], None, None
        accepted = 0
        for k, stage in enumerate(stages_json):
            expected, expected_json = current, current_json
            parsed: dict[str, Any] = {}

            def chaining(stage: Any = stage, expected: list[Ciphertext] | None = expected,
                         expected_json: list[Any] | None = expected_json, parsed: dict[str, Any] = parsed) -> None:
                if not isinstance(stage, dict):
                    raise ValueError("stage must be an object")
                if expected is None:
                    raise _Missing("the previous list is unusable")
                if stage.get("inputs") != expected_json:
                    raise ValueError("inputs are not the previous accepted stage's outputs (or the cast ballots)")
                parsed["inputs"], parsed["inputs_json"] = expected, expected_json

            self.add(f"mix stage {k} chaining", chaining)
            status = stage.get("status") if isinstance(stage, dict) else None
            if status == ACCEPTED:
                ok = self.add(f"mix stage {k} proof", functools.partial(self._verify_stage, k, stage, parsed))
                if ok:
                    accepted += 1
                    current, current_json = parsed["outputs"], stage["response"]["outputs"]
                else:
                    current = current_json = None  # nothing after a bad accepted stage can chain to something valid
            elif status == REJECTED:
                self.add(
                    f"mix stage {k} rejection justified", functools.partial(self._verify_rejection, k, stage, parsed)
                )
            else:
                self.add(
                    f"mix stage {k} status",
                    _fail(ValueError(f"status {str(status)[:40]!r} is neither accepted nor rejected")),
                )
                current = current_json = None

        def cascade() -> str | None:
            if accepted == 0:
                raise ValueError("no accepted mix stage: decrypting would link votes to voters")
            return f"{accepted} accepted, {len(stages_json) - accepted} rejected"

        self.add("mix cascade has an accepted stage", cascade)
        self.final, self.final_json = current, current_json
        self.add("listed mixers accepted, rejected or silent", self.check_mixer_fates)

    def _judge(self, k: int, stage: dict[str, Any], parsed: dict[str, Any]) -> stages.Verdict:
        """The stage's signer checked and the stage judged exactly as the server judged it (mixnet/stages.py)."""
        if "inputs" not in parsed:
            raise _Missing("the stage's inputs do not chain: nothing to judge it against")
        mixer = stage.get("mixer")
        if not isinstance(mixer, str):
            raise ValueError("stage mixer must be a key")
        node = self._node(mixer, "mixer")
        if self.nonce is None:
            raise _Missing("the manifest is unusable")
        if mixer not in self.listed_mixers:
            raise ValueError(f"stage run by {node['name']!r}, a mixer the manifest does not list")
        response = stage.get("response")
        if response is not None:
            if submission.verify(response) != mixer:
                raise ValueError("the response is signed by another key than the stage's mixer")
        return stages.judge(response, election_id=self._election()["id"], stage=k, inputs_json=parsed["inputs_json"],
                            inputs=parsed["inputs"], public_key=self.public_key,
                            context=mix_context(self._election()["id"], k, mixer, self.nonce), map_fn=self.fed,
                            check_proof=not self.on_arrival)

    def _verify_stage(self, k: int, stage: dict[str, Any], parsed: dict[str, Any]) -> str | None:
        _closed(stage, ACCEPTED_STAGE_FIELDS, "accepted stage")
        if self.public_key is None:
            raise _Missing("no valid public key")
        verdict = self._judge(k, stage, parsed)
        if verdict.rejected_as is not None:
            raise ValueError(f"accepted stage is {verdict.rejected_as}: {verdict.reason}")
        parsed["outputs"] = verdict.outputs
        self.mixer_fates.setdefault(stage["mixer"], []).append(f"accepted at stage {k}")
        name = self._nodes()[stage["mixer"]]["name"]
        return (
            f"signed by mixer {name!r}; {ON_ARRIVAL}"
            if self.on_arrival
            else f"signed by mixer {name!r}; proof verifies"
        )

    def _verify_rejection(self, k: int, stage: dict[str, Any], parsed: dict[str, Any]) -> str:
        _closed(stage, REJECTED_STAGE_FIELDS, "rejected stage")
        claimed, reason = stage["class"], stage["reason"]
        if claimed not in stages.CLASSES:
            raise ValueError(f"class {str(claimed)[:40]!r} is not one of {', '.join(stages.CLASSES)}")
        if not isinstance(reason, str) or not reason:
            raise ValueError("a rejected stage must record its reason")
        if claimed == stages.NO_ANSWER and stage["response"] is not None:
            raise ValueError("a no_answer stage must have no response (a signed response exists)")
        if claimed == stages.PROOF_FAILS and self.on_arrival:
            self._judge(k, stage, {**parsed})  # signer and statement still checked
            self.mixer_fates.setdefault(stage["mixer"], []).append(
                f"rejected ({claimed}, signed evidence) at stage {k}"
            )
            return f"{claimed} ({reason}); {ON_ARRIVAL}"
        if self.public_key is None and claimed == stages.PROOF_FAILS:
            raise _Missing("no valid public key")
        verdict = self._judge(k, stage, parsed)
        if verdict.rejected_as is None:
            raise ValueError("stage was rejected but it is a valid signed stage whose proof verifies")
        if verdict.rejected_as != claimed:
            raise ValueError(f"stage is recorded as {claimed} but is {verdict.rejected_as}: {verdict.reason}")
        mixer = self._nodes()[stage["mixer"]]["name"]
        fate = "silent (no answer)" if claimed == stages.NO_ANSWER else f"rejected ({claimed}, signed evidence)"
        self.mixer_fates.setdefault(stage["mixer"], []).append(f"{fate} at stage {k}")
        return f"{claimed} ({reason}); mixer {mixer!r}; re-verified: {verdict.reason}"

    def check_mixed_apart(self) -> str | None:
        if self.cast is None:
            raise _Missing("the cast ciphertexts are unreadable")
        if self.final_json is None:
            raise _Missing("the mix cascade ended in an unusable list")
        cast = {tuple(ct) for ct in self.cast}
        shared = sum(tuple(ct) in cast for ct in self.final_json)
        if shared:
            raise ValueError(f"{shared} decrypted ciphertext(s) are cast ballots unchanged: those votes are linkable")
        return f"none of {len(self.final_json)} is a cast ciphertext"

    # --- decryption and result ------------------------------------------------------------------------

    def check_decryption(self) -> None:
        unusable = "the mix cascade ended in an unusable list"
        self.check_decryption_input("decryption input is the final mix output", unusable,
                                    "decrypted list is not the last accepted stage's outputs")

        def combination() -> str | None:
            final, chosen = self._chosen_shares(unusable)
            if self._claimed_plaintexts_hold(chosen):  # the fast path; the exact one below says what is wrong
                self.plaintexts = list(self.doc["plaintexts"])
                return f"trustees {sorted(chosen)} combined"
            claimed = self.doc.get("plaintexts")
            if not isinstance(claimed, list) or not all(c is None or _is_int(c) for c in claimed):
                raise ValueError("plaintexts must be a list of choice indices or nulls")
            elements = trustees.combine_factors(final, chosen, self.map_fn)
            if len(claimed) != len(elements):
                raise ValueError(f"{len(claimed)} plaintexts for {len(elements)} decrypted ciphertexts")
            decoded = tally.decode_choices(elements, len(self._election()["candidates"]))
            for position, (mine, theirs) in enumerate(zip(decoded, claimed)):
                if mine != theirs:
                    raise ValueError(f"plaintext {position} is {_choice_text(theirs)}, "
                                     f"the shares decrypt to {_choice_text(mine)}")
            self.plaintexts = decoded
            return f"trustees {sorted(chosen)} combined"

        self.add("combination of shares gives the plaintexts", combination)

    def _claimed_plaintexts_hold(self, chosen: dict[int, tuple[bytes, ...]]) -> bool:
        """The fast path of the combination check: True when the claimed plaintexts are well-formed and the
        chosen shares combine to them (the candidates' rows as one product of powers, the rows claimed
        invalid combined one by one). False sends the check down the exact path, which says what is wrong."""
        claimed, count = self.doc.get("plaintexts"), len(self._election()["candidates"])
        final = self.final
        if final is None or not isinstance(claimed, list) or len(claimed) != len(final):
            return False
        if not all(c is None or (_is_int(c) and 0 <= c < count) for c in claimed):
            return False

        def rows(positions: list[int]) -> tuple[list[Ciphertext], dict[int, list[bytes]]]:
            return ([final[p] for p in positions],
                    {j: [factors[p] for p in positions] for j, factors in chosen.items()})

        invalid = [p for p, c in enumerate(claimed) if c is None]
        if invalid:
            elements = trustees.combine_factors(*rows(invalid), self.map_fn)
            if any(c is not None for c in tally.decode_choices(elements, count)):
                return False
        known = [p for p, c in enumerate(claimed) if c is not None]
        messages = [elgamal.encode_choice(i) for i in range(count)]
        return not known or trustees.combination_holds(*rows(known), [messages[claimed[p]] for p in known], self.map_fn)

    def check_decryption_input(self, name: str, unusable: str, mismatch: str) -> None:
        """The check `name` that the decrypted list is this verifier's final list, then the shares and quorum."""
        decryption = self.doc.get("decryption")

        def listed() -> None:
            listing = _closed(decryption, DECRYPTION_FIELDS, "decryption")
            if self.final is None:
                raise _Missing(unusable)
            if listing["ciphertexts"] != self.final_json:
                raise ValueError(mismatch)

        self.add(name, listed)
        self.check_shares_and_quorum(decryption)

    def _chosen_shares(self, unusable: str) -> tuple[list[Ciphertext], dict[int, tuple[bytes, ...]]]:
        """The final list and the t lowest-indexed valid shares the combination uses (a quorum exists only over
        a usable list)."""
        if self.quorum is None:
            raise _Missing("no quorum of valid decryption shares")
        if self.final is None:
            raise _Missing(unusable)
        return self.final, dict(sorted(self.quorum.items())[:self._election()["threshold"]])

    def check_shares_and_quorum(self, decryption: Any) -> None:
        """Refusals, one check per decryption share over `self.final`, and the quorum (the same in both modes)."""
        self.add("trustee refusals", lambda: self._check_refusals(decryption))
        partial_entries = decryption.get("partials") if isinstance(decryption, dict) else None
        if not isinstance(partial_entries, list):
            self.add("decryption shares", _fail(ValueError("partials must be a list")))
            partial_entries = []
        vks = None
        if self.dealings is not None:
            vks = {d.index: trustees.verification_key(self.dealings, d.index) for d in self.dealings}
        context = self.context if self.election is not None and self.nonce is not None else None
        election_id = self.election["id"] if self.election is not None else None
        valid: dict[int, tuple[bytes, ...]] = {}
        dupes: list[int] = []
        for i, entry in enumerate(partial_entries):
            check, partial = _share_check(i, entry, vks, self.trustee_keys, self.final, context, election_id,
                                          self.fed, self.on_arrival)
            self.checks.append(check)
            if partial is not None:
                if partial.trustee in valid:
                    dupes.append(partial.trustee)
                valid.setdefault(partial.trustee, partial.factors)

        def quorum() -> str | None:
            t = self._election()["threshold"]
            if dupes:
                raise ValueError(f"trustee(s) {sorted(set(dupes))} submitted more than one share")
            if len(valid) < t:
                raise ValueError(f"{len(valid)} valid decryption shares, {t} needed")
            self.quorum = valid
            return f"{len(valid)} valid shares, threshold {t}"

        self.add("decryption quorum", quorum)

    def _check_refusals(self, decryption: Any) -> str:
        refusals = decryption.get("refusals") if isinstance(decryption, dict) else None
        if not isinstance(refusals, list):
            raise ValueError("refusals must be a list")
        said = []
        for i, entry in enumerate(refusals):
            refusal = _closed(entry, REFUSAL_FIELDS, f"refusals[{i}]")
            if not isinstance(refusal["trustee"], str):
                raise ValueError(f"refusals[{i}]: trustee must be a key")
            node = self._node(refusal["trustee"], "trustee")
            if not isinstance(refusal["reason"], str) or not refusal["reason"]:
                raise ValueError(f"refusals[{i}]: a refusal states its reason")
            said.append(f"{node['name']!r}: {refusal['reason'][:200]}")
        return "; ".join(said) if said else "none"

    def check_tally(self) -> str | None:
        result = _closed(self.doc.get("result"), RESULT_FIELDS, "result")
        counts = result["counts"]
        if not isinstance(counts, list) or not all(_is_int(c) for c in counts):
            raise ValueError("result counts must be a list of integers")
        if not _is_int(result["invalid"]):
            raise ValueError("result invalid must be an integer")
        if self.plaintexts is None:
            raise _Missing("no verified plaintexts to count")
        expected = tally.count_result(self.plaintexts, len(self._election()["candidates"]))
        if counts != expected["counts"]:
            raise ValueError(f"counts {counts} but the plaintexts give {expected['counts']}")
        if result["invalid"] != expected["invalid"]:
            raise ValueError(f"invalid {result['invalid']} but the plaintexts give {expected['invalid']}")
        return f"counts {counts}, invalid {expected['invalid']}"


def verify_record(doc: Any, map_fn: Callable[..., Any] = map, proofs_checked_on_arrival: bool = False) -> list[Check]:
    """Every check of docs/verifier.md over `doc`, in order. Never raises for a malformed document.

    proofs_checked_on_arrival: only for the server that built `doc` from its own bulletin board, where every
    ballot, mix stage and decryption share was stored only after its proof was checked as it arrived (the
    pattern of belenios-tool's verify-ballot + verify --skip-ballot-check). The ballot, stage and share
    proofs are then not re-verified (their checks say so); everything else — keys, structure, chaining,
    duplicates, the combination of shares and the tally — is. A third party always verifies in full."""
    if not isinstance(doc, dict):
        return [Check("format", False, "record must be a JSON object")]
    try:
        checks = _verifier_class(doc)(doc, map_fn, proofs_checked_on_arrival).run()
        # The parts' checks come first in the report but are made last: each part's was made when the checks
        # above first read it, so no part is read, hashed and parsed only to be checked.
        parts = [Check(*result) for result in doc.check_parts()] if isinstance(doc, PartedRecord) else []
        return parts + checks
    except Exception as exc:  # a verifier bug must still come back as a failing check, not a traceback
        return [Check("verifier", False, f"internal error: {_describe(exc)}")]


def _verifier_class(doc: dict[str, Any]) -> type[_Verifier]:
    """The homomorphic mode's checks for a record whose election says so (docs/verifier.md §5); else these."""
    election = doc.get("election")
    if isinstance(election, dict) and election.get("tally") == homomorphic.HOMOMORPHIC:
        return HomomorphicVerifier
    return _Verifier


# --- the homomorphic mode (docs/verifier.md §5) -------------------------------------------------------------
# The header, nodes, manifest, seats, trustees and public key are checked as for a mixnet record; the ballots,
# the sums, the decryption of the sums and the counts replace the cast list, the cascade, the plaintexts and
# their count.

_HOMOMORPHIC_BATCH = 32  # homomorphic ballots per map_fn job


def _homomorphic_ballot_name(position: int, entry: object) -> str:
    return f"ballot {position} proofs (credential {_short(entry)})"


def _homomorphic_ballot_check(job: tuple[Any, ...]) -> Check:
    position, public_key, election_id, candidates, entry = job

    def run() -> None:
        if public_key is None:
            raise _Missing("no valid public key to check against")
        credential = _entry_credential(entry)
        ballot = homomorphic.parse_ballot({k: v for k, v in entry.items() if k != "credential"}, candidates)
        credentials.verify_signature(election_id, credential, ballot)
        homomorphic.verify(public_key, election_id, credential, candidates, ballot)

    return _run(_homomorphic_ballot_name(position, entry), run)


def _homomorphic_ballot_batch(jobs: list[tuple[Any, ...]]) -> list[Check]:
    """Pool job: a batch's proofs as one product of powers; one by one only when that fails."""
    items = []
    for _, public_key, _, candidates, entry in jobs:
        try:
            if public_key is None:
                break
            credential = _entry_credential(entry)
            ballot = homomorphic.parse_ballot({k: v for k, v in entry.items() if k != "credential"}, candidates)
            credentials.verify_signature(jobs[0][2], credential, ballot)  # one by one: they do not batch
            items.append((credential, ballot))
        except Exception:  # the check on its own reports it
            break
    else:
        if jobs and homomorphic.ballots_hold(jobs[0][1], jobs[0][2], items):
            return [Check(_homomorphic_ballot_name(job[0], job[4]), True, "ok") for job in jobs]
    return [_homomorphic_ballot_check(job) for job in jobs]


class HomomorphicVerifier(_Verifier):
    record_fields = frozenset(homomorphic.RECORD_FIELDS)
    election_fields = set(ELECTION_FIELDS) | {"tally"}
    manifest_fields = frozenset(set(MANIFEST_FIELDS) | {"tally"})
    mixers_required = False

    def __init__(
        self, doc: dict[str, Any], map_fn: Callable[..., Any], proofs_checked_on_arrival: bool = False
    ) -> None:
        super().__init__(doc, map_fn, proofs_checked_on_arrival)
        self.sums_json: list[Any] | None = None
        self.decrypted: list[int] | None = None

    def run(self) -> list[Check]:
        self.check_opening()
        self._entries = _UNREAD  # the last check to read the ballots through `_ballots`
        self.add("homomorphic sums", self.check_sums)
        self.check_decryption()
        self.add("tally matches decrypted sums", self.check_tally)
        return self.settle()

    def check_election(self) -> None:
        e = _closed(self.doc.get("election"), set(self.election_fields), "election")
        if e["tally"] != homomorphic.HOMOMORPHIC:
            raise ValueError(f"tally must be {homomorphic.HOMOMORPHIC!r} (a mixnet record has no tally field)")
        return super().check_election()

    def check_manifest(self) -> str | None:
        m = _closed(self.doc.get("manifest"), set(self.manifest_fields), "manifest")
        if m["tally"] != homomorphic.HOMOMORPHIC:
            raise ValueError("manifest tally differs from the election's")
        if m["mixers"] != 0 or type(m["mixers"]) is not int or m["listed_mixers"] != []:
            raise ValueError("a homomorphic election's manifest lists no mixers (mixers 0, listed_mixers [])")
        return super().check_manifest()

    @property
    def candidates(self) -> int:
        return len(self._election()["candidates"])

    def check_ballots(self) -> None:
        entries = self._ballots(required=False)
        if not isinstance(entries, list):
            self.add("ballots", _fail(ValueError("ballots must be a list")))
            return
        if self.election is None:
            self.add("ballots", _fail(_Missing("election parameters are unusable")))
            return
        if self.on_arrival:
            self.add("ballot proofs", lambda: f"{len(entries)} ballots: {ON_ARRIVAL}")
            return
        jobs = [(i, self.public_key, self.election["id"], self.candidates, entry) for i, entry in enumerate(entries)]
        step = _HOMOMORPHIC_BATCH
        for checks in self.map_fn(_homomorphic_ballot_batch, [jobs[lo:lo + step] for lo in range(0, len(jobs), step)]):
            self.checks.extend(checks)

    def check_sums(self) -> str | None:
        entries = self.doc.get("ballots")
        if not isinstance(entries, list):
            raise _Missing("ballots must be a list")
        k = self.candidates
        for i, entry in enumerate(entries):
            cts = entry.get("ciphertexts") if isinstance(entry, dict) else None
            if not isinstance(cts, list) or len(cts) != k or not all(
                    isinstance(ct, list) and len(ct) == 2 and all(group.is_hex(x, 64) for x in ct) for ct in cts):
                raise ValueError(f"ballot {i}: {k} ciphertexts are needed to sum")
        claimed = self.doc.get("sums")
        try:
            parsed = self._ciphertexts(claimed, "sums")
            expected = homomorphic.sums_of_json(entries, k)
        except (ValueError, group.InvalidElement) as exc:
            raise ValueError(f"sums: {exc}") from None
        if len(parsed) != k or not isinstance(claimed, list):
            raise ValueError(f"{len(parsed)} sums for {k} candidates")
        for i, (mine, theirs) in enumerate(zip(expected, claimed)):
            if mine != theirs:
                raise ValueError(f"sum {i} ({self._election()['candidates'][i]!r}) is not the sum of the ballots' "
                                 f"ciphertexts {i}")
        self.final, self.final_json = parsed, claimed
        return f"{k} sums over {len(entries)} ballots"

    def check_decryption(self) -> None:
        unusable = "the sums are unusable"
        self.check_decryption_input("decryption input is the sums", unusable, "decrypted list is not the sums")

        def combination() -> str | None:
            final, chosen = self._chosen_shares(unusable)
            elements = trustees.combine_factors(final, chosen, self.map_fn)
            ballots = len(self.doc["ballots"])
            try:
                self.decrypted = homomorphic.counts_of(elements, ballots)
            except ValueError:
                raise ValueError(f"a sum decrypts to no count between 0 and {ballots}") from None
            return f"trustees {sorted(chosen)} combined: counts {self.decrypted}"

        self.add("combination of shares gives the counts", combination)

    def check_tally(self) -> str | None:
        result = _closed(self.doc.get("result"), RESULT_FIELDS, "result")
        counts = result["counts"]
        if not isinstance(counts, list) or not all(_is_int(c) for c in counts):
            raise ValueError("result counts must be a list of integers")
        if result["invalid"] != 0 or not _is_int(result["invalid"]):
            raise ValueError("result invalid must be 0: every homomorphic ballot proves one valid mark")
        if self.decrypted is None:
            raise _Missing("no verified counts to compare")
        if counts != self.decrypted:
            raise ValueError(f"counts {counts} but the sums decrypt to {self.decrypted}")
        if sum(counts) != len(self.doc["ballots"]):
            raise ValueError(f"counts add up to {sum(counts)} for {len(self.doc['ballots'])} ballots")
        return f"counts {counts}"


def all_passed(checks: list[Check]) -> bool:
    return bool(checks) and all(c.ok for c in checks)

"""The stand-alone verifier: every check docs/verifier.md lists, run over one election record.

`verify_record(doc)` never raises for a bad document: each check is reported as Check(name, ok, reason), and
a malformed part fails the checks that depend on it with the parse error as its reason. Checks that need a
value another check could not produce (say, ballots when the public key is unreadable) fail with a reason
saying so, so the list always shows where verification stopped.

`map_fn` (default: the builtin `map`) spreads the independent work — ballot proofs, and the inner loops of
the shuffle proofs and the decryption shares' batched proofs — over whatever pool the caller provides.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, NamedTuple

from mixnet import ballots, elgamal, group, proofs, shuffle, tally, trustees
from mixnet.elgamal import Ciphertext
from mixnet.record import ACCEPTED, FORMAT, REJECTED, VERSION, mix_context


_BATCH = 64  # ballots per map_fn job
_DECODE_SLICES = 16  # map_fn jobs per ciphertext list: enough to keep every worker busy
_DECODE_MIN_SLICE = 256  # ...but no job so small that shipping it costs more than decoding it


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


def _ciphertexts(value, what: str, map_fn=map) -> list[Ciphertext]:
    """Decode a JSON list of ciphertexts; the raw slices go to map_fn jobs, which decode and validate them.

    The reason names the first bad position, exactly as one sequential pass would."""
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list of ciphertexts")
    size = max(_DECODE_MIN_SLICE, -(-len(value) // _DECODE_SLICES))
    jobs = [(what, lo, value[lo:lo + size]) for lo in range(0, len(value), size)]
    out: list[Ciphertext] = []
    for decoded, error in map_fn(_decode_slice, jobs):
        if error is not None:
            raise ValueError(error)
        out.extend(decoded)
    return out


def _decode_slice(job: tuple) -> tuple[list[Ciphertext], str | None]:
    """Pool job: the slice's ciphertexts, or the reason for its first bad one."""
    what, offset, items = job
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Ciphertext.from_json(item))
        except (group.InvalidElement, TypeError) as exc:
            return [], f"{what}[{offset + i}]: {exc}"
    return out, None


def _fail(exc: Exception) -> Callable[[], None]:
    """A check that can only fail, with this reason."""

    def run():
        raise exc

    return run


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice_text(choice: int | None) -> str:
    return "invalid (null)" if choice is None else str(choice)


# Module-level so a process pool can pickle them.
def _ballot_check(job: tuple) -> Check:
    position, public_key, election_id, entry = job

    def run():
        if public_key is None:
            raise _Missing("no valid public key to check against")
        if not isinstance(entry, dict) or not isinstance(entry.get("voter"), str):
            raise ValueError("ballot entry needs a string 'voter'")
        ballot = ballots.Ballot.from_json({k: v for k, v in entry.items() if k != "voter"})
        ballots.verify_ballot(public_key, election_id, entry["voter"], ballot)

    return _run(_ballot_check_name(position, entry), run)


def _ballot_batch(jobs: list[tuple]) -> list[Check]:
    """Pool job: the checks of a batch of ballots. When every entry parses, their proofs are first checked
    together as one product of powers; only if that fails (or anything is malformed) is each one checked
    on its own, which gives the same checks and reasons either way."""
    items = []
    for _, public_key, election_id, entry in jobs:
        try:
            if public_key is None or not isinstance(entry, dict) or not isinstance(entry.get("voter"), str):
                break
            items.append((entry["voter"], ballots.Ballot.from_json({k: v for k, v in entry.items() if k != "voter"})))
        except Exception:  # the check on its own reports it
            break
    else:
        if jobs and ballots.ballots_hold(jobs[0][1], jobs[0][2], items):
            return [Check(_ballot_check_name(job[0], job[3]), True, "ok") for job in jobs]
    return [_ballot_check(job) for job in jobs]


def _ballot_check_name(position: int, entry) -> str:
    voter = entry.get("voter") if isinstance(entry, dict) else None
    return f"ballot {position} proof (voter {voter!r})"


def _share_check(position: int, entry, vks, final, context: bytes, map_fn, on_arrival: bool = False
                 ) -> tuple[Check, object]:
    """One trustee's decryption share: its batched proof, folded over map_fn. (check, parsed share or None)."""
    result: dict = {}

    def run():
        if final is None:
            raise _Missing("no usable list to decrypt")
        if vks is None:
            raise _Missing("no valid trustee commitments to derive verification keys from")
        partial = trustees.PartialDecryption.from_json(entry, validate=False)
        if partial.trustee not in vks:
            raise ValueError(f"trustee {partial.trustee} is not one of the election's trustees")
        if len(partial.factors) != len(final):
            raise ValueError(f"trustee {partial.trustee} decrypted {len(partial.factors)} of {len(final)} ciphertexts")
        if not on_arrival:
            trustees.verify_factors(vks[partial.trustee], [ct.a for ct in final], partial, context, map_fn)
        result["partial"] = partial  # only a share that passed counts toward the quorum
        return ON_ARRIVAL if on_arrival else None

    trustee = entry.get("trustee") if isinstance(entry, dict) else None
    return _run(f"decryption share {position} proof (trustee {trustee})", run), result.get("partial")


ON_ARRIVAL = "checked on arrival by the server that built this record (not re-verified)"


class _Verifier:
    def __init__(self, doc: dict, map_fn, proofs_checked_on_arrival: bool = False):
        self.doc, self.map_fn = doc, map_fn
        self.on_arrival = proofs_checked_on_arrival
        self.checks: list[Check] = []
        self.election: dict | None = None
        self.dealings: list[trustees.Dealing] | None = None
        self.public_key: bytes | None = None
        self.final: list[Ciphertext] | None = None
        self.plaintexts: list[int | None] | None = None  # decoded choices, None: invalid
        self._parsed_lists: list[tuple[list, list[Ciphertext]]] = []

    def _ciphertexts(self, value, what: str) -> list[Ciphertext]:
        """`_ciphertexts`, reusing the parse of an identical JSON list read before: each stage's inputs repeat
        the previous outputs, and the decrypted list the last ones (parsing is deterministic, so only lists
        that parsed are kept, and the result is the same)."""
        for raw, parsed in self._parsed_lists:
            if raw == value:
                return parsed
        parsed = _ciphertexts(value, what, self.map_fn)
        self._parsed_lists = [*self._parsed_lists[-2:], (value, parsed)]
        return parsed

    def add(self, name: str, fn: Callable[[], str | None]) -> bool:
        check = _run(name, fn)
        self.checks.append(check)
        return check.ok

    def run(self) -> list[Check]:
        self.add("format", self.check_format)
        self.add("group", self.check_group)
        self.add("election parameters", self.check_election)
        self.check_trustees()
        self.add("public key matches commitments", self.check_public_key)
        self.check_ballots()
        self.add("duplicate voters", self.check_duplicate_voters)
        self.check_mix()
        self.check_decryption()
        self.add("tally matches decrypted plaintexts", self.check_tally)
        return self.checks

    # --- header ---------------------------------------------------------------------------------------

    def check_format(self):
        if self.doc.get("format") != FORMAT:
            raise ValueError(f"format is {self.doc.get('format')!r}, expected {FORMAT!r}")
        if self.doc.get("version") != VERSION:
            raise ValueError(f"version {self.doc.get('version')!r} is not supported (only {VERSION})")

    def check_group(self):
        g = self.doc["group"]
        if not isinstance(g, dict) or g.get("name") != group.GROUP_NAME:
            raise ValueError(f"group must be {group.GROUP_NAME!r}")
        if g.get("generator") != group.GENERATOR.hex():
            raise ValueError("generator is not the ristretto255 base point")

    def check_election(self):
        e = self.doc["election"]
        if not isinstance(e, dict):
            raise ValueError("election must be an object")
        if not isinstance(e.get("id"), str) or not e["id"]:
            raise ValueError("election id must be a non-empty string")
        if not isinstance(e.get("question"), str):
            raise ValueError("question must be a string")
        cands = e.get("candidates")
        if not isinstance(cands, list) or not cands or not all(isinstance(c, str) for c in cands):
            raise ValueError("candidates must be a non-empty list of strings")
        t, n = e.get("threshold"), e.get("trustees")
        if not (_is_int(t) and _is_int(n) and 1 <= t <= n):
            raise ValueError(f"need integers 1 ≤ threshold ≤ trustees, got {t!r}, {n!r}")
        self.election = e

    def _election(self) -> dict:
        if self.election is None:
            raise _Missing("election parameters are unusable")
        return self.election

    @property
    def context(self) -> bytes:
        return proofs.election_context(self._election()["id"])

    # --- trustees and key -----------------------------------------------------------------------------

    def check_trustees(self):
        entries = self.doc.get("trustees")
        parsed: dict[int, trustees.Dealing] = {}

        def one(position, entry):
            def run():
                e = self._election()
                dealing = trustees.Dealing.from_json(entry)
                if dealing.index != position + 1:
                    raise ValueError(f"dealing at position {position} has index {dealing.index}, expected {position + 1}")
                trustees.verify_dealing(dealing, e["threshold"], self.context,
                                        trustees.labels_digest(e["question"], e["candidates"]))
                parsed[dealing.index] = dealing
            return run

        if isinstance(entries, list):
            for position, entry in enumerate(entries):
                self.add(f"trustee {position + 1} commitments and key proof", one(position, entry))

        def complete():
            if not isinstance(entries, list):
                raise ValueError("trustees must be a list of dealings")
            n = self._election()["trustees"]
            if len(entries) != n:
                raise ValueError(f"{len(entries)} dealings for {n} trustees")
            if len(parsed) != n:
                raise ValueError(f"only {len(parsed)} of {n} dealings are valid")
            self.dealings = [parsed[i] for i in range(1, n + 1)]

        self.add("trustee set complete", complete)

    def check_public_key(self):
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

    def check_ballots(self):
        entries = self.doc.get("ballots")
        if not isinstance(entries, list):
            self.add("ballots", _fail(ValueError("ballots must be a list")))
            return
        if self.election is None:
            self.add("ballots", _fail(_Missing("election parameters are unusable")))
            return
        if self.on_arrival:
            self.add("ballot proofs", lambda: f"{len(entries)} ballots: {ON_ARRIVAL}")
            return
        jobs = [(i, self.public_key, self.election["id"], entry) for i, entry in enumerate(entries)]
        batches = [jobs[lo:lo + _BATCH] for lo in range(0, len(jobs), _BATCH)]
        for checks in self.map_fn(_ballot_batch, batches):
            self.checks.extend(checks)

    def check_duplicate_voters(self):
        entries = self.doc["ballots"]
        if not isinstance(entries, list):
            raise ValueError("ballots must be a list")
        voters = Counter(e.get("voter") for e in entries if isinstance(e, dict))
        dupes = sorted(str(v) for v, k in voters.items() if k > 1)
        if dupes:
            raise ValueError(f"voters with more than one ballot: {', '.join(dupes)}")
        return f"{len(entries)} ballots from {len(voters)} distinct voters"

    # --- mixing ---------------------------------------------------------------------------------------

    def check_mix(self):
        stages = self.doc.get("mix")
        current: list[Ciphertext] | None = None

        def cast_list():
            nonlocal current
            entries = self.doc["ballots"]
            current = self._ciphertexts([e.get("ciphertext") if isinstance(e, dict) else None for e in entries], "ballot ciphertexts")

        self.add("cast ciphertexts readable", cast_list)
        if not isinstance(stages, list):
            self.add("mix cascade", _fail(ValueError("mix must be a list of stages")))
            return
        accepted = 0
        for k, stage in enumerate(stages):
            expected = current
            parsed: dict = {}

            def chaining(stage=stage, expected=expected, parsed=parsed):
                if not isinstance(stage, dict):
                    raise ValueError("stage must be an object")
                inputs = self._ciphertexts(stage.get("inputs"), "inputs")
                parsed["inputs"] = inputs
                if expected is None:
                    raise _Missing("the previous list is unusable")
                if inputs != expected:
                    raise ValueError("inputs are not the previous accepted stage's outputs (or the cast ballots)")

            self.add(f"mix stage {k} chaining", chaining)
            status = stage.get("status") if isinstance(stage, dict) else None
            if status == ACCEPTED:
                ok = self.add(f"mix stage {k} proof", lambda k=k, stage=stage, parsed=parsed: self._verify_stage(k, stage, parsed))
                if ok:
                    accepted += 1
                    current = parsed["outputs"]
                else:
                    current = None  # nothing after a bad accepted stage can chain to something valid
            elif status == REJECTED:
                self.add(f"mix stage {k} rejection justified", lambda k=k, stage=stage, parsed=parsed: self._verify_rejection(k, stage, parsed))
            else:
                self.add(f"mix stage {k} status", _fail(ValueError(f"status {status!r} is neither accepted nor rejected")))
                current = None

        def cascade():
            if accepted == 0:
                raise ValueError("no accepted mix stage: decrypting would link votes to voters")
            return f"{accepted} accepted, {len(stages) - accepted} rejected"

        self.add("mix cascade has an accepted stage", cascade)
        self.final = current

    def _verify_stage(self, k: int, stage: dict, parsed: dict) -> None:
        if self.public_key is None:
            raise _Missing("no valid public key")
        inputs = parsed.get("inputs") or self._ciphertexts(stage.get("inputs"), "inputs")
        outputs = self._ciphertexts(stage.get("outputs"), "outputs")
        if not isinstance(stage.get("mixer"), str):
            raise ValueError("stage mixer name must be a string")
        proof = shuffle.ShuffleProof.from_json(stage.get("proof"), validate=False)  # verify() validates them
        if self.on_arrival:
            parsed["outputs"] = outputs
            return ON_ARRIVAL
        shuffle.verify(self.public_key, inputs, outputs, proof, mix_context(self._election()["id"], k, stage["mixer"]), map_fn=self.map_fn)
        parsed["outputs"] = outputs
        return None

    def _verify_rejection(self, k: int, stage: dict, parsed: dict) -> str:
        if not isinstance(stage.get("reason"), str) or not stage["reason"]:
            raise ValueError("a rejected stage must record its reason")
        if self.on_arrival:
            return f"rejected ({stage['reason']}); {ON_ARRIVAL}"
        try:
            self._verify_stage(k, stage, parsed)
        except _Missing:
            raise
        except Exception as exc:
            return f"rejected ({stage['reason']}); re-verified: {_describe(exc)}"
        raise ValueError("stage was rejected but its proof verifies")

    # --- decryption and result ------------------------------------------------------------------------

    def check_decryption(self):
        decryption = self.doc.get("decryption")

        def listed():
            if not isinstance(decryption, dict):
                raise ValueError("decryption must be an object")
            listed = self._ciphertexts(decryption.get("ciphertexts"), "decryption ciphertexts")
            if self.final is None:
                raise _Missing("the mix cascade ended in an unusable list")
            if listed != self.final:
                raise ValueError("decrypted list is not the last accepted stage's outputs")

        self.add("decryption input is the final mix output", listed)
        partial_entries = decryption.get("partials") if isinstance(decryption, dict) else None
        if not isinstance(partial_entries, list):
            self.add("decryption shares", _fail(ValueError("partials must be a list")))
            return
        vks = None
        if self.dealings is not None:
            vks = {d.index: trustees.verification_key(self.dealings, d.index) for d in self.dealings}
        context = self.context if self.election is not None else b""
        valid: dict[int, tuple[bytes, ...]] = {}
        dupes = []
        for i, entry in enumerate(partial_entries):
            check, partial = _share_check(i, entry, vks, self.final, context, self.map_fn, self.on_arrival)
            self.checks.append(check)
            if partial is not None:
                if partial.trustee in valid:
                    dupes.append(partial.trustee)
                valid.setdefault(partial.trustee, partial.factors)

        def quorum():
            t = self._election()["threshold"]
            if dupes:
                raise ValueError(f"trustee(s) {sorted(set(dupes))} submitted more than one share")
            if len(valid) < t:
                raise ValueError(f"{len(valid)} valid decryption shares, {t} needed")
            return f"{len(valid)} valid shares, threshold {t}"

        if not self.add("decryption quorum", quorum):
            return

        def combination():
            t = self._election()["threshold"]
            chosen = dict(sorted(valid.items())[:t])
            if self._claimed_plaintexts_hold(chosen):
                self.plaintexts = list(self.doc["plaintexts"])
                return f"trustees {sorted(chosen)} combined"
            elements = trustees.combine_factors(self.final, chosen, self.map_fn)
            claimed = self.doc["plaintexts"]
            if not isinstance(claimed, list) or not all(c is None or _is_int(c) for c in claimed):
                raise ValueError("plaintexts must be a list of choice indices or nulls")
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

    def _claimed_plaintexts_hold(self, chosen: dict) -> bool:
        """The fast path of the combination check: True when the claimed plaintexts are well-formed and the
        chosen shares combine to them (the candidates' rows as one product of powers, the rows claimed
        invalid combined one by one). False sends the check down the exact path, which says what is wrong."""
        claimed, count = self.doc["plaintexts"], len(self._election()["candidates"])
        if not isinstance(claimed, list) or len(claimed) != len(self.final):
            return False
        if not all(c is None or (_is_int(c) and 0 <= c < count) for c in claimed):
            return False

        def rows(positions):
            return ([self.final[p] for p in positions],
                    {j: [factors[p] for p in positions] for j, factors in chosen.items()})

        invalid = [p for p, c in enumerate(claimed) if c is None]
        if invalid:
            elements = trustees.combine_factors(*rows(invalid), self.map_fn)
            if any(c is not None for c in tally.decode_choices(elements, count)):
                return False
        known = [p for p, c in enumerate(claimed) if c is not None]
        messages = [elgamal.encode_choice(i) for i in range(count)]
        return not known or trustees.combination_holds(*rows(known), [messages[claimed[p]] for p in known], self.map_fn)

    def check_tally(self):
        result = self.doc["result"]
        counts = result.get("counts") if isinstance(result, dict) else None
        if not isinstance(counts, list) or not all(_is_int(c) for c in counts):
            raise ValueError("result counts must be a list of integers")
        if not _is_int(result.get("invalid")):
            raise ValueError("result invalid must be an integer")
        if self.plaintexts is None:
            raise _Missing("no verified plaintexts to count")
        expected = tally.count_result(self.plaintexts, len(self._election()["candidates"]))
        if counts != expected["counts"]:
            raise ValueError(f"counts {counts} but the plaintexts give {expected['counts']}")
        if result["invalid"] != expected["invalid"]:
            raise ValueError(f"invalid {result['invalid']} but the plaintexts give {expected['invalid']}")
        return f"counts {counts}, invalid {expected['invalid']}"


def verify_record(doc, map_fn=map, proofs_checked_on_arrival: bool = False) -> list[Check]:
    """Every check of docs/verifier.md over `doc`, in order. Never raises for a malformed document.

    proofs_checked_on_arrival: only for the server that built `doc` from its own bulletin board, where every
    ballot, mix stage and decryption share was stored only after its proof was checked as it arrived (the
    pattern of belenios-tool's verify-ballot + verify --skip-ballot-check). The ballot, stage and share
    proofs are then not re-verified (their checks say so); everything else — keys, structure, chaining,
    duplicates, the combination of shares and the tally — is. A third party always verifies in full."""
    if not isinstance(doc, dict):
        return [Check("format", False, "record must be a JSON object")]
    try:
        return _Verifier(doc, map_fn, proofs_checked_on_arrival).run()
    except Exception as exc:  # a verifier bug must still come back as a failing check, not a traceback
        return [Check("verifier", False, f"internal error: {_describe(exc)}")]


def all_passed(checks: list[Check]) -> bool:
    return bool(checks) and all(c.ok for c in checks)

"""The homomorphic tally mode: ballots of one 0/1 ciphertext per candidate, summed, and only the sums decrypted.

A ballot (mixnet/tally.py's HomomorphicBallot) carries K ciphertexts of 0·G or 1·G, a disjunctive proof per
ciphertext that it encrypts 0 or 1, and a Chaum–Pedersen proof that the K sum to an encryption of 1·G. The
verified ballots are added per candidate; the trustees decrypt the K sums (the ordinary batched decryption of
a list of K ciphertexts) and each count·G is read from a table. docs/verifier.md §5 specifies the record.

This module holds what the server, the clients and the verifier share: the mode names, the strict JSON form
of a ballot, its checks (one by one, and a batch as one random linear combination), the sums and the record
builder of this mode.
"""

from __future__ import annotations

import secrets
from typing import Any, Callable, Sequence

from mixscope.mixnet import group, proofs, tally
from mixscope.mixnet.ballots import Ballot
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError
from mixscope.mixnet.record import RecordBuilder, ballot_entry
from mixscope.mixnet.tally import HomomorphicBallot

MIXNET, HOMOMORPHIC = "mixnet", "homomorphic"
TALLY_MODES = (MIXNET, HOMOMORPHIC)
BALLOT_FIELDS = ("ciphertexts", "bit_proofs", "sum_proof")
SIGNATURE = "signature"  # the voter's credential signature (mixnet/credentials.py), as on a mixnet ballot
RECORD_FIELDS = ("format", "version", "group", "election", "manifest", "seats", "nodes", "credentials", "trustees",
                 "public_key", "ballots", "sums", "decryption", "result")


def check_mode(value: object) -> str:
    """A tally mode from outside; ValueError names the choices."""
    if value not in TALLY_MODES:
        raise ValueError(f"tally must be one of {list(TALLY_MODES)}, not {str(value)[:40]!r}")
    return str(value)


def mode_fields(mode: str) -> dict[str, Any]:
    """What the election parameters and the manifest carry for `mode`: nothing for a mixnet election (record
    version 3 as before), {"tally": "homomorphic"} for this one."""
    return {} if mode == MIXNET else {"tally": mode}


def parse_ballot(value: object, candidates: int) -> HomomorphicBallot:
    """The ballot's JSON, validated (exactly its three fields, K canonical ciphertexts and K bit proofs); not
    its proofs. ProofError says what is malformed."""
    if not isinstance(value, dict):
        raise ProofError("ballot must be an object")
    missing = [k for k in BALLOT_FIELDS if k not in value]
    extra = sorted(str(k) for k in value if k not in BALLOT_FIELDS and k != SIGNATURE)
    if missing or extra:
        said = [f"lacks field(s) {', '.join(missing)}" if missing else None,
                f"unknown field(s) {', '.join(extra)}" if extra else None]
        raise ProofError("homomorphic ballot: " + "; ".join(filter(None, said)))
    if not isinstance(value["ciphertexts"], list) or len(value["ciphertexts"]) != candidates:
        raise ProofError(f"homomorphic ballot needs {candidates} ciphertexts, one per candidate")
    if not isinstance(value["bit_proofs"], list) or len(value["bit_proofs"]) != candidates:
        raise ProofError(f"homomorphic ballot needs {candidates} bit proofs, one per candidate")
    ballot = HomomorphicBallot.from_json(value)
    if any(len(p.challenges) != 2 for p in ballot.bit_proofs):
        raise ProofError("each bit proof has exactly two branches (0 and 1)")
    if any(ct.a == group.IDENTITY for ct in ballot.ciphertexts):  # randomness 0: the mark is in clear
        raise ProofError("ballot ciphertext has an identity component")
    return ballot


def cast(public_key: bytes, election_id: str, voter_id: str, candidates: int, choice: int) -> HomomorphicBallot:
    return tally.cast_homomorphic(public_key, election_id, voter_id, candidates, choice)


def cast_signed(mode: str, credential: Any, public_key: bytes, election_id: str, candidates: int,
                choice: int) -> Any:
    """The ballot an election of this tally mode takes for `choice`, keyed by the credential's public key and
    signed with it through mixnet/credentials.py (both kinds have to_json)."""
    from mixscope.mixnet import credentials

    if mode == HOMOMORPHIC:
        ballot = cast(public_key, election_id, credential.voter_id, candidates, choice)
        return credentials.sign(credential, election_id, ballot)
    return credentials.cast(credential, public_key, election_id, candidates, choice)


def cast_for(mode: str, public_key: bytes, election_id: str, voter_id: str, candidates: int,
             choice: int) -> Any:
    """The ballot an election of this tally mode takes for `choice` (both kinds have to_json)."""
    if mode == HOMOMORPHIC:
        return cast(public_key, election_id, voter_id, candidates, choice)
    from mixscope.mixnet import ballots

    return ballots.cast(public_key, election_id, voter_id, candidates, choice)


def cast_marks(public_key: bytes, election_id: str, voter_id: str, marks: Sequence[int]) -> HomomorphicBallot:
    """A ballot with arbitrary marks m_i (lab and tests: two ones, or a 2), each with an honest-looking bit
    proof for the branch min(m_i, 1) and a sum proof for Σ m_i = 1: the proofs that do not hold fail."""
    rs = [group.random_scalar() for _ in marks]
    cts, bits = [], []
    for i, (m, r) in enumerate(zip(marks, rs)):
        mark = group.base_mul(m) if m else group.IDENTITY
        ct = Ciphertext(group.base_mul(r), group.add(mark, group.mul(r, public_key)))
        cts.append(ct)
        bits.append(proofs.disjunctive_prove(public_key, ct.a, ct.b, r, tally.ZERO_ONE, min(m, 1),
                                             tally._context(election_id, voter_id, f"bit {i}")))
    sum_proof = proofs.chaum_pedersen_prove(sum(rs) % group.ORDER, group.GENERATOR, public_key,
                                            tally._context(election_id, voter_id, "sum"))
    return HomomorphicBallot(tuple(cts), tuple(bits), sum_proof)


def verify(public_key: bytes, election_id: str, voter_id: str, candidates: int, ballot: HomomorphicBallot) -> None:
    """ProofError with a reason unless every bit proof and the sum proof hold for this voter."""
    if any(ct.a == group.IDENTITY for ct in ballot.ciphertexts):
        raise ProofError("ballot ciphertext has an identity component")
    tally.verify_homomorphic(public_key, election_id, voter_id, candidates, ballot)


def ballots_hold(public_key: bytes, election_id: str, items: Sequence[tuple[str, HomomorphicBallot]]) -> bool:
    """True when every (voter, ballot)'s proofs hold, checked as one product of powers with fresh 128-bit
    weights per equation (a failing equation passes with probability at most 2^-128); the challenge sums are
    checked exactly. False: something fails; `verify` on each ballot says which and why."""
    order = group.ORDER
    g_coeff, y_coeff = 0, 0
    scalars: list[int] = []
    points: list[bytes] = []
    messages = tally.ZERO_ONE
    for voter_id, ballot in items:
        if any(ct.a == group.IDENTITY for ct in ballot.ciphertexts):
            return False
        raw = secrets.token_bytes(16 * (4 * len(ballot.ciphertexts) + 2))
        weights = iter(int.from_bytes(raw[k:k + 16], "little") for k in range(0, len(raw), 16))
        for i, (ct, proof) in enumerate(zip(ballot.ciphertexts, ballot.bit_proofs)):
            if len(proof.challenges) != 2:
                return False
            c = proofs._disjunctive_challenge(public_key, ct.a, ct.b, messages, proof.commitments,
                                              tally._context(election_id, voter_id, f"bit {i}"))
            if sum(proof.challenges) % order != c:
                return False
            for j, ((t_a, t_b), c_j, s_j) in enumerate(zip(proof.commitments, proof.challenges, proof.responses)):
                u, v = next(weights), next(weights)
                # u·(s·G − A − c·a) + v·(s·Y − B − c·b + c·M_j)
                g_coeff += u * s_j + (v * c_j if j == 1 else 0)
                y_coeff += v * s_j
                scalars += (-u % order, -u * c_j % order, -v % order, -v * c_j % order)
                points += (t_a, ct.a, t_b, ct.b)
        total = tally.add_ciphertexts(ballot.ciphertexts)
        shifted = group.sub(total.b, group.GENERATOR)
        sum_proof = ballot.sum_proof
        c = proofs._cp_challenge(
            group.GENERATOR,
            total.a,
            public_key,
            shifted,
            sum_proof.commitment1,
            sum_proof.commitment2,
            tally._context(election_id, voter_id, "sum"),
        )
        p, q = next(weights), next(weights)
        # p·(s·G − t1 − c·A) + q·(s·Y − t2 − c·(B − G))
        g_coeff += p * sum_proof.response + q * c
        y_coeff += q * sum_proof.response
        scalars += (-p % order, -q % order, -p * c % order, -q * c % order)
        points += (sum_proof.commitment1, sum_proof.commitment2, total.a, total.b)
    scalars += (g_coeff % order, y_coeff % order)
    points += (group.GENERATOR, public_key)
    try:
        return group.multi_mul(scalars, points) == group.IDENTITY
    except group.InvalidElement:
        return False


def sums(ballots: Sequence[HomomorphicBallot], candidates: int) -> list[Ciphertext]:
    """Per-candidate sums of the ballots' ciphertexts (the identity pair when there are none)."""
    return tally.accumulate(ballots, candidates)


def sums_of_json(ballot_jsons: Sequence[dict[str, Any]], candidates: int) -> list[list[str]]:
    """The sums as JSON, from stored (already validated) ballots' JSON."""
    a = [group.IDENTITY] * candidates
    b = [group.IDENTITY] * candidates
    for value in ballot_jsons:
        for i, (x, y) in enumerate(value["ciphertexts"]):
            a[i], b[i] = group.add(a[i], bytes.fromhex(x)), group.add(b[i], bytes.fromhex(y))
    return [[x.hex(), y.hex()] for x, y in zip(a, b)]


def counts_of(elements: Sequence[bytes], ballots: int) -> list[int]:
    """Decrypted sums (count·G) → counts, each at most the number of ballots; ValueError otherwise."""
    return tally.counts_from_elements(elements, ballots)


class CascadeSums(ValueError):
    """The list a trustee is asked to decrypt is not the sums of the cast ballots."""


def check_sums(cast_ballots: Any, ciphertexts: Any, candidates: int) -> int:
    """What a trustee checks before decrypting in this mode: the list is exactly the K per-candidate sums of
    the cast ballots it was shown (so it never decrypts a single ballot, or anything but the sums), and there
    are at least two ballots. Returns the number of ballots; CascadeSums says why not."""
    if not isinstance(cast_ballots, list) or len(cast_ballots) < 2:
        raise CascadeSums("fewer than two cast ballots: decrypting the sums would reveal a vote")
    try:
        expected = sums_of_json(cast_ballots, candidates)
    except (KeyError, TypeError, ValueError, group.InvalidElement) as exc:
        raise CascadeSums(f"a cast ballot is unreadable: {exc}") from None
    if ciphertexts != expected:
        raise CascadeSums("the list to decrypt is not the per-candidate sums of the cast ballots")
    return len(cast_ballots)


def _hold_job(job: tuple[Any, ...]) -> bool:
    public_key, election_id, candidates, entries = job
    try:
        items = [(e["credential"], parse_ballot({k: v for k, v in e.items() if k != "credential"}, candidates))
                 for e in entries]
    except (ProofError, KeyError, TypeError, AttributeError):
        return False
    return ballots_hold(public_key, election_id, items)


def check_decryption_request(election_id: str, evidence: Any, ciphertexts: Any, public_key: bytes,
                             signed_manifest: str, map_fn: Callable[..., Any] = map, check_proofs: bool = True) -> int:
    """What a trustee checks before decrypting in this mode (its counterpart of mixnet/cascade_check.py):
    `evidence` = {"manifest", "ballots": [{credential, ciphertexts, bit_proofs, sum_proof, signature}, ...]}
    (record entries); the manifest is
    the one it signed and says homomorphic; every ballot's proofs hold (check_proofs=False leaves them to the
    server's check on arrival); the list is exactly the ballots' per-candidate sums. Returns the number of
    ballots; CascadeSums says why not."""
    from mixscope.mixnet import submission
    from mixscope.mixnet.record import manifest_hash

    if not isinstance(evidence, dict) or set(evidence) != {"manifest", "ballots"}:
        raise CascadeSums("the request carries no homomorphic evidence {manifest, ballots}")
    manifest, entries = evidence["manifest"], evidence["ballots"]
    try:
        if manifest_hash(manifest) != signed_manifest:
            raise CascadeSums("the manifest is not the one this trustee signed")
    except submission.SubmissionError as exc:
        raise CascadeSums(f"the manifest cannot be hashed: {exc}") from None
    if manifest.get("tally") != HOMOMORPHIC:
        raise CascadeSums("the manifest this trustee signed is not a homomorphic election's")
    candidates = len(manifest["candidates"])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CascadeSums("the cast ballots must be a list of objects")
    if check_proofs:
        jobs = [(public_key, election_id, candidates, entries[lo:lo + 64]) for lo in range(0, len(entries), 64)]
        if not all(map_fn(_hold_job, jobs)):
            raise CascadeSums("a cast ballot's proofs do not hold")
    return check_sums(entries, ciphertexts, candidates)


class HomomorphicRecordBuilder(RecordBuilder):
    """The record of a homomorphic election (docs/verifier.md §5): ballots with K ciphertexts, the sums, the
    decryption of the sums, the counts. No mix, no plaintexts."""

    def __init__(self, election_id: str, question: str, candidates: Sequence[str], threshold: int,
                 trustees: int) -> None:
        super().__init__(election_id, question, candidates, threshold, trustees)
        self.election["tally"] = HOMOMORPHIC
        self._parsed: list[HomomorphicBallot] = []

    def add_ballot(self, voter_id: str, ballot: Ballot | HomomorphicBallot) -> None:
        """A stored ballot; `voter_id` is its public credential (hex), the ballot carries its signature."""
        self.ballots.append(ballot_entry(voter_id, ballot.to_json()))

    def add_ballot_json(self, voter_id: str, ballot_json: dict[str, Any]) -> None:
        self.ballots.append(ballot_entry(voter_id, ballot_json))

    def sums_json(self) -> list[list[str]]:
        return sums_of_json(self.ballots, len(self.election["candidates"]))

    def set_counts(self, counts: Sequence[int]) -> None:
        self.counts, self.invalid = list(counts), 0

    def to_json(self) -> dict[str, Any]:
        doc = super().to_json()
        summed = self.sums_json()
        doc["sums"] = summed
        doc["decryption"]["ciphertexts"] = summed
        return {k: doc[k] for k in RECORD_FIELDS}

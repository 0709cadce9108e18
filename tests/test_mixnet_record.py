"""The election record and its verifier, end to end over in-process elections: an honest record passes
every check; cheating mixers are rejected and the cascade recovers; every kind of tampering with the record
makes the right check fail with the right reason; malformed documents never raise."""

import copy
import json
import os
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixscope.mixnet import group, simulate
from mixscope.mixnet.verifier import Check, all_passed, verify_record

# Every test here runs under both backends of group.multi_mul (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

VOTES = [0, 2, 1, 2, 2]


@pytest.fixture(scope="module")
def honest():
    return simulate.run_election(VOTES, ["ann", "bob", "cy"], 2, 3, 2, election_id="rec-1")


@pytest.fixture(scope="module")
def with_cheater():
    return simulate.run_election(VOTES, 3, 2, 3, 3, cheat={1: "replace"}, election_id="rec-2")


def failures(doc) -> dict[str, str]:
    checks = verify_record(doc)
    assert checks and all(isinstance(c, Check) for c in checks)
    return {c.name: c.reason for c in checks if not c.ok}


def ballot_check(doc, i: int) -> str:
    """The name of ballot i's check: ballots are keyed by their public credential."""
    return f"ballot {i} proof (credential {doc['ballots'][i]['credential'][:16]})"


def tamper(doc, fn):
    doc = copy.deepcopy(doc)
    fn(doc)
    return failures(doc)


def test_honest_record_passes_every_check_and_survives_json(honest):
    checks = verify_record(json.loads(json.dumps(honest)))
    assert all_passed(checks), [c for c in checks if not c.ok]
    names = [c.name for c in checks]
    for expected in (
        "public key matches commitments",
        "credential list",
        "ballots from listed credentials",
        "no credential used twice",
        "mix stage 1 proof",
        "decryption quorum",
        "combination of shares gives the plaintexts",
        "tally matches decrypted plaintexts",
    ):
        assert expected in names
    assert sum(n.startswith("ballot ") for n in names) == len(VOTES)
    assert honest["version"] == 3
    assert honest["result"] == {"counts": [1, 1, 3], "invalid": 0}
    assert sorted(honest["plaintexts"]) == sorted(VOTES)
    assert set(honest["ballots"][0]) == {"credential", "ciphertext", "randomness_proof", "signature"}
    assert sorted(b["credential"] for b in honest["ballots"]) == honest["credentials"]


def test_verifier_runs_over_a_process_pool(honest):
    with ProcessPoolExecutor(2) as pool:
        assert verify_record(honest, map_fn=pool.map) == verify_record(honest)


@pytest.mark.parametrize("mode", simulate.CHEATS)
def test_cheating_mixer_is_rejected_and_the_cascade_continues(mode):
    doc = simulate.run_election(VOTES, 3, 2, 3, 2, cheat={0: mode}, election_id=f"cheat-{mode}")
    assert [s["status"] for s in doc["mix"]] == ["rejected", "accepted"]
    assert doc["mix"][0]["reason"]
    assert doc["mix"][1]["inputs"] == doc["mix"][0]["inputs"]  # continues from the cast ballots
    assert doc["result"]["counts"] == [1, 1, 3]
    checks = {c.name: c for c in verify_record(doc)}
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert "re-verified" in checks["mix stage 0 rejection justified"].reason


def test_only_cheaters_means_no_accepted_stage():
    with pytest.raises(ValueError):
        simulate.run_election(VOTES, 3, 2, 3, 1, cheat={0: "fly"})
    doc = simulate.run_election(VOTES, 3, 1, 1, 1, cheat={0: "drop"}, election_id="all-bad")
    fails = failures(doc)
    assert "no accepted mix stage" in fails["mix cascade has an accepted stage"]
    # ...and the decrypted list is then the cast ballots themselves: the linkability check says so too
    assert set(fails) == {
        "mix cascade has an accepted stage",
        "decrypted list shares no ciphertext with the cast ballots",
    }


# --- tampering --------------------------------------------------------------------------------------------


def test_every_ballot_proof_field_altered_fails_that_ballot(honest):
    entry = honest["ballots"][0]
    proof_leaves = [("randomness_proof", "commitment"), ("randomness_proof", "response")]
    for path in proof_leaves:
        def alter(doc, path=path):
            target = doc["ballots"][0]
            for step in path[:-1]:
                target = target[step]
            old = target[path[-1]]
            scalar = path[-1] == "response"
            target[path[-1]] = (
                group.scalar_hex(group.decode_scalar(old) + 1)
                if scalar
                else group.add(group.decode(old), group.GENERATOR).hex()
            )

        assert set(tamper(honest, alter)) == {ballot_check(honest, 0)}, path
    assert entry == honest["ballots"][0]  # the fixture itself is untouched


def test_ballot_copied_to_another_voter_is_rejected(honest):
    def copy_ballot(doc):
        doc["ballots"][1] = {**doc["ballots"][0], "credential": doc["ballots"][1]["credential"]}
    fails = tamper(honest, copy_ballot)
    assert "credential signature" in fails[ballot_check(honest, 1)]


def test_duplicate_voter_is_reported(honest):
    first = honest["ballots"][0]["credential"]
    fails = tamper(honest, lambda d: d["ballots"][1].__setitem__("credential", first))
    assert first in fails["no credential used twice"]


# --- credentials: who may vote is public, and every ballot must come from one of them, once ----------------


def test_a_ballot_without_a_signature_fails_with_a_reason(honest):
    fails = tamper(honest, lambda d: d["ballots"][2].pop("signature"))
    assert set(fails) == {ballot_check(honest, 2)}
    assert "no credential signature" in fails[ballot_check(honest, 2)]


def test_a_ballot_signed_by_another_voter_fails(honest):
    """Ballot 1 keeps its credential but carries ballot 0's signature (another voter's key signed it)."""
    fails = tamper(honest, lambda d: d["ballots"][1].__setitem__("signature", d["ballots"][0]["signature"]))
    assert set(fails) == {ballot_check(honest, 1)}
    assert "credential signature: the signature does not verify" in fails[ballot_check(honest, 1)]


def test_a_stuffed_ballot_from_an_unlisted_credential_fails(honest):
    """A server that makes its own credential and casts a perfectly signed ballot with it is caught."""
    from mixscope.mixnet import credentials

    def stuff(doc):
        intruder = credentials.generate(1)[0]
        ballot = credentials.cast(intruder, group.decode(doc["public_key"]), doc["election"]["id"], 3, 0)
        doc["ballots"].append({"credential": intruder.voter_id, **ballot.to_json()})
    fails = tamper(honest, stuff)
    assert "not in the list" in fails["ballots from listed credentials"]
    assert not any(name.startswith("ballot ") for name in fails)  # its signature and proof are fine


def test_a_malformed_credential_list_fails(honest):
    fails = tamper(honest, lambda d: d["credentials"].append("zz" * 32))
    assert "64 hex characters" in fails["credential list"]
    assert "unusable" in fails["ballots from listed credentials"]
    fails = tamper(honest, lambda d: d["credentials"].append(d["credentials"][0]))
    assert "twice" in fails["credential list"]
    fails = tamper(honest, lambda d: d["credentials"].reverse())
    assert "ascending" in fails["credential list"]


def test_substituted_public_key_is_caught(honest):
    fails = tamper(honest, lambda d: d.__setitem__("public_key", group.base_mul(12345).hex()))
    assert "not the sum" in fails["public key matches commitments"]
    assert all(ballot_check(honest, i) in fails for i in range(len(VOTES)))


def test_altered_trustee_commitment_is_caught(honest):
    fails = tamper(honest, lambda d: d["trustees"][1]["commitments"].__setitem__(1, group.base_mul(7).hex()))
    # C_21 is not covered by the key proof, but the trustee's signed dealing covers every commitment.
    assert "signature does not verify" in fails["trustee 2 commitments and key proof"]
    assert "only 2 of 3" in fails["trustee set complete"]
    fails = tamper(honest, lambda d: d["trustees"][1]["commitments"].__setitem__(0, group.base_mul(7).hex()))
    assert "key proof" in fails["trustee 2 commitments and key proof"]
    assert "only 2 of 3" in fails["trustee set complete"]


OUTPUT_TAMPERS = {
    "swapped": lambda outs: outs.insert(0, outs.pop(1)),
    "replaced": lambda outs: outs.__setitem__(0, [group.base_mul(5).hex(), group.base_mul(6).hex()]),
    "dropped": lambda outs: outs.pop(),
    "duplicated": lambda outs: outs.__setitem__(1, list(outs[0])),
}


@pytest.mark.parametrize("how", OUTPUT_TAMPERS)
def test_stage_outputs_tampered_in_the_record_fail_the_stage_proof(honest, how):
    fails = tamper(honest, lambda d: OUTPUT_TAMPERS[how](d["mix"][0]["response"]["outputs"]))
    assert fails["mix stage 0 proof"]
    assert "previous" in fails["mix stage 1 chaining"] or "unusable" in fails["mix stage 1 chaining"]


def test_stage_inputs_not_chained_are_caught(honest):
    fails = tamper(honest, lambda d: d["mix"][1].__setitem__("inputs", d["mix"][0]["inputs"]))
    assert "previous accepted" in fails["mix stage 1 chaining"]
    assert "mix stage 1 proof" in fails  # proof was for the real inputs


def test_every_shuffle_proof_leaf_altered_fails_the_stage(honest):
    proof = honest["mix"][0]["response"]["proof"]
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])
        elif isinstance(node, str):
            paths.append(path)

    walk(proof, [])
    assert len(paths) >= 4 * len(VOTES)
    for path in paths:
        def alter(doc, path=path):
            target = doc["mix"][0]["response"]["proof"]
            for step in path[:-1]:
                target = target[step]
            old = target[path[-1]]
            target[path[-1]] = ("1" if old[0] != "1" else "2") + old[1:]
        assert "mix stage 0 proof" in tamper(honest, alter), path


def test_rejection_status_must_match_the_proof(honest, with_cheater):
    fails = tamper(honest, lambda d: d["mix"][0].update(status="rejected", reason="I did not like it",
                                                               **{"class": "proof_fails"}))
    assert "proof verifies" in fails["mix stage 0 rejection justified"]
    fails = tamper(with_cheater, lambda d: d["mix"][1].update(status="accepted"))
    assert "mix stage 1 proof" in fails
    fails = tamper(with_cheater, lambda d: d["mix"][1].pop("reason"))
    assert "reason" in fails["mix stage 1 rejection justified"]


def test_forged_decryption_share_and_missing_quorum(honest):
    def forge(doc):
        factors = doc["decryption"]["partials"][0]["partials"]
        factors[2] = group.add(group.decode(factors[2]), group.GENERATOR).hex()
    fails = tamper(honest, forge)
    assert set(fails) == {"decryption share 0 proof (trustee 1)"}  # trustees 2 and 3 still make the quorum
    assert "factors do not match its verification key" in fails["decryption share 0 proof (trustee 1)"]
    fails = tamper(honest, lambda d: d["decryption"]["partials"].__delitem__(slice(1, None)))
    assert "1 valid decryption shares, 2 needed" in fails["decryption quorum"]
    fails = tamper(honest, lambda d: d["decryption"]["partials"].__setitem__(1, d["decryption"]["partials"][0]))
    assert "more than one share" in fails["decryption quorum"]
    fails = tamper(honest, lambda d: d["decryption"]["partials"][2].__setitem__("index", 9))
    assert "not one of the election's trustees" in fails["decryption share 2 proof (trustee 9)"]


def test_every_decryption_proof_field_altered_fails_that_share(honest):
    for field in ("commitment1", "commitment2", "response"):
        def alter(doc, field=field):
            proof = doc["decryption"]["partials"][1]["proof"]
            old = proof[field]
            proof[field] = (group.scalar_hex(group.decode_scalar(old) + 1) if field == "response"
                            else group.add(group.decode(old), group.GENERATOR).hex())
        assert set(tamper(honest, alter)) == {"decryption share 1 proof (trustee 2)"}, field


def test_altered_plaintexts_or_counts_are_caught(honest):
    def flip(doc):
        doc["plaintexts"][0] = (doc["plaintexts"][0] + 1) % 3
    fails = tamper(honest, flip)
    assert "plaintext 0 is" in fails["combination of shares gives the plaintexts"]
    fails = tamper(honest, lambda d: d["result"].__setitem__("counts", [2, 0, 3]))
    assert "plaintexts give [1, 1, 3]" in fails["tally matches decrypted plaintexts"]
    fails = tamper(honest, lambda d: d["plaintexts"].__setitem__(0, None))  # a valid vote claimed invalid
    assert "is invalid (null), the shares decrypt to" in fails["combination of shares gives the plaintexts"]
    fails = tamper(honest, lambda d: d["decryption"].__setitem__("ciphertexts", d["mix"][0]["response"]["outputs"]))
    assert "last accepted" in fails["decryption input is the final mix output"]


# --- invalid votes: ballots of no candidate ---------------------------------------------------------------

INVALID_VOTES = [0, None, 2, 2]


@pytest.fixture(scope="module")
def with_invalid():
    return simulate.run_election(INVALID_VOTES, ["ann", "bob", "cy"], 2, 3, 2, election_id="rec-invalid")


def _invalid_position(doc) -> int:
    return doc["plaintexts"].index(None)


def test_a_ballot_of_no_candidate_is_counted_invalid_and_the_record_verifies(with_invalid):
    checks = verify_record(json.loads(json.dumps(with_invalid)))
    assert all_passed(checks), [c for c in checks if not c.ok]
    assert with_invalid["result"] == {"counts": [1, 0, 2], "invalid": 1}
    assert with_invalid["plaintexts"].count(None) == 1
    assert sorted(p for p in with_invalid["plaintexts"] if p is not None) == [0, 2, 2]
    tally_check = next(c for c in checks if c.name == "tally matches decrypted plaintexts")
    assert "invalid 1" in tally_check.reason


@pytest.mark.parametrize("claimed", [0, 1, 2, 3])
def test_a_record_claiming_a_candidate_for_an_invalid_output_fails(with_invalid, claimed):
    position = _invalid_position(with_invalid)
    fails = tamper(with_invalid, lambda d: d["plaintexts"].__setitem__(position, claimed))
    reason = fails["combination of shares gives the plaintexts"]
    assert f"plaintext {position} is {claimed}, the shares decrypt to invalid (null)" in reason


@pytest.mark.parametrize("mutate, reason", [
    (lambda r: r.__setitem__("invalid", 0), "invalid 0 but the plaintexts give 1"),
    (lambda r: r.__setitem__("invalid", 2), "invalid 2 but the plaintexts give 1"),
    (lambda r: r.__setitem__("invalid", True), "must be an integer"),
    (lambda r: r.__setitem__("invalid", "1"), "must be an integer"),
    (lambda r: r.pop("invalid"), "missing field(s) invalid"),
])
def test_a_record_with_a_wrong_invalid_count_fails_the_tally(with_invalid, mutate, reason):
    fails = tamper(with_invalid, lambda d: mutate(d["result"]))
    assert set(fails) == {"tally matches decrypted plaintexts"}
    assert reason in fails["tally matches decrypted plaintexts"]


def test_a_version_1_ballot_with_a_choice_proof_is_refused(honest):
    fails = tamper(honest, lambda d: d["ballots"][0].__setitem__("choice_proof", {}))
    assert "unknown field(s) choice_proof" in fails[ballot_check(honest, 0)]


# --- malformed documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate, check, reason",
    [
        (lambda d: d.pop("public_key"), "public key matches commitments", "missing field 'public_key'"),
        (lambda d: d.__setitem__("public_key", "zz" * 32), "public key matches commitments", "not hex"),
        (lambda d: d.__setitem__("public_key", "ff" * 32), "public key matches commitments", "canonical"),
        (lambda d: d.__setitem__("version", 99), "format", "not supported"),
        (lambda d: d.__setitem__("version", 1), "format", "only 3"),
        (lambda d: d["group"].__setitem__("name", "P-256"), "group", "ristretto255"),
        (lambda d: d["election"].__setitem__("threshold", "2"), "election parameters", "threshold"),
        (lambda d: d.__setitem__("ballots", {}), "ballots", "must be a list"),
        (lambda d: d["ballots"][0].__setitem__("ciphertext", ["00", "00"]), "ballot 0 proof (credential", "32 bytes"),
        (lambda d: d["mix"].__setitem__(0, "stage"), "mix stage 0 chaining", "object"),
        (lambda d: d["mix"][0].__setitem__("status", "maybe"), "mix stage 0 status", "neither"),
        (lambda d: d["mix"][0]["response"].__setitem__("proof", None), "mix stage 0 proof", "canonical"),
        (lambda d: d.pop("decryption"), "decryption input is the final mix output", "object"),
        (lambda d: d.__setitem__("plaintexts", None), "combination of shares gives the plaintexts", "list"),
        (lambda d: d.pop("result"), "tally matches decrypted plaintexts", "result must be an object"),
        (lambda d: d.__setitem__("trustees", []), "trustee set complete", "0 dealings for 3"),
    ],
)
def test_malformed_record_fails_the_right_check_with_a_clear_reason(honest, mutate, check, reason):
    fails = tamper(honest, mutate)
    check = next((name for name in fails if name.startswith(check)), check)  # ballot names end in a credential
    assert check in fails, fails
    assert reason in fails[check]


@pytest.mark.parametrize("doc", [None, [], "record", 7, {}, {"format": "mixscope-election-record", "version": 1}])
def test_nonsense_documents_give_failing_checks(doc):
    checks = verify_record(doc)
    assert checks and not all_passed(checks)


@settings(
    max_examples=int(os.environ.get("MIXSCOPE_FUZZ_EXAMPLES", 40)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_mutation_makes_verify_record_raise(honest, data):
    """Replace one random node anywhere in the record with junk: the verifier reports, never raises."""
    doc = copy.deepcopy(honest)
    node, path = doc, []
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
        path.append(key)
        node = node[key]
    junk = data.draw(
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=2),
            st.just("00" * 32),
            st.just("ff" * 32),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        )
    )
    if path:
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = junk
        changed = junk != node
    else:
        doc, changed = junk, True
    checks = verify_record(doc)
    assert checks and all(isinstance(c, Check) and isinstance(c.reason, str) for c in checks)
    assert not any("internal error" in c.reason for c in checks), checks
    # Labels no proof covers (see docs/verifier.md): the question text and candidate names, when still strings.
    label = path[:2] == ["election", "question"] or path[:2] == ["election", "candidates"] and len(path) == 3
    label = label or path[:1] == ["nodes"] and path[2:] == ["name"]  # node names are labels; keys are signed
    if changed and not (label and isinstance(junk, str)):
        assert not all_passed(checks), path


@settings(max_examples=6, deadline=None)
@given(
    votes=st.lists(st.integers(min_value=0, max_value=3), min_size=2, max_size=6),
    n=st.integers(min_value=1, max_value=3),
    data=st.data(),
)
def test_any_election_verifies_and_counts_right(votes, n, data):
    t = data.draw(st.integers(min_value=1, max_value=n))
    decrypting = data.draw(st.lists(st.integers(min_value=1, max_value=n), min_size=t, max_size=n, unique=True))
    doc = simulate.run_election(votes, 4, t, n, 2, decrypting=decrypting)
    assert all_passed(verify_record(doc))
    assert doc["result"] == {"counts": [votes.count(i) for i in range(4)], "invalid": 0}
    assert sorted(p["index"] for p in doc["decryption"]["partials"]) == sorted(decrypting)


def test_fewer_than_t_trustees_cannot_finish_the_election():
    from mixscope.mixnet.trustees import NotEnoughShares

    with pytest.raises(NotEnoughShares, match="1 trustees decrypted, 2 needed"):
        simulate.run_election(VOTES, 3, 2, 3, 1, decrypting=[3])


def test_rejected_stage_evidence_replaced_by_garbage_fails(with_cheater):
    """Version 3: a rejected stage's evidence is the mixer's signed response, so garbage put in its place (by a
    publisher excluding an honest mixer, say) no longer passes as 'justified'."""
    def garbage(doc):
        doc["mix"][1]["response"]["outputs"] = ["not", "a", "ciphertext"]
        doc["mix"][1]["response"]["proof"] = "nonsense"
    assert "signature does not verify" in tamper(with_cheater, garbage)["mix stage 1 rejection justified"]


@pytest.mark.parametrize("field", ["commitments", "chain", "t_hat", "t1", "t3", "t4b"])
def test_non_canonical_shuffle_proof_element_fails_the_stage(honest, field):
    """The record verifier leaves element validation to the proof check's libsodium calls: still caught."""
    def spoil(doc):
        proof = doc["mix"][0]["response"]["proof"]
        if isinstance(proof[field], list):
            proof[field][1] = "ff" * 32
        else:
            proof[field] = "ff" * 32
    assert "mix stage 0 proof" in tamper(honest, spoil)


def test_proofs_checked_on_arrival_are_not_reverified_but_everything_else_is(honest, with_cheater):
    """The publishing server's mode (mixnet.verifier.verify_record): it skips only the ballot, stage and share
    proofs it checked as they arrived, says so in those checks, and still catches any other inconsistency."""
    for doc in (honest, with_cheater):
        checks = verify_record(doc, proofs_checked_on_arrival=True)
        assert all_passed(checks), [c for c in checks if not c.ok]
        skipped = [c for c in checks if "checked on arrival" in c.reason]
        assert {c.name for c in skipped} >= {
            "ballot proofs",
            "mix stage 0 proof",
            "decryption share 0 proof (trustee 1)",
        }
        assert not any(c.name.startswith("ballot 0 proof") for c in checks)
    rejected = next(
        c
        for c in verify_record(with_cheater, proofs_checked_on_arrival=True)
        if c.name == "mix stage 1 rejection justified"
    )
    assert rejected.ok and "checked on arrival" in rejected.reason

    def on_arrival_failures(fn):
        doc = copy.deepcopy(honest)
        fn(doc)
        return {c.name for c in verify_record(doc, proofs_checked_on_arrival=True) if not c.ok}

    assert "combination of shares gives the plaintexts" in on_arrival_failures(
        lambda d: d["plaintexts"].__setitem__(0, (d["plaintexts"][0] + 1) % 3))
    assert "tally matches decrypted plaintexts" in on_arrival_failures(
        lambda d: d["result"].__setitem__("counts", [2, 0, 3])
    )
    assert "mix stage 1 chaining" in on_arrival_failures(
        lambda d: d["mix"][1].__setitem__("inputs", d["mix"][0]["inputs"])
    )
    assert "no credential used twice" in on_arrival_failures(
        lambda d: d["ballots"][1].__setitem__("credential", d["ballots"][0]["credential"]))
    assert "public key matches commitments" in on_arrival_failures(
        lambda d: d.__setitem__("public_key", group.base_mul(7).hex()))
    # A factor swapped between positions: no proof re-check here, but the combination no longer decodes right.
    def swap_factors(d):
        f = d["decryption"]["partials"][0]["partials"]
        f[0], f[1] = f[1], f[0]
    assert on_arrival_failures(swap_factors)


@pytest.mark.parametrize("relabel", [
    lambda e: e["candidates"].reverse(),                     # the same names, another order: votes move
    lambda e: e["candidates"].__setitem__(0, "mallory"),
    lambda e: e.__setitem__("question", "Which one, really?"),
])
def test_a_relabelled_record_fails_every_trustee_key_proof(honest, relabel):
    """The trustees' key proofs cover the question and the candidate names (docs/verifier.md §1.2)."""
    fails = tamper(honest, lambda d: relabel(d["election"]))
    assert {f"trustee {i} commitments and key proof" for i in (1, 2, 3)} <= set(fails)

"""The homomorphic mode's record (docs/verifier.md §5): a valid one passes every check, and each tampering is
caught by the check that reads it, with its reason."""

import copy

import pytest

from mixscope.mixnet import credentials, group, homomorphic, verifier
from mixscope.mixnet.homomorphic_simulate import run_election

NAMES = ["ann", "bob", "cy"]


@pytest.fixture(scope="module")
def record():
    return run_election([0, 1, 1, 2, 0, 1], NAMES, 2, 3, election_id="homo-test")


def failing(doc):
    return {c.name: c.reason for c in verifier.verify_record(doc) if not c.ok}


def ballot_failure(doc, position: int) -> str:
    """The reason ballot `position`'s check fails (its name carries the credential)."""
    [reason] = [r for name, r in failing(doc).items() if name.startswith(f"ballot {position} proofs")]
    return reason


def replace_ballot(doc, position: int, marks, alter=lambda ballot: ballot) -> None:
    """Ballot `position` replaced by one with these marks, cast and signed by a fresh listed credential; the
    sums follow (the trustees' shares then no longer match them: only the ballot's reason is asserted)."""
    fresh = credentials.generate(1)[0]
    public_key = group.decode(doc["public_key"])
    ballot = credentials.sign(fresh, doc["election"]["id"], alter(
        homomorphic.cast_marks(public_key, doc["election"]["id"], fresh.voter_id, marks)))
    old = doc["ballots"][position]["credential"]
    doc["ballots"][position] = {"credential": fresh.voter_id, **ballot.to_json()}
    doc["credentials"] = sorted([c for c in doc["credentials"] if c != old] + [fresh.voter_id])
    doc["sums"] = doc["decryption"]["ciphertexts"] = homomorphic.sums_of_json(doc["ballots"], 3)


def test_valid_record_passes_every_check(record):
    checks = verifier.verify_record(record)
    assert verifier.all_passed(checks), [c for c in checks if not c.ok]
    names = [c.name for c in checks]
    assert "homomorphic sums" in names and "combination of shares gives the counts" in names
    assert not any(n.startswith("mix") for n in names)
    assert record["result"] == {"counts": [2, 3, 1], "invalid": 0}
    assert record["election"]["tally"] == record["manifest"]["tally"] == "homomorphic"


def test_on_arrival_skips_only_the_ballot_proofs(record):
    checks = verifier.verify_record(record, proofs_checked_on_arrival=True)
    assert verifier.all_passed(checks)
    assert "ballot proofs" in [c.name for c in checks]


def test_changed_bit_proof_fails_that_ballot(record):
    doc = copy.deepcopy(record)
    proof = doc["ballots"][2]["bit_proofs"][1]
    proof["responses"][0], proof["responses"][1] = proof["responses"][1], proof["responses"][0]
    bad = failing(doc)
    assert len(bad) == 1 and "credential signature" in ballot_failure(doc, 2)  # the signature covers the proofs
    # The voter's own client sending that proof (signed after the change) fails the bit proof itself.
    doc = copy.deepcopy(record)
    replace_ballot(doc, 2, [0, 1, 0], lambda ballot: ballot._replace(bit_proofs=(
        ballot.bit_proofs[0], ballot.bit_proofs[1]._replace(responses=ballot.bit_proofs[1].responses[::-1]),
        ballot.bit_proofs[2])))
    assert "candidate 1 is not 0 or 1" in ballot_failure(doc, 2)


def test_ballot_with_two_ones_fails_its_sum_proof(record):
    doc = copy.deepcopy(record)
    replace_ballot(doc, 0, [1, 1, 0])
    assert "marks do not sum to one" in ballot_failure(doc, 0)


def test_a_mark_of_two_fails_its_bit_proof(record):
    doc = copy.deepcopy(record)
    replace_ballot(doc, 0, [2, -1 % group.ORDER, 0])
    assert "is not 0 or 1" in ballot_failure(doc, 0)


def test_wrong_sum_fails_the_sums_check(record):
    doc = copy.deepcopy(record)
    doc["sums"][1], doc["sums"][2] = doc["sums"][2], doc["sums"][1]
    bad = failing(doc)
    assert "sum 1 ('bob') is not the sum" in bad["homomorphic sums"]
    assert "unusable" in bad["decryption input is the sums"]


def test_wrong_count_fails_the_tally(record):
    doc = copy.deepcopy(record)
    doc["result"]["counts"] = [3, 2, 1]
    bad = failing(doc)
    assert list(bad) == ["tally matches decrypted sums"]
    assert "sums decrypt to [2, 3, 1]" in bad["tally matches decrypted sums"]


def test_counts_must_add_up_and_nothing_is_invalid(record):
    doc = copy.deepcopy(record)
    doc["result"]["invalid"] = 1
    assert "invalid must be 0" in failing(doc)["tally matches decrypted sums"]


def test_a_manifest_with_mixers_or_another_mode_fails(record):
    doc = copy.deepcopy(record)
    doc["manifest"]["mixers"] = 1
    assert "lists no mixers" in failing(doc)["manifest"]
    doc = copy.deepcopy(record)
    del doc["manifest"]["tally"]
    assert "missing field(s) tally" in failing(doc)["manifest"]


def test_a_changed_ciphertext_breaks_its_signature_and_a_stray_credential_is_caught(record):
    doc = copy.deepcopy(record)
    doc["ballots"][1]["sum_proof"], doc["ballots"][2]["sum_proof"] = doc["ballots"][2]["sum_proof"], \
        doc["ballots"][1]["sum_proof"]
    assert "credential signature" in ballot_failure(doc, 1)
    doc = copy.deepcopy(record)
    replace_ballot(doc, 3, [0, 1, 0])
    doc["credentials"] = sorted(c for c in doc["credentials"] if c != doc["ballots"][3]["credential"])
    assert "1 ballot(s) from a credential not in the list: 3" in failing(doc)["ballots from listed credentials"]


def test_a_mixnet_record_may_not_carry_a_tally_field():
    from mixscope.mixnet.simulate import run_election as run_mixnet
    doc = run_mixnet([0, 1], NAMES, 1, 1, 1)
    assert verifier.all_passed(verifier.verify_record(doc))
    doc["election"]["tally"] = "mixnet"
    assert "unexpected field(s) tally" in failing(doc)["election parameters"]


def test_batch_check_agrees_with_one_by_one(record):
    public_key = group.decode(record["public_key"])
    eid = record["election"]["id"]
    items = [(e["credential"], homomorphic.parse_ballot({k: v for k, v in e.items() if k != "credential"}, 3))
             for e in record["ballots"]]
    assert homomorphic.ballots_hold(public_key, eid, items)
    assert not homomorphic.ballots_hold(public_key, eid, [(items[1][0], items[0][1]), *items[1:]])
    two = homomorphic.cast_marks(public_key, eid, "voter-x", [1, 1, 0])
    assert not homomorphic.ballots_hold(public_key, eid, [*items, ("voter-x", two)])


def test_parse_refuses_malformed_ballots():
    public_key = group.base_mul(group.random_scalar())
    good = homomorphic.cast(public_key, "e", "v", 3, 1).to_json()
    with pytest.raises(Exception, match="unknown field"):
        homomorphic.parse_ballot({**good, "extra": 1}, 3)
    with pytest.raises(Exception, match="needs 2 ciphertexts"):
        homomorphic.parse_ballot(good, 2)


def test_trustee_sum_check():
    public_key = group.base_mul(group.random_scalar())
    cast = [homomorphic.cast(public_key, "e", f"v{i}", 2, i % 2).to_json() for i in range(3)]
    sums = homomorphic.sums_of_json(cast, 2)
    assert homomorphic.check_sums(cast, sums, 2) == 3
    with pytest.raises(homomorphic.CascadeSums, match="not the per-candidate sums"):
        homomorphic.check_sums(cast, [cast[0]["ciphertexts"][0], sums[1]], 2)
    with pytest.raises(homomorphic.CascadeSums, match="fewer than two"):
        homomorphic.check_sums(cast[:1], homomorphic.sums_of_json(cast[:1], 2), 2)


def test_trustee_checks_the_signed_manifest_the_ballots_and_the_sums(record):
    from mixscope.mixnet.record import manifest_hash

    manifest = record["manifest"]
    signed = manifest_hash(manifest)
    public_key = group.decode(record["public_key"])
    eid = record["election"]["id"]
    cast = [dict(b) for b in record["ballots"]]
    sums = record["sums"]
    evidence = {"manifest": manifest, "ballots": cast}
    assert homomorphic.check_decryption_request(eid, evidence, sums, public_key, signed) == 6
    with pytest.raises(homomorphic.CascadeSums, match="not the one this trustee signed"):
        homomorphic.check_decryption_request(eid, {**evidence, "manifest": {**manifest, "mixers": 1}}, sums,
                                             public_key, signed)
    mixnet_manifest = {k: v for k, v in manifest.items() if k != "tally"}
    with pytest.raises(homomorphic.CascadeSums, match="not a homomorphic election"):
        homomorphic.check_decryption_request(eid, {**evidence, "manifest": mixnet_manifest}, sums, public_key,
                                             manifest_hash(mixnet_manifest))
    forged = [dict(b) for b in cast]
    forged[0]["credential"] = forged[1]["credential"]  # the proofs are bound to the credential
    with pytest.raises(homomorphic.CascadeSums, match="proofs do not hold"):
        homomorphic.check_decryption_request(eid, {**evidence, "ballots": forged}, sums, public_key, signed)
    with pytest.raises(homomorphic.CascadeSums, match="not the per-candidate sums"):
        homomorphic.check_decryption_request(eid, evidence, [cast[0]["ciphertexts"][0], *sums[1:]], public_key, signed)

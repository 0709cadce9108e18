"""Record version 3 against a publisher that tampers: signed submissions, rejection classes, the manifest and
the one byte form (docs/verifier.md §2, §4, §6). Each tamper is refused by the verifier with a reason."""

from __future__ import annotations

import copy

import pytest

from mixscope.mixnet import ballots, credentials, group, simulate, submission
from mixscope.mixnet.verifier import all_passed, verify_record

VOTES = [0, 1, 2, 2, 2]


@pytest.fixture(scope="module")
def cheated():
    """Stage 0 proof_fails (swap), stage 1 accepted, stage 2 not_rerandomised, stage 3 accepted."""
    return simulate.run_election(VOTES, ["ann", "bob", "cy"], 2, 3, 4, cheat={0: "swap", 2: "identity"},
                                 election_id="tamper")


def failures(doc) -> dict[str, str]:
    return {c.name: c.reason for c in verify_record(doc) if not c.ok}


def tamper(doc, fn) -> dict[str, str]:
    doc = copy.deepcopy(doc)
    fn(doc)
    fails = failures(doc)
    assert fails, "a tampered record must not verify"
    assert all(reason for reason in fails.values())
    return fails


def test_the_untouched_record_verifies_and_reports_every_listed_mixer(cheated):
    checks = {c.name: c for c in verify_record(cheated)}
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    fates = checks["listed mixers accepted, rejected or silent"].reason
    assert "mixer-1: rejected (proof_fails, signed evidence) at stage 0" in fates
    assert "mixer-2: accepted at stage 1" in fates and "mixer-3: rejected (not_rerandomised" in fates
    assert [s.get("class") for s in cheated["mix"]] == ["proof_fails", None, "not_rerandomised", None]


@pytest.mark.parametrize("how", ["swapped", "replaced", "garbage"])
def test_rejected_stage_evidence_swapped_replaced_or_garbage_fails(cheated, how):
    def alter(doc):
        stages = doc["mix"]
        if how == "swapped":  # the two rejected stages' evidence exchanged
            stages[0]["response"], stages[2]["response"] = stages[2]["response"], stages[0]["response"]
        elif how == "replaced":  # evidence the publisher made up, re-signed with its own key
            forged = {k: v for k, v in stages[0]["response"].items() if k != "signed"}
            stages[0]["response"] = submission.sign(forged, b"\x07" * 32, 1)
        else:
            stages[0]["response"]["proof"]["s1"] = "00" * 32
    fails = tamper(cheated, alter)
    assert "mix stage 0 rejection justified" in fails


def test_an_honest_stage_recorded_as_rejected_fails(cheated):
    fails = tamper(cheated, lambda d: d["mix"][1].update({"status": "rejected", "class": "proof_fails",
                                                           "reason": "said so"}))
    assert "proof verifies" in fails["mix stage 1 rejection justified"]


def test_a_reused_node_name_fails(cheated):
    def reuse(doc):
        doc["nodes"][1]["name"] = doc["nodes"][0]["name"]
    assert "registered to two keys" in tamper(cheated, reuse)["nodes"]


def test_a_stage_run_by_the_server_itself_fails(cheated):
    """The server's own key, added to the node list as a mixer, signs a stage: no listed mixer signed it."""
    def server_stage(doc):
        seed = b"\x05" * 32
        key = group.ed25519_sign(seed, b"")[0].hex()
        doc["nodes"].append({"key": key, "name": "the-server", "role": "mixer"})
        stage = doc["mix"][3]
        stage["response"] = submission.sign({k: v for k, v in stage["response"].items() if k != "signed"}, seed, 1)
        stage["mixer"] = key
    fails = tamper(cheated, server_stage)
    assert "does not list" in fails["mix stage 3 proof"]


def test_a_stage_that_does_not_mix_cannot_be_accepted(cheated):
    fails = tamper(cheated, lambda d: [d["mix"][2].pop(k) for k in ("class", "reason")] and
                   d["mix"][2].update(status="accepted"))
    assert "not_rerandomised" in fails["mix stage 2 proof"]


def test_a_decrypted_list_sharing_a_cast_ciphertext_fails(cheated):
    def leak(doc):
        doc["decryption"]["ciphertexts"][0] = doc["ballots"][0]["ciphertext"]
    fails = tamper(cheated, leak)
    assert "last accepted" in fails["decryption input is the final mix output"]
    only_cheaters = simulate.run_election(VOTES, 3, 1, 1, 1, cheat={0: "identity"}, election_id="linkable")
    assert "are cast ballots unchanged" in failures(only_cheaters)[
        "decrypted list shares no ciphertext with the cast ballots"]


@pytest.mark.parametrize("where", ["public_key", "ballot", "stage input", "commitment"])
@pytest.mark.parametrize("form", ["upper", "spaced"])
def test_uppercase_or_spaced_hex_fails(cheated, where, form):
    def reform(text: str) -> str:
        return text.upper() if form == "upper" else text[:32] + " " + text[32:]

    def alter(doc):
        if where == "public_key":
            doc["public_key"] = reform(doc["public_key"])
        elif where == "ballot":
            doc["ballots"][0]["ciphertext"][0] = reform(doc["ballots"][0]["ciphertext"][0])
        elif where == "stage input":
            doc["mix"][1]["inputs"][0][1] = reform(doc["mix"][1]["inputs"][0][1])
        else:
            doc["trustees"][0]["commitments"][0] = reform(doc["trustees"][0]["commitments"][0])
    fails = tamper(cheated, alter)
    assert any("hex" in reason or "previous" in reason or "signature" in reason for reason in fails.values()), fails


@pytest.mark.parametrize("path", [(), ("election",), ("manifest",), ("nodes", 0), ("trustees", 0), ("ballots", 0),
                                  ("ballots", 0, "randomness_proof"), ("mix", 1), ("mix", 1, "response"),
                                  ("decryption",), ("decryption", "partials", 0), ("result",), ("seats", 0)])
def test_an_extra_field_anywhere_fails(cheated, path):
    def extra(doc):
        target = doc
        for step in path:
            target = target[step]
        target["extra"] = 1
    fails = tamper(cheated, extra)
    assert any("extra" in reason or "unexpected" in reason or "signature" in reason for reason in fails.values()), fails


def test_commitments_shifted_between_two_trustees_fail(cheated):
    """+Δ on trustee 1's C_11 and −Δ on trustee 2's C_21 keep the key and every proof's first commitment: the
    signed dealings cover every commitment, so both trustees' checks fail."""
    delta = group.base_mul(12345)

    def shift(doc):
        c1, c2 = doc["trustees"][0]["commitments"], doc["trustees"][1]["commitments"]
        c1[1] = group.add(group.decode(c1[1]), delta).hex()
        c2[1] = group.sub(group.decode(c2[1]), delta).hex()
    fails = tamper(cheated, shift)
    assert "signature does not verify" in fails["trustee 1 commitments and key proof"]
    assert "signature does not verify" in fails["trustee 2 commitments and key proof"]


def test_manifest_seats_are_required_and_bound(cheated):
    fails = tamper(cheated, lambda d: d["seats"].pop())
    assert "did not sign the manifest" in fails["every listed node signed the manifest"]
    fails = tamper(cheated, lambda d: d["manifest"].update(nonce="00" * 32))
    assert "signs another manifest" in fails["every listed node signed the manifest"]
    assert "trustee 1 commitments and key proof" in fails  # the nonce is in every key proof's context


def test_the_verifier_always_reports_every_check(cheated):
    """A later check never disappears because an earlier one failed (docs/verifier.md §4)."""
    names = [c.name for c in verify_record(cheated)]
    for broken in (lambda d: d.__setitem__("ballots", "x"), lambda d: d["decryption"]["partials"].clear(),
                   lambda d: d.__setitem__("manifest", None)):
        doc = copy.deepcopy(cheated)
        broken(doc)
        got = [c.name for c in verify_record(doc)]
        for always in ("cast ciphertexts readable", "decryption quorum", "combination of shares gives the plaintexts",
                       "tally matches decrypted plaintexts", "listed mixers accepted, rejected or silent"):
            assert always in got and always in names
        assert not all_passed(verify_record(doc))


def test_trustee_refusals_are_reported_and_must_name_a_trustee(cheated):
    trustee_key = cheated["manifest"]["listed_trustees"][0]["key"]
    doc = copy.deepcopy(cheated)
    doc["decryption"]["refusals"] = [{"trustee": trustee_key, "reason": "no accepted mix stage"}]
    checks = {c.name: c for c in verify_record(doc)}
    assert checks["trustee refusals"].ok and "trustee-1" in checks["trustee refusals"].reason
    mixer_key = cheated["manifest"]["listed_mixers"][0]["key"]
    fails = tamper(cheated, lambda d: d["decryption"]["refusals"].append({"trustee": mixer_key, "reason": "x"}))
    assert "not a trustee" in fails["trustee refusals"]
    fails = tamper(cheated, lambda d: d["decryption"]["refusals"].append({"trustee": trustee_key, "reason": ""}))
    assert "states its reason" in fails["trustee refusals"]


def test_a_ballot_under_an_uppercase_credential_fails_its_own_check(cheated):
    """One byte form (docs/verifier.md §1, §4 check 12): a ballot whose `credential` is the right key in upper case,
    signed by that key and proved for that very text, fails the check that reads it, not only the list check."""
    credential = credentials.from_code("7K2M-QX4B-0RDA-9TFE-HW3N-5VYC")
    shouted = credential.voter_id.upper()
    key = group.decode(cheated["public_key"])
    ballot = credentials.sign(credential, "tamper", ballots.cast(key, "tamper", shouted, 3, 1))
    assert credential.voter_id != shouted

    def alter(doc):
        doc["ballots"][0] = {"credential": shouted, **ballot.to_json()}
    fails = tamper(cheated, alter)
    name = f"ballot 0 proof (credential {shouted[:16]})"
    assert name in fails and "hex" in fails[name], fails


@pytest.mark.parametrize("mix", ["x", None, {"stages": []}])
def test_a_mix_that_is_no_list_still_reports_the_cascade_checks(cheated, mix):
    """docs/verifier.md §4: `mix cascade` fails in place of the per-stage checks only; checks 17 and 18 and
    everything after them are still reported, and fail where they need the cascade's output."""
    doc = copy.deepcopy(cheated)
    doc["mix"] = mix
    checks = {c.name: c for c in verify_record(doc)}
    assert not checks["mix cascade"].ok
    assert not checks["mix cascade has an accepted stage"].ok
    assert "listed mixers accepted, rejected or silent" in checks
    assert not checks["decryption input is the final mix output"].ok
    assert not any(name.startswith("mix stage") for name in checks)

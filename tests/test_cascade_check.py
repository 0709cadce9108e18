"""A trustee decrypts only the end of the signed cascade (mixnet/cascade_check.py); otherwise it refuses and
says why. The cascades here come from complete in-process elections (mixnet/simulate.py)."""

from __future__ import annotations

import copy

import pytest

from mixscope.mixnet import group, simulate, submission
from mixscope.mixnet.cascade_check import CascadeRefused, check_cascade
from mixscope.mixnet.record import manifest_hash


@pytest.fixture(scope="module")
def record():
    return simulate.run_election([0, 1, 1, 0, 1], ["a", "b"], 1, 1, 3, cheat={1: "swap"}, election_id="cc")


def _cascade(record) -> dict:
    return {"manifest": record["manifest"], "cast": [b["ciphertext"] for b in record["ballots"]],
            "stages": [s["response"] for s in record["mix"] if s["status"] == "accepted"]}


def _check(record, cascade, ciphertexts=None, signed=None):
    return check_cascade(record["election"]["id"], cascade,
                         record["decryption"]["ciphertexts"] if ciphertexts is None else ciphertexts,
                         group.decode(record["public_key"]), signed or manifest_hash(record["manifest"]))


def test_the_end_of_the_signed_cascade_is_decrypted(record):
    assert _check(record, _cascade(record)) == 2


@pytest.mark.parametrize("spoil, says", [
    (lambda c, r: c["stages"].clear(), "no accepted mix stage"),
    (lambda c, r: c["stages"].pop(), "not the last accepted stage's outputs"),
    (lambda c, r: c["stages"][0].__setitem__("stage", 5), "signature"),
    (lambda c, r: c.__setitem__("cast", c["cast"][::-1]), "malformed"),  # another input list: input_hash differs
    (lambda c, r: c["manifest"].__setitem__("nonce", "00" * 32), "not the one this trustee signed"),
    (lambda c, r: c.pop("manifest"), "no cascade"),
])
def test_anything_else_is_refused_with_a_reason(record, spoil, says):
    cascade = copy.deepcopy(_cascade(record))
    spoil(cascade, record)
    with pytest.raises(CascadeRefused, match=says):
        _check(record, cascade)


def test_a_stage_the_server_ran_itself_is_refused(record):
    """The attack of the issue: honest stages dropped, one stage signed by a key the manifest does not list."""
    cascade = copy.deepcopy(_cascade(record))
    forged = {k: v for k, v in cascade["stages"][0].items() if k != "signed"}
    cascade["stages"] = [submission.sign(forged, b"\x01" * 32, 1)]
    with pytest.raises(CascadeRefused, match="does not list"):
        _check(record, cascade, ciphertexts=forged["outputs"])


def test_a_stage_with_a_failing_proof_is_refused(record):
    cascade = copy.deepcopy(_cascade(record))
    rejected = next(s for s in record["mix"] if s["status"] == "rejected")  # the swap: signed, but no valid proof
    cascade["stages"], cascade["cast"] = [rejected["response"]], rejected["inputs"]
    with pytest.raises(CascadeRefused, match="proof_fails"):
        _check(record, cascade, ciphertexts=rejected["response"]["outputs"])


def test_the_lab_shortcut_skips_only_the_proofs(record):
    """`mixscope node --skip-stage-proofs`: the failing proof is not re-checked, but an unlisted signer still is."""
    cascade = copy.deepcopy(_cascade(record))
    rejected = next(s for s in record["mix"] if s["status"] == "rejected")
    cascade["stages"], cascade["cast"] = [rejected["response"]], rejected["inputs"]
    assert check_cascade(record["election"]["id"], cascade, rejected["response"]["outputs"],
                         group.decode(record["public_key"]), manifest_hash(record["manifest"]), check_proofs=False) == 1
    forged = {k: v for k, v in rejected["response"].items() if k != "signed"}
    cascade["stages"] = [submission.sign(forged, b"\x01" * 32, 1)]
    with pytest.raises(CascadeRefused, match="does not list"):
        check_cascade(record["election"]["id"], cascade, forged["outputs"], group.decode(record["public_key"]),
                      manifest_hash(record["manifest"]), check_proofs=False)

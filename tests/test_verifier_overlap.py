"""The verifier hands the ballot and credential checks to map_fn early and collects them last, reads the ballots
once and makes each part's check from the read that uses it: none of that may change a report. Every tampered
record below gets exactly the checks of a plain in-process run, whether map_fn runs jobs lazily, at once, or
on a real process pool; and the fast paths (a hex value checked by its round trip, a list hashed whole, a
statement's shapes checked list by list) agree with the item-by-item ones they skip."""

from __future__ import annotations

import concurrent.futures
import copy
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mixscope.mixnet import group, record_parts, stages, submission, trustees, verifier
from mixscope.mixnet.errors import ProofError
from mixscope.mixnet.simulate import run_election
from mixscope.mixnet.verifier import verify_record

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record() -> dict:
    """Stage 0 proof_fails (swap), stages 1 and 2 accepted."""
    return run_election([0, 2, 1, 2, 1, 0, 2], ["ann", "bo", "cy"], 2, 3, 3, cheat={0: "swap"}, election_id="overlap")


@pytest.fixture(scope="module")
def pool():
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


def _flip_signature(doc):
    sig = doc["ballots"][1]["signature"]
    doc["ballots"][1]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]


def _unlisted(doc):
    doc["credentials"] = [c for c in doc["credentials"] if c != doc["ballots"][2]["credential"]]


def _bad_listed_key(doc):
    doc["credentials"][0] = "ff" * 32


def _unhashable_credential(doc):
    doc["ballots"][3]["credential"] = ["not", "text"]


def _bad_output_point(doc):
    doc["mix"][1]["response"]["outputs"][0][0] = "ff" * 32


TAMPERS = {
    "untouched": lambda doc: None,
    "ballot signature": _flip_signature,
    "ballot from an unlisted credential": _unlisted,
    "invalid key in the credential list": _bad_listed_key,
    "credential list not a list": lambda doc: doc.update(credentials="none"),
    "ballots not a list": lambda doc: doc.update(ballots={"0": 1}),
    "no ballots field": lambda doc: doc.pop("ballots"),
    "unhashable credential": _unhashable_credential,
    "credential used twice": lambda doc: doc["ballots"].append(copy.deepcopy(doc["ballots"][0])),
    "invalid point in stage outputs": _bad_output_point,
    "no mix": lambda doc: doc.update(mix="x"),
}


def lazy(fn, jobs):  # not the builtin map: the verifier defers, and the jobs run only when collected
    return map(fn, jobs)


def eager(fn, jobs):
    return iter(list(map(fn, jobs)))


def tampered(record: dict, name: str) -> dict:
    doc = copy.deepcopy(record)
    TAMPERS[name](doc)
    return doc


@pytest.mark.parametrize("held", [True, False], ids=["held in shares", "too many to hold"])
@pytest.mark.parametrize("name", list(TAMPERS))
def test_every_map_fn_gives_the_report_of_the_builtin_map(record, name, held, monkeypatch):
    monkeypatch.setattr(verifier, "_BATCH", 2)  # several batches, handed out in several shares
    monkeypatch.setattr(verifier, "_HELD_BALLOTS_MAX", 1000 if held else 2)
    doc = tampered(record, name)
    expected = verify_record(doc)
    assert expected == verify_record(doc, lazy) == verify_record(doc, eager)
    assert (name == "untouched") == all(c.ok for c in expected)


@pytest.mark.slow
def test_a_process_pool_gives_the_report_of_the_builtin_map(record, pool, monkeypatch):
    monkeypatch.setattr(verifier, "_BATCH", 2)
    for name in TAMPERS:
        doc = tampered(record, name)
        assert verify_record(doc, pool.map) == verify_record(doc), name


@pytest.mark.parametrize("spoil", [None, "altered", "missing", "unread"])
def test_part_checks_come_from_the_reads_that_use_them(tmp_path, record, spoil):
    """A record in parts gets the report of the one document, preceded by its part checks, as before."""
    index, parts = record_parts.split(record, "r")
    files = dict(parts)
    if spoil == "altered":
        files["r.mix-1.json"] = files["r.mix-1.json"].replace(b'"', b' "', 1)
    elif spoil == "missing":
        del files["r.decryption.json"]
    elif spoil == "unread":  # a part no check reaches once the mix is no list: read at the end for its check
        index["mix"] = "x"

    def read(name: str) -> bytes:
        if name not in files:
            raise FileNotFoundError(2, "No such file or directory")
        return files[name]

    checks = verify_record(record_parts.PartedRecord(index, read), lazy)
    assert checks == verify_record(record_parts.PartedRecord(index, read))
    part_checks = [c for c in checks if c.name.startswith("record part ")]
    assert checks[:len(part_checks)] == part_checks
    wanted = {None: True, "altered": False, "missing": False, "unread": True}[spoil]
    assert all(c.ok for c in part_checks) == wanted
    if spoil == "altered":
        assert [c.name for c in part_checks if not c.ok] == ["record part mix[1]"]
        assert "was altered" in next(c.reason for c in part_checks if not c.ok)


def _item_by_item_hash(cts) -> str:
    digest = hashlib.sha256()
    for pair in cts:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError("pair")
        for part in pair:
            raw = bytes.fromhex(part) if isinstance(part, str) else part
            if not isinstance(raw, bytes) or len(raw) != 32:
                raise ValueError("half")
            digest.update(raw)
    return digest.hexdigest()


A, B = "ab" * 32, "0f" * 32
HASH_CASES = [
    [], [[A, B]], [(A, B), [B, A]], [[A.upper(), B]], [[A[:62] + " a", B]], [[A[:-2] + " ab", B]],
    [[A + "ab", B[2:]]], [[A, B, A]], [[A]], [[bytes(32), bytes.fromhex(B)]], [[bytes(32), B]],
    [[bytearray(32), bytes(32)]], [[A, 7]], [[A, None]], "text", [[A, B], "x"],
]


@pytest.mark.parametrize("cts", HASH_CASES, ids=range(len(HASH_CASES)))
def test_list_hash_agrees_with_hashing_item_by_item(cts):
    try:
        expected = _item_by_item_hash(cts)
    except (ValueError, TypeError):
        with pytest.raises(ValueError):
            stages.list_hash(cts)
        return
    assert stages.list_hash(cts) == expected


@pytest.mark.parametrize("value, length", [
    (A, 64), (A.upper(), 64), ("a b" + A[3:], 64), (A[:-1], 63), (A[:-1] + "g", 64), ("٠" * 64, 64), (7, 64),
    (A + A, 128), ("abc", 3), ("ab", 2), ("a" * 64 + "\n", 65),
])
def test_is_hex_is_exactly_lowercase_digits(value, length):
    digits = set("0123456789abcdef")
    assert group.is_hex(value, length) == (isinstance(value, str) and len(value) == length and set(value) <= digits)


@pytest.mark.parametrize("value, refused", [
    ({"a": ["x", 1, [2, "y"]]}, None), ({"a": ["x", True]}, "message.a: bool"), ({"a": [1.5]}, "message.a: float"),
    ({"a": [[None]]}, "message.a: NoneType"), ({"b": {"é": 1}}, "message.b: object keys"),
])
def test_the_canonical_form_refuses_what_it_refused(value, refused):
    if refused is None:
        assert submission.canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    else:
        with pytest.raises(submission.SubmissionError, match=refused):
            submission.canonical(value)


@pytest.mark.slow
@pytest.mark.skipif(not group.native_available(), reason="the native backend is not built")
def test_bench_verify_compares_the_backends_side_by_side(tmp_path, record):
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    done = subprocess.run([sys.executable, "-m", "mixscope", "bench", "verify", str(path), "--rounds", "1",
                           "--workers", "1", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["all_verified"] and [r["backend"] for r in report["runs"]] == ["native", "sodium"]
    for backend in ("native", "sodium"):
        assert report[backend]["wall_s"] > 0 and report[backend]["cpu_s"] > 0
    assert report["ratio_cpu"] > 0 and report["ratio_wall"] > 0 and len(report["load_average_before"]) == 3


def test_batch_weights_are_the_weights_one_by_one():
    seed = bytes(range(64))
    assert trustees.batch_weights(seed, 300) == [trustees.batch_weight(seed, p) for p in range(300)]
    assert trustees.batch_weights(seed, 0) == []


@pytest.mark.parametrize("spoil", ["bytearray input", "short output half", "int in chain", "scalar = ORDER",
                                   "negative scalar", "bool scalar", "triple ciphertext"])
def test_malformed_shuffle_statements_are_still_refused(spoil):
    from mixscope.mixnet import elgamal, shuffle

    secret = group.random_scalar()
    public = group.base_mul(secret)
    inputs = [elgamal.encrypt(public, group.base_mul(i + 1), group.random_scalar()) for i in range(4)]
    outputs, proof = shuffle.shuffle_and_prove(public, inputs, b"ctx")
    shuffle.verify(public, inputs, outputs, proof, b"ctx")
    inputs, outputs = list(inputs), list(outputs)
    expected = {"bytearray input": "malformed input ciphertext", "short output half": "malformed output ciphertext",
                "int in chain": "malformed proof element", "triple ciphertext": "malformed input ciphertext"}
    if spoil == "bytearray input":
        inputs[1] = (bytearray(inputs[1][0]), inputs[1][1])
    elif spoil == "short output half":
        outputs[2] = (outputs[2][0], outputs[2][1][:31])
    elif spoil == "int in chain":
        proof.chain[0] = 5
    elif spoil == "triple ciphertext":
        inputs[0] = (*inputs[0], inputs[0][0])
    else:
        proof.s_hat[1] = {"scalar = ORDER": group.ORDER, "negative scalar": -1, "bool scalar": True}[spoil]
    with pytest.raises(ProofError, match=expected.get(spoil, "proof scalar out of range")):
        shuffle.verify(public, inputs, outputs, proof, b"ctx")

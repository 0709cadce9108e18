"""Voter credentials: the code, its KDF, the Ed25519 key, exactly what a ballot's signature covers (checked
against the stored test vector and against a second Ed25519 implementation), and the credential files and
command the credential authority uses."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from conftest import ROOT
from mixscope.client import credential_file
from mixscope.mixnet import ballots, credentials, group
from mixscope.mixnet.errors import ProofError

VECTOR = json.loads((Path(__file__).parent / "data" / "credential_vector.json").read_text())


def frame(tag: bytes, *parts: bytes) -> bytes:
    """docs/verifier.md §1.1, written out again here so the vector is checked against the specification."""
    out = len(tag).to_bytes(4, "big") + tag
    for part in parts:
        out += len(part).to_bytes(4, "big") + part
    return out


def test_the_vector_follows_the_specification_byte_for_byte():
    code = credentials.normalise_code(VECTOR["code_typed"])  # what a person types: case, spaces, O for 0
    assert code == VECTOR["code"]
    seed = hashlib.sha512(frame(b"mixscope/v1/credential-seed", code.replace("-", "").encode())).digest()[:32]
    assert seed.hex() == VECTOR["seed"] == credentials.seed_of(code).hex()
    credential = credentials.from_code(code)
    assert credential.voter_id == VECTOR["credential"]

    b = VECTOR["ballot"]
    election_context = bytes.fromhex("000000146d697873636f70652f76312f656c656374696f6e0000000464656d6f")  # §1.2's E
    expected = frame(b"mixscope/v1/ballot-signature", election_context, bytes.fromhex(VECTOR["credential"]),
                     *(bytes.fromhex(x) for x in b["ciphertext"]), bytes.fromhex(b["randomness_proof"]["commitment"]),
                     bytes.fromhex(b["randomness_proof"]["response"]))
    assert expected.hex() == VECTOR["signed_bytes"]
    ballot = ballots.Ballot.from_json(b)
    assert credentials.signed_bytes(VECTOR["election_id"], credential.public_key, ballot) == expected

    signed = credentials.sign(credential, VECTOR["election_id"], ballot)
    assert signed.signature.hex() == VECTOR["signature"]  # Ed25519 is deterministic
    # A second, independent Ed25519 implementation accepts it over exactly these bytes.
    Ed25519PublicKey.from_public_bytes(credential.public_key).verify(signed.signature, expected)
    credentials.verify(bytes.fromhex(VECTOR["public_key"]), VECTOR["election_id"], VECTOR["credential"], signed)


def test_codes_carry_120_bits_and_only_codes_are_accepted():
    codes = {credentials.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 24 and set(raw) <= set(credentials.ALPHABET) and len(credentials.ALPHABET) == 32
    for bad in ("", "short", "7K2M-QX4B-0RDA-9TFE-HW3N-5VY", "7K2M-QX4B-0RDA-9TFE-HW3N-5VYCC", "UUUU" * 6, None):
        with pytest.raises(ValueError, match="credential code"):
            credentials.from_code(bad)


def test_a_signature_binds_the_credential_the_election_and_every_byte_of_the_ballot():
    alice, bob = credentials.generate(2)
    key = group.base_mul(99)
    ballot = credentials.cast(alice, key, "e1", 3, 2)
    credentials.verify(key, "e1", alice.voter_id, ballot)
    with pytest.raises(ProofError, match="credential signature"):
        credentials.verify(key, "e1", bob.voter_id, ballot)  # claimed for another credential
    with pytest.raises(ProofError, match="credential signature"):
        credentials.verify(key, "e2", alice.voter_id, ballot)  # replayed in another election
    with pytest.raises(ProofError, match="not signed"):
        credentials.verify(key, "e1", alice.voter_id, ballot._replace(signature=None))
    other = credentials.cast(alice, key, "e1", 3, 1)
    with pytest.raises(ProofError, match="credential signature"):  # a signature moved onto another ciphertext
        credentials.verify(key, "e1", alice.voter_id, other._replace(signature=ballot.signature))
    with pytest.raises(ProofError, match="a public credential is 64 hex characters"):
        credentials.verify_signature("e1", "alice", ballot)


def test_the_credential_list_must_be_distinct_valid_keys():
    keys = [c.voter_id for c in credentials.generate(3)]
    assert credentials.check_list(keys) == sorted(keys)
    small_order = "01" + "00" * 31  # the Ed25519 identity: signatures under it prove nothing
    for bad, reason in (([], "non-empty"), ("abc", "non-empty"), ([*keys, keys[0]], "twice"),
                        ([*keys, small_order], "credential 3"), ([*keys, "zz" * 32], "64 hex"), ([7], "64 hex")):
        with pytest.raises(ValueError, match=reason):
            credentials.check_list(bad)


def test_credential_files_are_private_never_overwritten_and_read_back(tmp_path):
    credential = credentials.generate(1)[0]
    path = tmp_path / "alice.json"
    credential_file.write_private(path, "alice", credential)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        credential_file.write_private(path, "alice", credential)
    assert credential_file.read_private(path) == ("alice", credential)
    bare = tmp_path / "code.txt"
    bare.write_text(credential.code.lower() + "\n")
    assert credential_file.read_private(bare)[1] == credential
    lying = json.loads(path.read_text()) | {"public": credentials.generate(1)[0].voter_id}
    (tmp_path / "lying.json").write_text(json.dumps(lying))
    with pytest.raises(credential_file.CredentialFileError, match="does not give its public credential"):
        credential_file.read_private(tmp_path / "lying.json")
    listing = tmp_path / "public.json"
    body = credential_file.write_public(listing, [credential.voter_id])
    assert credential_file.read_public(listing) == [credential.voter_id] and body["count"] == 1
    listing.write_text(json.dumps(body | {"fingerprint": "00" * 32}))
    with pytest.raises(credential_file.CredentialFileError, match="fingerprint"):
        credential_file.read_public(listing)


def test_the_credentials_command_writes_private_files_and_the_public_list(tmp_path):
    names = tmp_path / "voters.txt"
    names.write_text("alice\nbob  # the treasurer\n\n# nobody\ncarol\n")
    out = tmp_path / "creds"
    done = subprocess.run([sys.executable, "-m", "mixscope", "election", "credentials", "--voters", str(names),
                           "--out", str(out), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    listed = credential_file.read_public(out / "public-credentials.json")
    assert summary["count"] == len(listed) == 3 and summary["fingerprint"] == credential_file.fingerprint(listed)
    private = out / "private"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    held = {}
    for path in sorted(private.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        name, credential = credential_file.read_private(path)
        held[name] = credential.voter_id
    assert sorted(held) == ["alice", "bob", "carol"] and sorted(held.values()) == listed
    assert not any(code in (out / "public-credentials.json").read_text()
                   for code in (json.loads(p.read_text())["code"] for p in private.iterdir()))
    again = subprocess.run([sys.executable, "-m", "mixscope", "election", "credentials", "--count", "2", "--out",
                            str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "never overwritten" in again.stderr and "Traceback" not in again.stderr

"""The trustee role: a full t-of-n key ceremony between real TrusteeRole objects through the messages the
server relays, proven partial decryptions that combine to the votes, complaints for bad shares, the
stored key share (0600) surviving a restart, refusals of bad or dangerous requests; and real trustee
node processes running the ceremony through the real server."""

from __future__ import annotations

import json
import stat
import sys

import nacl.signing
import pytest

from conftest import NodeProcess
from mixscope.client.mixer import RequestError
from mixscope.client.roles import Roles
from mixscope.client.trustee import TrusteeRole, share_path
from mixscope.mixnet import elgamal, group, proofs, shuffle, submission, trustees
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.record import make_manifest, manifest_hash, mix_context
from mixscope.mixnet.stages import list_hash

CANDIDATES = 3
NAMES = ["a", "b", "c"]  # the labels the trustees attest in the key ceremony


def _roles(tmp_path, n: int) -> list[TrusteeRole]:
    return [
        TrusteeRole(f"trustee-{i}", nacl.signing.SigningKey.generate(), tmp_path / f"t{i}") for i in range(1, n + 1)
    ]


NONCE = "5a" * 32  # the election manifest's nonce, as keygen.request carries it


MIXER_SEED = b"\x09" * 32  # the one listed mixer of these tests' manifests
MIXER_KEY = group.ed25519_sign(MIXER_SEED, b"")[0].hex()
_MANIFESTS: dict[str, dict] = {}  # election id -> the manifest the trustees of the running test took seats in


def _keygen_requests(roles: list[TrusteeRole], threshold: int, election_id: str = "e1") -> list[dict]:
    """...after each trustee took its seat in the election's manifest (as the server asks before the ceremony)."""
    manifest = make_manifest(election_id, "Q?", NAMES, 1, len(roles), 1, NONCE,
                             [{"index": i, "name": r.name, "key": r.public_key} for i, r in enumerate(roles, 1)],
                             [{"name": "mixer-1", "key": MIXER_KEY}])
    _MANIFESTS[election_id] = manifest
    for role in roles:
        role.seated(election_id, manifest_hash(manifest))
    roster = [{"index": i, "name": r.name, "public_key": r.public_key} for i, r in enumerate(roles, 1)]
    return [{"type": "keygen.request", "election_id": election_id, "index": i, "threshold": threshold,
             "trustees": roster, "question": "Q?", "candidates": list(NAMES), "nonce": NONCE}
            for i in range(1, len(roles) + 1)]


def _shares_for(commitment_replies: list[dict], j: int, whole_dealings: bool = True) -> dict:
    """What the server relays to trustee j once every commitment is in (as server/election does)."""
    commitments = {
        str(r["index"]): ({k: r[k] for k in ("index", "commitments", "proof")} if whole_dealings else r["commitments"])
        for r in commitment_replies
    }
    return {"type": "keygen.shares", "election_id": commitment_replies[0]["election_id"], "commitments": commitments,
            "shares": {str(r["index"]): r["shares"][str(j)] for r in commitment_replies}}


def _ceremony(roles, threshold, whole_dealings=True, election_id="e1"):
    replies = [role.keygen_request(req) for role, req in zip(roles, _keygen_requests(roles, threshold, election_id))]
    done = [role.keygen_shares(_shares_for(replies, j, whole_dealings)) for j, role in enumerate(roles, 1)]
    return replies, done


class _Ballots(list):
    public: bytes


def _ballots(public: bytes, choices: list[int]) -> list[Ciphertext]:
    out = _Ballots(elgamal.encrypt(public, elgamal.encode_choice(c)) for c in choices)
    out.public = public
    return out


def _cascade(cts, election_id: str) -> dict:
    """A signed cascade ending in `cts`: one honest stage by the listed mixer (order kept, every ciphertext
    re-randomised), built backwards from its outputs. A trustee checks this before it decrypts."""
    if election_id not in _MANIFESTS:
        return {}
    rs = [group.random_scalar() for _ in cts]
    inputs = [Ciphertext(group.sub(ct.a, group.base_mul(r)), group.sub(ct.b, group.mul(r, cts.public)))
              for ct, r in zip(cts, rs)]
    context = mix_context(election_id, 0, MIXER_KEY, bytes.fromhex(NONCE))
    proof = shuffle.prove(cts.public, inputs, list(cts), shuffle.ShuffleWitness(list(range(len(cts))), rs), context)
    inputs_json, outputs_json = [ct.to_json() for ct in inputs], [ct.to_json() for ct in cts]
    response = submission.sign({"type": "mix.response", "election_id": election_id, "stage": 0,
                                "input_hash": list_hash(inputs_json), "outputs": outputs_json,
                                "proof": proof.to_json(), "list_hash": list_hash(outputs_json)}, MIXER_SEED, 1)
    return {"manifest": _MANIFESTS[election_id], "cast": inputs_json, "stages": [response]}


def _decrypt_request(cts, election_id="e1") -> dict:
    return {"type": "decrypt.request", "election_id": election_id, "ciphertexts": [ct.to_json() for ct in cts],
            "list_hash": list_hash(cts), "cascade": _cascade(cts, election_id)}


def test_a_list_that_does_not_end_the_signed_cascade_is_refused(tmp_path):
    roles = _roles(tmp_path, 1)
    _, done = _ceremony(roles, 1)
    cts = _ballots(bytes.fromhex(done[0]["public_key"]), [0, 1, 2])
    request = _decrypt_request(cts)
    request["cascade"]["stages"] = []
    with pytest.raises(RequestError, match="no accepted mix stage"):
        roles[0].decrypt_request(request)
    other = _ballots(cts.public, [0, 1, 2])
    with pytest.raises(RequestError, match="not the last accepted stage's outputs"):
        roles[0].decrypt_request({**_decrypt_request(other), "cascade": _decrypt_request(cts)["cascade"]})
    assert roles[0].decrypt_request(_decrypt_request(cts))["type"] == "decrypt.response"  # the real end: decrypted


def test_a_trustee_checks_each_forwarded_stage_and_then_decrypts_only_the_end_of_that_chain(tmp_path):
    """cascade.stage during the mix: the trustee checks the stage itself; the decrypt request may then say only
    {"checked": list_hash}, and is honoured only for the end of the chain this trustee checked."""
    roles = _roles(tmp_path, 1)
    _, done = _ceremony(roles, 1)
    cts = _ballots(bytes.fromhex(done[0]["public_key"]), [0, 1, 2])
    whole = _cascade(cts, "e1")
    compact = {**_decrypt_request(cts), "cascade": {"checked": list_hash(cts)}}
    with pytest.raises(RequestError, match="not checked a cascade") as unchecked:
        roles[0].decrypt_request(compact)
    assert unchecked.value.reason == "unchecked_cascade"
    with pytest.raises(RequestError, match="ends no cascade this trustee checked"):  # nothing to chain from
        roles[0].cascade_stage({"type": "cascade.stage", "election_id": "e1", "response": whole["stages"][0]})
    forged = {**whole["stages"][0], "list_hash": "00" * 32}  # the signature no longer holds
    with pytest.raises(RequestError, match="signature") as refused:
        roles[0].cascade_stage({"type": "cascade.stage", "election_id": "e1", "response": forged,
                                "start": {"manifest": whole["manifest"], "cast": whole["cast"]}})
    assert refused.value.reason == "refused_cascade"
    checked = roles[0].cascade_stage({"type": "cascade.stage", "election_id": "e1", "response": whole["stages"][0],
                                      "start": {"manifest": whole["manifest"], "cast": whole["cast"]}})
    assert checked == {"type": "cascade.checked", "election_id": "e1", "stage": 1, "list_hash": list_hash(cts)}
    other_stage = _cascade(_ballots(cts.public, [2, 2, 2]), "e1")["stages"][0]  # from another input list
    with pytest.raises(RequestError, match="ends no cascade this trustee checked"):
        roles[0].cascade_stage({"type": "cascade.stage", "election_id": "e1", "response": other_stage})
    other = _ballots(cts.public, [0, 1, 2])
    with pytest.raises(RequestError, match="not checked a cascade ending in this list"):
        roles[0].decrypt_request({**_decrypt_request(other), "cascade": {"checked": list_hash(other)}})
    with pytest.raises(RequestError, match="not the last accepted stage's outputs"):  # the hash of one, another list
        roles[0].decrypt_request({**_decrypt_request(other), "list_hash": list_hash(cts),
                                  "cascade": {"checked": list_hash(cts)}})
    with pytest.raises(RequestError, match="not checked a cascade ending in this list"):  # the cast list: no stage
        roles[0].decrypt_request(
            {
                **_decrypt_request(other),
                "ciphertexts": whole["cast"],
                "list_hash": list_hash(whole["cast"]),
                "cascade": {"checked": list_hash(whole["cast"])},
            }
        )
    assert roles[0].decrypt_request(compact)["type"] == "decrypt.response"


def test_a_trustee_lets_go_of_the_lists_no_later_stage_can_extend(tmp_path):
    """Each forwarded stage extends the server's last accepted list: the lists before it are let go (one decoded
    list per stage attempt would otherwise stay in memory), and the end of the chain still decrypts."""
    roles = _roles(tmp_path, 1)
    _, done = _ceremony(roles, 1)
    cts = _ballots(bytes.fromhex(done[0]["public_key"]), [0, 1, 2])
    whole = _cascade(cts, "e1")
    roles[0].cascade_stage({"type": "cascade.stage", "election_id": "e1", "response": whole["stages"][0],
                            "start": {"manifest": whole["manifest"], "cast": whole["cast"]}})
    context = mix_context("e1", 1, MIXER_KEY, bytes.fromhex(NONCE))
    outputs, proof = shuffle.shuffle_and_prove(cts.public, list(cts), context)
    outputs_json = [ct.to_json() for ct in outputs]
    second = submission.sign({"type": "mix.response", "election_id": "e1", "stage": 1, "input_hash": list_hash(cts),
                              "outputs": outputs_json, "proof": proof.to_json(),
                              "list_hash": list_hash(outputs_json)}, MIXER_SEED, 2)
    checked = roles[0].cascade_stage({"type": "cascade.stage", "election_id": "e1", "response": second})
    assert checked["stage"] == 2
    assert set(roles[0]._chains["e1"]) == {list_hash(cts), list_hash(outputs_json)}  # the cast list's is gone
    with pytest.raises(RequestError, match="ends no cascade this trustee checked"):  # stage 0 again: a fork
        roles[0].cascade_stage({"type": "cascade.stage", "election_id": "e1", "response": whole["stages"][0]})
    compact = {"type": "decrypt.request", "election_id": "e1", "ciphertexts": outputs_json,
               "list_hash": list_hash(outputs_json), "cascade": {"checked": list_hash(outputs_json)}}
    assert roles[0].decrypt_request(compact)["type"] == "decrypt.response"


def _combine(cts, responses, threshold) -> list[int]:
    partials = [trustees.PartialDecryption.from_json(
        {"trustee": r["index"], "factors": r["partials"], "proof": r["proof"]}) for r in responses]
    return [elgamal.decode_choice(m, CANDIDATES) for m in trustees.combine(cts, partials, threshold)]


def test_a_dealing_without_its_proof_of_knowledge_is_a_complaint(tmp_path):
    """A bare commitment list binds the dealer to nothing: refused (it was accepted from older servers once)."""
    roles = _roles(tmp_path, 2)
    replies = [role.keygen_request(req) for role, req in zip(roles, _keygen_requests(roles, 2))]
    complaint = roles[0].keygen_shares(_shares_for(replies, 1, whole_dealings=False))
    assert complaint["type"] == "keygen.complaint" and "proof of knowledge" in complaint["reason"]


@pytest.mark.parametrize("threshold,n,whole", [(2, 3, True), (1, 1, True), (3, 3, True)])
def test_ceremony_and_threshold_decryption(tmp_path, threshold, n, whole):
    roles = _roles(tmp_path, n)
    replies, done = _ceremony(roles, threshold, whole)
    assert [d["type"] for d in done] == ["keygen.done"] * n
    dealings = [trustees.Dealing.from_json({k: r[k] for k in ("index", "commitments", "proof")}) for r in replies]
    for dealing in dealings:  # what the server checks before relaying
        trustees.verify_dealing(dealing, threshold, proofs.election_context("e1", bytes.fromhex(NONCE)),
                                trustees.labels_digest("Q?", list(NAMES)))
    public = trustees.joint_public_key(dealings)
    assert {d["public_key"] for d in done} == {public.hex()}
    for j, d in enumerate(done, 1):
        assert d["verification_key"] == trustees.verification_key(dealings, j).hex()

    choices = [0, 2, 1, 2, 2, 0]
    cts = _ballots(public, choices)
    responses = [role.decrypt_request(_decrypt_request(cts)) for role in roles[-threshold:]]  # the last t trustees
    for r in responses:
        partial = trustees.PartialDecryption.from_json({"trustee": r["index"], "factors": r["partials"],
                                                        "proof": r["proof"]})
        trustees.verify_partial(bytes.fromhex(done[r["index"] - 1]["verification_key"]), cts, partial,
                                proofs.election_context("e1", bytes.fromhex(NONCE)))
    assert _combine(cts, responses, threshold) == choices


def test_shares_are_sealed_to_each_recipient_only(tmp_path):
    roles = _roles(tmp_path, 3)
    replies = [role.keygen_request(req) for role, req in zip(roles, _keygen_requests(roles, 2))]
    # Trustee 2 handed trustee 3's sealed shares (relayed to the wrong trustee) cannot open them: complaint.
    wrong = _shares_for(replies, 3)
    complaint = roles[1].keygen_shares(wrong)
    assert (
        complaint["type"] == "keygen.complaint"
        and complaint["index"] == 2
        and "cannot be opened" in complaint["reason"]
    )
    assert all("share" not in json.dumps(r["shares"]) for r in replies)  # nothing in the clear


def test_a_bad_share_from_a_dealer_is_a_complaint_against_that_dealer(tmp_path):
    roles = _roles(tmp_path, 3)
    replies = [role.keygen_request(req) for role, req in zip(roles, _keygen_requests(roles, 2))]
    # Dealer 3 deals trustee 1 a share that does not match dealer 3's commitments: take dealer 3's
    # commitments from another run of dealer 3 (same key, new polynomial).
    other = TrusteeRole("trustee-3", nacl.signing.SigningKey.generate(), tmp_path / "other")
    message = _shares_for(replies, 1)
    forged = dict(_keygen_requests(roles, 2)[2])
    forged["trustees"] = [dict(e, public_key=other.public_key) if e["index"] == 3 else e for e in forged["trustees"]]
    other_reply = other.keygen_request(forged)
    message["commitments"]["3"] = {k: other_reply[k] for k in ("index", "commitments", "proof")}
    complaint = roles[0].keygen_shares(message)
    assert complaint == {"type": "keygen.complaint", "election_id": "e1", "index": 1, "against": 3,
                         "reason": complaint["reason"]}
    assert "does not match the commitments" in complaint["reason"]
    assert not share_path(tmp_path / "t1", "trustee-1", "e1").exists()  # no key share kept


def test_a_forged_dealing_proof_is_a_complaint(tmp_path):
    roles = _roles(tmp_path, 2)
    replies = [role.keygen_request(req) for role, req in zip(roles, _keygen_requests(roles, 2))]
    message = _shares_for(replies, 1)
    message["commitments"]["2"]["proof"] = replies[0]["proof"]  # dealer 1's proof under dealer 2's name
    complaint = roles[0].keygen_shares(message)
    assert complaint["type"] == "keygen.complaint" and complaint["against"] == 2 and "proof" in complaint["reason"]


def test_the_server_cannot_change_a_trustees_own_commitments(tmp_path):
    roles = _roles(tmp_path, 2)
    replies = [role.keygen_request(req) for role, req in zip(roles, _keygen_requests(roles, 1))]
    message = _shares_for(replies, 1)
    message["commitments"]["1"]["commitments"] = replies[1]["commitments"]
    with pytest.raises(RequestError, match="own commitments"):
        roles[0].keygen_shares(message)


def test_repeated_requests_get_the_same_answers(tmp_path):
    roles = _roles(tmp_path, 2)
    requests = _keygen_requests(roles, 2)
    first = roles[0].keygen_request(requests[0])
    assert roles[0].keygen_request(requests[0]) == first  # never a second polynomial
    replies = [first, roles[1].keygen_request(requests[1])]
    done = roles[0].keygen_shares(_shares_for(replies, 1))
    assert roles[0].keygen_shares(_shares_for(replies, 1)) == done
    with pytest.raises(RequestError, match="already holds"):
        roles[0].keygen_request(requests[0])


def test_key_share_file_is_0600_and_a_restarted_trustee_still_decrypts(tmp_path):
    roles = _roles(tmp_path, 2)
    keys = [nacl.signing.SigningKey.generate() for _ in roles]
    roles = [TrusteeRole(f"trustee-{i}", k, tmp_path / f"t{i}") for i, k in enumerate(keys, 1)]
    _, done = _ceremony(roles, 2)
    path = share_path(tmp_path / "t1", "trustee-1", "e1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["verification_key"] == done[0]["verification_key"] and stored["index"] == 1
    public = bytes.fromhex(done[0]["public_key"])
    cts = _ballots(public, [1, 1, 0])
    restarted = TrusteeRole("trustee-1", keys[0], tmp_path / "t1")  # a new process: nothing in memory
    responses = [restarted.decrypt_request(_decrypt_request(cts)), roles[1].decrypt_request(_decrypt_request(cts))]
    assert _combine(cts, responses, 2) == [1, 1, 0]


def test_a_trustee_decrypts_one_list_per_election_only(tmp_path):
    roles = _roles(tmp_path, 1)
    _, done = _ceremony(roles, 1)
    public = bytes.fromhex(done[0]["public_key"])
    final = _ballots(public, [0, 1])
    first = roles[0].decrypt_request(_decrypt_request(final))
    assert roles[0].decrypt_request(_decrypt_request(final))["index"] == first["index"]  # a retry is fine
    single_ballot = _ballots(public, [2])  # e.g. one voter's ballot, before mixing
    with pytest.raises(RequestError, match="already decrypted a different list"):
        roles[0].decrypt_request(_decrypt_request(single_ballot))
    restarted = TrusteeRole("trustee-1", nacl.signing.SigningKey.generate(), tmp_path / "t1")
    with pytest.raises(RequestError, match="already decrypted"):  # the refusal survives a restart
        restarted.decrypt_request(_decrypt_request(single_ballot))


@pytest.mark.parametrize("change,match", [
    ({"index": 3}, "not this node's key"),
    ({"threshold": 3}, "threshold"),
    ({"threshold": 0}, "threshold"),
    ({"trustees": [{"index": 1}]}, "public_key"),
    ({"trustees": ["x"]}, "index"),
    ({"election_id": "../../etc"}, "election_id"),
])
def test_bad_keygen_requests_are_refused(tmp_path, change, match):
    roles = _roles(tmp_path, 2)
    request = {**_keygen_requests(roles, 2)[0], **change}
    with pytest.raises(RequestError, match=match):
        roles[0].keygen_request(request)


def test_duplicate_indices_and_unusable_keys_are_refused(tmp_path):
    roles = _roles(tmp_path, 2)
    request = _keygen_requests(roles, 2)[0]
    dup = {**request, "trustees": [request["trustees"][0], dict(request["trustees"][1], index=1)]}
    with pytest.raises(RequestError, match="exactly 1..n"):
        roles[0].keygen_request(dup)
    bad_key = {**request, "trustees": [request["trustees"][0], dict(request["trustees"][1], public_key="zz")]}
    with pytest.raises(RequestError, match="public key"):
        roles[0].keygen_request(bad_key)


def test_decrypt_and_shares_without_a_ceremony_are_refused(tmp_path):
    (role,) = _roles(tmp_path, 1)
    with pytest.raises(RequestError, match="no key share"):
        role.decrypt_request(_decrypt_request(_ballots(elgamal.KeyPair.generate().public, [0])))
    with pytest.raises(RequestError, match="no key ceremony"):
        role.keygen_shares({"type": "keygen.shares", "election_id": "e1", "commitments": {}, "shares": {}})


def test_roles_answer_bad_trustee_requests_with_errors(tmp_path):
    roles = Roles("trustee-1", "trustee", nacl.signing.SigningKey.generate(), tmp_path)
    reply = roles.handle({"type": "keygen.shares", "election_id": "e1", "commitments": {"1": "x"}, "shares": {}},
                         lambda *_: None)
    assert reply["type"] == "error" and reply["ref"] == "keygen.shares" and reply["election_id"] == "e1"
    reply = roles.handle({"type": "mix.request", "election_id": "e1", "stage": 0, "public_key": "", "context": "",
                          "ciphertexts": [], "list_hash": ""}, lambda *_: None)
    assert reply["reason"] == "wrong_role"


def test_decryption_reports_progress(tmp_path):
    key = nacl.signing.SigningKey.generate()
    roles = Roles("trustee-1", "trustee", key, tmp_path)
    role = roles.trustee
    reply = role.keygen_request(_keygen_requests([role], 1)[0])
    role.keygen_shares(_shares_for([reply], 1))
    public = bytes.fromhex(json.loads(share_path(tmp_path, "trustee-1", "e1").read_text())["public_key"])
    seen = []
    response = roles.handle(_decrypt_request(_ballots(public, [0] * 100)), lambda *p: seen.append(p))
    assert response["type"] == "decrypt.response" and len(response["partials"]) == 100
    # the cascade check reports first (decoding, the shuffle proof), then the decryption (reports are throttled)
    assert seen and all(p[:2] == ("e1", "decrypt") for p in seen) and seen[0][3] == 0


# --- real trustee processes through the real server --------------------------------------------------------


@pytest.mark.slow
def test_real_trustee_nodes_run_the_ceremony_through_the_server(server, tmp_path):
    from mixscope.mixnet.credentials import generate

    nodes = [NodeProcess([sys.executable, "-u", "-m", "mixscope", "node", "--url", server.ws_url,
                          "--name", f"trustee-{i}", "--role", "trustee", "--data-dir", str(tmp_path / "nodes"),
                          "--join-token", server.join_token]) for i in (1, 2, 3)]
    try:
        for node in nodes:
            node.wait_for("welcomed", timeout=20)
        created = server.call("election.create", {"question": "Q?", "candidates": ["a", "b", "c"], "threshold": 2,
                                                   "trustees": 3, "mixers": 1,
                                                   "credentials": [c.voter_id for c in generate(1)]}).result(10)
        eid = created["election_id"]
        server.call("election.keygen", {"election_id": eid}).result(60)
        for node in nodes:
            node.wait_for("replied", timeout=30, type="keygen.done", election_id=eid)
        election = server.board.get_election(eid)
        assert election.public_key and election.state == "voting"
        for i in (1, 2, 3):
            path = share_path(tmp_path / "nodes", f"trustee-{i}", eid)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert json.loads(path.read_text())["public_key"] == election.public_key
    finally:
        for node in nodes:
            node.terminate()
            for stream in (node.proc.stdout, node.proc.stderr):
                stream.close()


@pytest.mark.slow
def test_real_nodes_carry_a_whole_election_and_a_cheating_mixer_is_caught(server, tmp_path):
    """3 trustees (2 needed), an honest and a cheating mixer, as real processes; ballots through the API."""
    from mixscope.client.vote import cast_vote
    from mixscope.mixnet.credentials import generate

    def node(name, role, *extra):
        return NodeProcess([sys.executable, "-u", "-m", "mixscope", "node", "--url", server.ws_url, "--name", name,
                            "--role", role, "--data-dir", str(tmp_path / "nodes"), "--join-token", server.join_token,
                            *extra])

    nodes = [node(f"trustee-{i}", "trustee") for i in (1, 2, 3)]
    nodes += [node("mixer-cheat", "mixer", "--cheat", "replace"), node("mixer-honest", "mixer")]
    try:
        for n in nodes:
            n.wait_for("welcomed", timeout=30)
        choices = ["a", "c", "c", "b", "c", "a", "b"]
        held = generate(len(choices))
        eid = server.call("election.create", {"question": "Q?", "candidates": ["a", "b", "c"], "threshold": 2,
                                               "trustees": 3, "mixers": 2, "credentials": [c.voter_id for c in held]}
                          ).result(10)["election_id"]
        server.call("election.keygen", {"election_id": eid}).result(60)
        for credential, choice in zip(held, choices):
            cast_vote(server.url, eid, credential, choice)
        server.call("election.close", {"election_id": eid}).result(30)
        server.call("election.mix", {"election_id": eid}).result(120)
        stages = server.board.mix_stages(eid)
        by_mixer = {s.mixer: s for s in stages}
        assert by_mixer["mixer-cheat"].status == "rejected" and by_mixer["mixer-honest"].status == "accepted"
        server.call("election.decrypt", {"election_id": eid}).result(120)
        assert server.board.get_election(eid).state == "tallied"
        result = server.board.result(eid)
        counts = dict(zip(["a", "b", "c"], result["counts"]))
        assert counts == {"a": 2, "b": 2, "c": 3}
        # the two trustees asked first checked each stage as it arrived: the cheat's failed their own check, the
        # honest one extended the chain, and the decrypt request needed no more (no unchecked_cascade)
        for trustee in nodes[:2]:
            events = [
                (line.get("event"), line.get("type") or line.get("ref"), line.get("reason")) for line in trustee.lines
            ]
            assert ("request_failed", "cascade.stage", "refused_cascade") in events
            assert ("replied", "cascade.checked", None) in events
            assert ("replied", "decrypt.response", None) in events
            assert not any(kind == "request_failed" and ref == "decrypt.request" for kind, ref, _ in events)
    finally:
        for n in nodes:
            n.terminate()
            for stream in (n.proc.stdout, n.proc.stderr):
                stream.close()

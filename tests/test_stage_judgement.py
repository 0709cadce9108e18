"""The judgement of a mix stage (mixnet/stages.py) in one pass: an accepted stage has each output decoded once,
in the proof's product of powers, and every other stage gets exactly the verdict, reason and outputs that the
two-pass judgement (read and validate the outputs, then check the proof) gives, on both backends."""

import pytest

from mixscope.mixnet import elgamal, group, shuffle, stages
from mixscope.mixnet.elgamal import Ciphertext

ELECTION, STAGE, CONTEXT = "e-judge", 0, b"judge-context"
N = 6


@pytest.fixture(scope="module")
def honest():
    """(public key, inputs JSON, inputs, an honest response) for a stage of N ciphertexts."""
    public = group.base_mul(group.random_scalar())
    inputs = [elgamal.encrypt(public, elgamal.encode_choice(i % 3)) for i in range(N)]
    outputs, proof = shuffle.shuffle_and_prove(public, inputs, CONTEXT)
    return public, [ct.to_json() for ct in inputs], inputs, _response(inputs, [ct.to_json() for ct in outputs],
                                                                          proof.to_json())


def _response(inputs, outputs_json, proof_json):
    inputs_json = [ct.to_json() for ct in inputs]
    return {"type": stages.RESPONSE_TYPE, "election_id": ELECTION, "stage": STAGE,
            "input_hash": stages.list_hash(inputs_json), "outputs": outputs_json, "proof": proof_json,
            "list_hash": stages.list_hash(outputs_json), "signed": {}}


def _judge(case, response):
    public, inputs_json, inputs, _ = case
    return stages.judge(response, election_id=ELECTION, stage=STAGE, inputs_json=inputs_json, inputs=inputs,
                        public_key=public, context=CONTEXT)


def _two_pass(case, response, monkeypatch):
    """The judgement without the one-pass path: what `judge` always gave."""
    with monkeypatch.context() as patched:
        patched.setattr(stages, "_accepted_outputs", lambda *args: (None, False))
        return _judge(case, response)


def _with_output(response, position, half, value):
    outputs = [list(ct) for ct in response["outputs"]]
    outputs[position][half] = value
    return {**response, "outputs": outputs, "list_hash": stages.list_hash(outputs)}


def _with_proof(response, field, value):
    return {**response, "proof": {**response["proof"], field: value}}


def _tampered(case):
    """Every way a stage can go wrong around the outputs' decoding and the proof."""
    response = case[3]
    a0 = response["outputs"][0][0]
    top_bit = (bytes.fromhex(a0)[:31] + bytes([bytes.fromhex(a0)[31] | 0x80])).hex()
    p = 2**255 - 19
    s_plus_p = (int.from_bytes(bytes.fromhex(a0), "little") + p)
    non_canonical = s_plus_p.to_bytes(32, "little").hex() if s_plus_p < 2**255 else None
    not_a_point = next(x.to_bytes(32, "little").hex() for x in range(2, 1000, 2)
                       if not group._sodium_valid(x.to_bytes(32, "little")))
    other = group.base_mul(group.random_scalar()).hex()
    cases = {
        "output with its top bit set": _with_output(response, 0, 0, top_bit),
        "output that is no point": _with_output(response, 1, 1, not_a_point),
        "output changed to another point": _with_output(response, 2, 1, other),
        "output in capitals": _with_output(response, 0, 1, response["outputs"][0][1].upper()),
        "output equals an input": _with_output(_with_output(response, 3, 0, case[1][0][0]), 3, 1, case[1][0][1]),
        "outputs swapped": {**response, "outputs": [response["outputs"][1], response["outputs"][0],
                                                    *response["outputs"][2:]],
                            "list_hash": stages.list_hash([response["outputs"][1], response["outputs"][0],
                                                           *response["outputs"][2:]])},
        "list_hash wrong": {**response, "list_hash": "00" * 32},
        "one output short": {**response, "outputs": response["outputs"][:-1],
                             "list_hash": stages.list_hash(response["outputs"][:-1])},
        "commitment that is no point": _with_proof(response, "commitments",
                                                   [not_a_point, *response["proof"]["commitments"][1:]]),
        "chain element with its top bit set": _with_proof(
            response, "chain", [(bytes.fromhex(response["proof"]["chain"][0])[:31]
                                 + bytes([bytes.fromhex(response["proof"]["chain"][0])[31] | 0x80])).hex(),
                                *response["proof"]["chain"][1:]]),
        "t1 changed": _with_proof(response, "t1", other),
        "s_hat changed": _with_proof(response, "s_hat", [group.scalar_hex(5), *response["proof"]["s_hat"][1:]]),
        "proof field missing": {**response, "proof": {k: v for k, v in response["proof"].items() if k != "t3"}},
        "wrong stage index": {**response, "stage": STAGE + 1},
    }
    if non_canonical is not None:
        cases["output not canonical"] = _with_output(response, 0, 0, non_canonical)
    return cases


def test_an_honest_stage_is_accepted_with_its_outputs_decoded_once(honest, backend, monkeypatch):
    calls = []
    real = stages.decode_list
    monkeypatch.setattr(stages, "decode_list", lambda *args, **kw: calls.append(args[1]) or real(*args, **kw))
    verdict = _judge(honest, honest[3])
    assert verdict.rejected_as is None and verdict.reason == "proof verifies"
    assert calls == []  # not read and validated apart from the proof's product
    assert verdict.outputs == [Ciphertext.from_json(ct) for ct in honest[3]["outputs"]]
    assert verdict == _two_pass(honest, honest[3], monkeypatch)


def test_every_faulty_stage_gets_the_two_pass_verdict(honest, backend, monkeypatch):
    for name, response in _tampered(honest).items():
        one_pass, two_pass = _judge(honest, response), _two_pass(honest, response, monkeypatch)
        assert one_pass == two_pass, name
        assert one_pass.rejected_as is not None, name


def test_a_failing_proof_is_combined_once_then_checked_exactly(honest, backend, monkeypatch):
    calls = []
    real = shuffle._all_checks_hold
    monkeypatch.setattr(shuffle, "_all_checks_hold", lambda *args: calls.append(1) or real(*args))
    verdict = _judge(honest, _tampered(honest)["t1 changed"])
    assert verdict.rejected_as == stages.PROOF_FAILS
    assert verdict.reason.startswith("t1 check failed")
    assert len(calls) == 1


def test_a_stage_whose_proof_holds_but_passes_a_ballot_through_is_not_rerandomised(honest, backend, monkeypatch):
    """A mixer can prove a shuffle honestly with zero randomness for one ballot: the proof holds, and only the
    check that no output repeats an input stops the stage. The one-pass path makes that check itself (its proof
    would let the stage through), so the class is the two-pass one."""
    public, _, inputs, _ = honest
    perm, rand = shuffle._random_permutation(N), shuffle._random_scalars(N)
    rand[0] = 0
    outputs = [inputs[perm[0]], *(elgamal.reencrypt(public, inputs[perm[i]], rand[i]) for i in range(1, N))]
    proof = shuffle.prove(public, inputs, outputs, shuffle.ShuffleWitness(perm, rand), CONTEXT)
    assert shuffle.holds(public, inputs, outputs, proof, CONTEXT)
    response = _response(inputs, [ct.to_json() for ct in outputs], proof.to_json())
    verdict = _judge(honest, response)
    assert verdict.rejected_as == stages.NOT_RERANDOMISED and verdict.reason == "output 0 equals an input ciphertext"
    assert verdict == _two_pass(honest, response, monkeypatch)

"""A whole election in one process: trustees, voters, a mix cascade with optional cheaters, decryption.

Every party runs in-process but only through the public artefacts a real deployment would exchange, and
the bulletin board (this function) checks each artefact before it is recorded, exactly as the server does:
ballots must verify, a stage whose proof fails is recorded as rejected with its reason and the cascade
continues from the last accepted list, decryption shares must verify. Tests and the demo use it.

Cheating modes for a mixer (it proves its honest shuffle, then publishes a different list):
  'drop'      – leaves out the last output
  'replace'   – replaces the first output by its own encryption of candidate 0
  'swap'      – exchanges the first two outputs
  'duplicate' – overwrites the second output with a copy of the first
and, for the other rejection classes (mixnet/stages.py):
  'wrong_stage' – labels its (honest) response with the next stage's index        (malformed)
  'identity'    – returns an output equal to one of its inputs                    (not_rerandomised)
  'silent'      – never answers                                                   (no_answer)

Every node (trustee, mixer) has its own Ed25519 key and signs what it contributes, as nodes do over the wire.
"""

from __future__ import annotations

import secrets
from typing import Any, Callable, Sequence

from mixscope.mixnet import credentials, elgamal, group, proofs, shuffle, stages, submission, tally
from mixscope.mixnet import trustees as dkg  # the parameter `trustees` is the count
from mixscope.mixnet.record import RecordBuilder, make_manifest, manifest_hash, partial_of

CHEATS = ("drop", "replace", "swap", "duplicate", "wrong_stage", "identity", "silent")
_AFTER_PROOF = ("drop", "replace", "swap", "duplicate")


class _Node:
    """An in-process node's signing identity."""

    def __init__(self, name: str, role: str):
        self.name, self.role = name, role
        self._seed = secrets.token_bytes(32)
        self.key = group.ed25519_sign(self._seed, b"")[0].hex()
        self._seq = 0

    def sign(self, message: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        return submission.sign(message, self._seed, self._seq)


def _cheat(mode: str, public_key: bytes, outputs: list[Any]) -> list[Any]:
    outputs = list(outputs)
    if mode == "drop":
        return outputs[:-1]
    if mode == "replace":
        outputs[0] = elgamal.encrypt(public_key, elgamal.encode_choice(0))
        return outputs
    if mode == "swap":
        outputs[0], outputs[1] = outputs[1], outputs[0]
        return outputs
    if mode == "duplicate":
        outputs[1] = outputs[0]
        return outputs
    raise ValueError(f"unknown cheat {mode!r}; choose from {', '.join(CHEATS)}")


def open_record(builder: Any, election_id: str, question: str, names: Sequence[str], threshold: int,
                trustee_nodes: Sequence[_Node], mixer_nodes: Sequence[_Node], tally: str = "mixnet",
                ) -> tuple[list[Any], list[Any], bytes, bytes]:
    """The opening of a record, the same in both tally modes: the manifest (with a fresh nonce) and each listed
    node taking its seat by signing it, then the key ceremony with every dealing signed by its trustee. Returns
    the trustees' parties, their dealings, the public key and the election's proof context."""
    nonce = secrets.token_hex(32)
    manifest = make_manifest(election_id, question, names, threshold, len(trustee_nodes), len(mixer_nodes), nonce,
                             [{"index": i, "name": n.name, "key": n.key} for i, n in enumerate(trustee_nodes, 1)],
                             [{"name": n.name, "key": n.key} for n in mixer_nodes], tally=tally)
    builder.set_manifest(manifest)
    for node in [*trustee_nodes, *mixer_nodes]:
        builder.add_seat(node.sign({"type": "seat", "election_id": election_id,
                                    "manifest_hash": manifest_hash(manifest)}))
    context = proofs.election_context(election_id, bytes.fromhex(nonce))
    parties, dealings, public_key = dkg.run_key_generation(threshold, len(trustee_nodes), context,
                                                           dkg.labels_digest(question, names))
    for node, dealing in zip(trustee_nodes, dealings):
        builder.add_dealing(node.sign({"type": "keygen.commitment", "election_id": election_id, "shares": {},
                                       **dealing.to_json()}))
    builder.set_public_key(public_key)
    return parties, dealings, public_key, context


def decrypt_into(builder: Any, election_id: str, ciphertexts: Sequence[Any], parties: Sequence[Any],
                 dealings: Sequence[Any], trustee_nodes: Sequence[_Node], context: bytes,
                 decrypting: Sequence[int] | None) -> list[Any]:
    """Each chosen trustee's (`decrypting`: 1-based indices, default all) share of `ciphertexts`, signed by its
    node, checked and added to the record; the shares, to combine."""
    partials = []
    for party in [p for p in parties if decrypting is None or p.index in decrypting]:
        partial = party.partial_decrypt(ciphertexts)
        message = trustee_nodes[party.index - 1].sign({
            "type": "decrypt.response", "election_id": election_id, "index": party.index,
            "partials": [f.hex() for f in partial.factors], "proof": partial.proof.to_json()})
        dkg.verify_partial(dkg.verification_key(dealings, party.index), ciphertexts, partial_of(message), context)
        builder.add_partial(message)
        partials.append(partial)
    return partials


def run_election(
    voters: Sequence[int | None],
    candidates: int | Sequence[str],
    threshold: int,
    trustees: int,
    mixers: int | Sequence[str],
    cheat: dict[int, str] | None = None,
    *,
    election_id: str | None = None,
    question: str = "Which candidate?",
    decrypting: Sequence[int] | None = None,
    map_fn: Callable[..., Any] = map,
) -> dict[str, Any]:
    """Run an election where voter i chooses `voters[i]`; return its record (see docs/verifier.md).

    A choice of None casts an invalid ballot: encode_choice(K), a candidate that does not exist, encrypted
    with a valid proof of randomness; the board accepts it and the tally counts it as invalid.

    `mixers` is a count or a list of names; `cheat` maps a mixer's 0-based position to a cheating mode;
    `decrypting` lists the trustee indices (1-based) that publish shares (default: all of them)."""
    names = [f"candidate {i}" for i in range(candidates)] if isinstance(candidates, int) else list(candidates)
    mixer_names = [f"mixer-{k + 1}" for k in range(mixers)] if isinstance(mixers, int) else list(mixers)
    cheat = dict(cheat or {})
    for k, mode in cheat.items():
        if mode not in CHEATS:
            raise ValueError(f"unknown cheat {mode!r}; choose from {', '.join(CHEATS)}")
        if mode in ("swap", "duplicate") and len(voters) < 2:
            raise ValueError(f"cheat {mode!r} needs at least two ballots")
    election_id = election_id or f"sim-{secrets.token_hex(8)}"
    builder = RecordBuilder(election_id, question, names, threshold, trustees)
    trustee_nodes = [_Node(f"trustee-{i}", "trustee") for i in range(1, trustees + 1)]
    mixer_nodes = [_Node(name, "mixer") for name in mixer_names]
    for node in trustee_nodes + mixer_nodes:
        builder.add_node(node.key, node.name, node.role)

    parties, dealings, public_key, election_context = open_record(builder, election_id, question, names, threshold,
                                                                  trustee_nodes, mixer_nodes)

    # Credentials: one per voter, made by the credential authority; the board sees only the public ones.
    voter_credentials = credentials.generate(len(voters)) if voters else []
    builder.set_credentials(sorted(c.voter_id for c in voter_credentials))

    # Voting: the board accepts only ballots whose signature and proof verify.
    for credential, choice in zip(voter_credentials, voters):
        if choice is None:
            ballot = credentials.seal(credential, public_key, election_id, elgamal.encode_choice(len(names)))
        else:
            ballot = credentials.cast(credential, public_key, election_id, len(names), choice)
        credentials.verify(public_key, election_id, credential.voter_id, ballot)
        builder.add_ballot(credential.voter_id, ballot)

    # Mixing: each stage is judged (mixnet/stages.py) before its outputs may feed the next one.
    for k, node in enumerate(mixer_nodes):
        inputs_json, inputs = builder.mix_input_json(), builder.mix_input()
        context = builder.next_stage_context(node.key)
        stage_cheat = cheat.get(k)
        response = None
        if stage_cheat != "silent":
            outputs, proof = shuffle.shuffle_and_prove(public_key, inputs, context, map_fn=map_fn)
            if stage_cheat in _AFTER_PROOF:
                outputs = _cheat(stage_cheat, public_key, outputs)
            elif stage_cheat == "identity":
                outputs = [inputs[0], *outputs[1:]]
            outputs_json = [ct.to_json() for ct in outputs]
            response = node.sign({"type": "mix.response", "election_id": election_id,
                                  "stage": len(builder.stages) + (stage_cheat == "wrong_stage"),
                                  "input_hash": stages.list_hash(inputs_json), "outputs": outputs_json,
                                  "proof": proof.to_json(), "list_hash": stages.list_hash(outputs_json)})
        verdict = stages.judge(response, election_id=election_id, stage=len(builder.stages), inputs_json=inputs_json,
                               inputs=inputs, public_key=public_key, context=context, map_fn=map_fn)
        builder.add_stage(node.key, response, verdict.rejected_as,
                          None if verdict.rejected_as is None else verdict.reason)

    # Decryption of the last accepted list by the chosen trustees, each share checked.
    final = builder.mix_input()
    partials = decrypt_into(builder, election_id, final, parties, dealings, trustee_nodes, election_context,
                            decrypting)
    plaintexts = tally.decode_choices(dkg.combine(final, partials, threshold), len(names))
    result = tally.count_result(plaintexts, len(names))
    builder.set_result(plaintexts, result["counts"], result["invalid"])
    return builder.to_json()

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
"""

from __future__ import annotations

import secrets
from typing import Sequence

from mixnet import ballots, elgamal, proofs, shuffle, tally
from mixnet import trustees as dkg  # the parameter `trustees` is the count
from mixnet.errors import ProofError
from mixnet.record import RecordBuilder

CHEATS = ("drop", "replace", "swap", "duplicate")


def _cheat(mode: str, public_key: bytes, outputs: list) -> list:
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
    map_fn=map,
) -> dict:
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

    # Key ceremony.
    parties, dealings, public_key = dkg.run_key_generation(threshold, trustees, proofs.election_context(election_id),
                                                           dkg.labels_digest(question, names))
    for dealing in dealings:
        builder.add_dealing(dealing)
    builder.set_public_key(public_key)

    # Voting: the board accepts only ballots whose proofs verify.
    for i, choice in enumerate(voters):
        voter_id = f"voter-{i + 1}"
        if choice is None:
            ballot = ballots.seal(public_key, election_id, voter_id, elgamal.encode_choice(len(names)))
        else:
            ballot = ballots.cast(public_key, election_id, voter_id, len(names), choice)
        ballots.verify_ballot(public_key, election_id, voter_id, ballot)
        builder.add_ballot(voter_id, ballot)

    # Mixing: each stage is checked before its outputs may feed the next one.
    for k, mixer in enumerate(mixer_names):
        inputs = builder.mix_input()
        context = builder.next_stage_context(mixer)
        outputs, proof = shuffle.shuffle_and_prove(public_key, inputs, context, map_fn=map_fn)
        if k in cheat:
            outputs = _cheat(cheat[k], public_key, outputs)
        try:
            shuffle.verify(public_key, inputs, outputs, proof, context, map_fn=map_fn)
            reason = None
        except (ProofError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
        builder.add_stage(mixer, outputs, proof.to_json(), reason)

    # Decryption of the last accepted list by the chosen trustees, each share checked.
    final = builder.mix_input()
    chosen = [p for p in parties if decrypting is None or p.index in decrypting]
    partials = []
    election_context = proofs.election_context(election_id)
    for party in chosen:
        partial = party.partial_decrypt(final)
        dkg.verify_partial(dkg.verification_key(dealings, party.index), final, partial, election_context)
        builder.add_partial(partial)
        partials.append(partial)
    plaintexts = tally.decode_choices(dkg.combine(final, partials, threshold), len(names))
    result = tally.count_result(plaintexts, len(names))
    builder.set_result(plaintexts, result["counts"], result["invalid"])
    return builder.to_json()

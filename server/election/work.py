"""The election's heavy work, as plain functions over JSON-able data.

Two kinds: module-level jobs the runner's process pool runs (`combine_span`), and
drivers (`verify_stage`, `verify_partial`, `verify_record_doc`) that run on a helper thread and fan their
own kernels out over the pool through `map_fn`. Neither kind ever runs on the server's loop thread.
"""

from __future__ import annotations

from typing import Any, Callable

from mixscope.mixnet import group, proofs, shuffle, tally, verifier
from mixscope.mixnet import trustees as dkg
from mixscope.mixnet.elgamal import Ciphertext
from mixscope.mixnet.errors import ProofError

MapFn = Callable[..., Any]
PARTIAL_SPAN = 500  # ciphertexts per combine job


def _ciphertexts(value: Any, what: str) -> list[Ciphertext]:
    """Hex-decoded only: the verifier's kernels validate every element (group.from_hex), in the pool."""
    if not isinstance(value, list):
        raise ProofError(f"{what} must be a list of ciphertexts")
    try:
        return [Ciphertext.from_json(ct, validate=False) for ct in value]
    except (group.InvalidElement, TypeError, ValueError) as exc:
        raise ProofError(f"{what}: malformed ciphertext ({exc})") from None


def verify_stage(
    public_key: str, inputs: list, outputs: Any, proof: Any, context: bytes, map_fn: MapFn = map
) -> str | None:
    """None if the stage's proof of shuffle holds, else the reason it is rejected."""
    try:
        parsed_in = _ciphertexts(inputs, "inputs")
        parsed_out = _ciphertexts(outputs, "outputs")
        if len(parsed_out) != len(parsed_in):
            raise ProofError(f"{len(parsed_out)} outputs for {len(parsed_in)} inputs")
        parsed_proof = shuffle.ShuffleProof.from_json(proof, validate=False)
        shuffle.verify(bytes.fromhex(public_key), parsed_in, parsed_out, parsed_proof, context, map_fn=map_fn)
    except (ProofError, ValueError, TypeError, KeyError) as exc:
        return str(exc) or type(exc).__name__
    return None


def verify_partial(election_id: str, verification_key: str, ciphertexts: list, partial: dict,
                   map_fn: MapFn = map, nonce: bytes = b"") -> str | None:
    """None if this partial decryption's batched proof covers every factor, else why not. The factors are
    decoded and folded by span jobs on `map_fn`, not here."""
    try:
        parsed = dkg.PartialDecryption.from_json(partial, validate=False)
        first_parts = [bytes.fromhex(ct[0]) for ct in ciphertexts]  # the final list: validated when mixed
        dkg.verify_factors(bytes.fromhex(verification_key), first_parts, parsed,
                           proofs.election_context(election_id, nonce),
                           map_fn)
    except ProofError as exc:
        return str(exc)
    return None


def combine_span(job: tuple) -> list[int | None]:
    """Pool job: the choices (None: invalid) of one span of the final list, from t verified trustees' factors for
    that span (no proofs: they were checked already, and pickling them would cost the server more than the work)."""
    ciphertexts, factors_by_trustee, candidates = job
    # Both were validated already (the list when its stage was verified, the factors by the batched proof's
    # span jobs), so they are only hex-decoded here.
    cts = [Ciphertext.from_json(ct, validate=False) for ct in ciphertexts]
    factors = {int(j): [group.from_hex(f) for f in fs] for j, fs in factors_by_trustee.items()}
    return tally.decode_choices(dkg.combine_factors(cts, factors), candidates)


def combine_and_count(final: list, partials: list[dict], threshold: int, candidates: int,
                      map_fn: MapFn = map) -> dict[str, Any]:
    """Plaintexts (None for an invalid vote), counts and the number invalid from the first t distinct
    verified partial decryptions, spans over `map_fn`."""
    chosen: dict[int, list] = {}
    for partial in partials:
        if partial["trustee"] not in chosen and len(chosen) < threshold:
            if len(partial["factors"]) != len(final):
                raise ValueError(f"trustee {partial['trustee']} decrypted {len(partial['factors'])} of {len(final)}")
            chosen[partial["trustee"]] = partial["factors"]
    if len(chosen) < threshold:
        raise dkg.NotEnoughShares(f"{len(chosen)} trustees decrypted, {threshold} needed")
    jobs = [(final[lo:lo + PARTIAL_SPAN], {j: fs[lo:lo + PARTIAL_SPAN] for j, fs in chosen.items()}, candidates)
            for lo in range(0, len(final), PARTIAL_SPAN)]
    plaintexts = [choice for span in map_fn(combine_span, jobs) for choice in span]
    return {"plaintexts": plaintexts, **tally.count_result(plaintexts, candidates)}


def verify_record_doc(doc: dict, map_fn: MapFn = map, proofs_checked_on_arrival: bool = False) -> dict[str, Any]:
    checks = verifier.verify_record(doc, map_fn=map_fn, proofs_checked_on_arrival=proofs_checked_on_arrival)
    return {"ok": verifier.all_passed(checks), "checks": [c._asdict() for c in checks]}

"""What a trustee checks before it decrypts (docs/protocol.md, Decryption): that the list it is given is the end
of the signed cascade. The cascade starts from the cast ballots; every accepted stage must be a mix.response
signed by a mixer the election manifest lists, judged accepted exactly as the server and the verifier judge it
(mixnet/stages.py: the right statement, every output re-randomised, a verifying proof of shuffle); and there
must be at least one. Pure: the trustee node calls `check_cascade` with its own pool as `map_fn`.
"""

from __future__ import annotations

from typing import Any, Callable

from mixnet import stages, submission
from mixnet.record import manifest_hash, mix_context


class CascadeRefused(ValueError):
    """The list is not the end of a signed cascade from the cast ballots; the message says why."""


def check_cascade(election_id: str, cascade: Any, ciphertexts: list, public_key: bytes, signed_manifest: str,
                  map_fn: Callable = map, check_proofs: bool = True) -> int:
    """Raise CascadeRefused unless `ciphertexts` ends the signed cascade; return the number of accepted stages.

    `cascade` = {"manifest": the election manifest, "cast": the cast ciphertexts, "stages": [the accepted
    stages' signed mix.response messages, in order]}; `signed_manifest` the manifest hash this trustee signed
    when it took its seat. check_proofs=False leaves the proofs of shuffle to the server's check on arrival
    (a lab's shortcut: every other check still runs)."""
    if not isinstance(cascade, dict) or set(cascade) != {"manifest", "cast", "stages"}:
        raise CascadeRefused("the request carries no cascade {manifest, cast, stages}")
    manifest, current, accepted = cascade["manifest"], cascade["cast"], cascade["stages"]
    try:
        if manifest_hash(manifest) != signed_manifest:
            raise CascadeRefused("the manifest is not the one this trustee signed")
    except submission.SubmissionError as exc:
        raise CascadeRefused(f"the manifest cannot be hashed: {exc}") from None
    listed = {m["key"]: m["name"] for m in manifest["listed_mixers"]}
    nonce = bytes.fromhex(manifest["nonce"])
    if not isinstance(current, list) or not isinstance(accepted, list) or not accepted:
        raise CascadeRefused("no accepted mix stage: decrypting would link votes to voters")
    try:
        decoded = stages.decode_list(current, "cast ciphertexts", map_fn)
    except ValueError as exc:
        raise CascadeRefused(str(exc)) from None
    for response in accepted:
        try:
            key = submission.verify(response)
        except submission.SubmissionError as exc:
            raise CascadeRefused(f"an accepted stage's signature: {exc}") from None
        if key not in listed:
            raise CascadeRefused(f"an accepted stage is signed by {key[:16]}…, a mixer the manifest does not list")
        position = response.get("stage")
        if type(position) is not int:
            raise CascadeRefused("an accepted stage has no stage index")
        verdict = stages.judge(response, election_id=election_id, stage=position, inputs_json=current, inputs=decoded,
                               public_key=public_key, context=mix_context(election_id, position, key, nonce),
                               map_fn=map_fn, check_proof=check_proofs)
        if verdict.rejected_as is not None:
            raise CascadeRefused(f"stage {position} by {listed[key]} is {verdict.rejected_as}: {verdict.reason}")
        current, decoded = response["outputs"], verdict.outputs
    if ciphertexts != current:
        raise CascadeRefused("the list to decrypt is not the last accepted stage's outputs")
    cast = {tuple(ct) for ct in cascade["cast"]}
    if any(tuple(ct) in cast for ct in current):
        raise CascadeRefused("the list to decrypt shares a ciphertext with the cast ballots")
    return len(accepted)


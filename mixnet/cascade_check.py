"""What a trustee checks before it decrypts (docs/protocol.md, Decryption): that the list it is given is the end
of the signed cascade. The cascade starts from the cast ballots; every accepted stage must be a mix.response
signed by a mixer the election manifest lists, judged accepted exactly as the server and the verifier judge it
(mixnet/stages.py: the right statement, every output re-randomised, a verifying proof of shuffle); and there
must be at least one. Pure: the trustee node calls `check_cascade` with its own pool as `map_fn`.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from mixscope.mixnet import stages, submission
from mixscope.mixnet.record import manifest_hash, mix_context


class CascadeRefused(ValueError):
    """The list is not the end of a signed cascade from the cast ballots; the message says why."""


def check_cascade(election_id: str, cascade: Any, ciphertexts: list[Any], public_key: bytes, signed_manifest: str,
                  map_fn: Callable[..., Any] = map, check_proofs: bool = True) -> int:
    """Raise CascadeRefused unless `ciphertexts` ends the signed cascade; return the number of accepted stages.

    `cascade` = {"manifest": the election manifest, "cast": the cast ciphertexts, "stages": [the accepted
    stages' signed mix.response messages, in order]}; `signed_manifest` the manifest hash this trustee signed
    when it took its seat. check_proofs=False leaves the proofs of shuffle to the server's check on arrival
    (a lab's shortcut: every other check still runs)."""
    if not isinstance(cascade, dict) or set(cascade) != {"manifest", "cast", "stages"}:
        raise CascadeRefused("the request carries no cascade {manifest, cast, stages}")
    accepted = cascade["stages"]
    if not isinstance(accepted, list):
        raise CascadeRefused("no accepted mix stage: decrypting would link votes to voters")
    chain = CascadeChain(election_id, cascade["manifest"], cascade["cast"], public_key, signed_manifest, map_fn,
                         check_proofs)
    for response in accepted:
        chain.add(response)
    chain.ends_in(ciphertexts)
    return chain.stages


class CascadeChain:
    """A signed cascade checked one accepted stage at a time: a trustee can check each stage as the server
    forwards it during the mix, and at decryption only compare the list it is asked to decrypt with the end
    of the chain it checked itself (`ends_in`). Each stage must chain from the previous one's outputs."""

    def __init__(self, election_id: str, manifest: Any, cast: Any, public_key: bytes, signed_manifest: str,
                 map_fn: Callable[..., Any] = map, check_proofs: bool = True) -> None:
        try:
            if not isinstance(manifest, dict) or manifest_hash(manifest) != signed_manifest:
                raise CascadeRefused("the manifest is not the one this trustee signed")
        except submission.SubmissionError as exc:
            raise CascadeRefused(f"the manifest cannot be hashed: {exc}") from None
        if not isinstance(cast, list):
            raise CascadeRefused("the cascade carries no cast ciphertexts")
        self.election_id, self.public_key, self.map_fn, self.check_proofs = (
            election_id,
            public_key,
            map_fn,
            check_proofs,
        )
        self.listed = {m["key"]: m["name"] for m in manifest["listed_mixers"]}
        self.nonce = bytes.fromhex(manifest["nonce"])
        self.cast = cast
        try:
            self.decoded = stages.decode_list(cast, "cast ciphertexts", map_fn)
        except ValueError as exc:
            raise CascadeRefused(str(exc)) from None
        self.current, self.stages = cast, 0
        self.current_hash = stages.list_hash(cast)  # the end of the chain, hashed once

    def add(self, response: Any) -> None:
        """Check one accepted stage's signed response against the end of the chain, then extend the chain."""
        if not isinstance(response, dict):
            raise CascadeRefused("an accepted stage is not a signed response")
        try:
            key = submission.verify(response)
        except submission.SubmissionError as exc:
            raise CascadeRefused(f"an accepted stage's signature: {exc}") from None
        if key not in self.listed:
            raise CascadeRefused(f"an accepted stage is signed by {key[:16]}…, a mixer the manifest does not list")
        position = response.get("stage")
        if type(position) is not int:
            raise CascadeRefused("an accepted stage has no stage index")
        verdict = stages.judge(response, election_id=self.election_id, stage=position, inputs_json=self.current,
                               inputs=self.decoded, public_key=self.public_key,
                               context=mix_context(self.election_id, position, key, self.nonce),
                               map_fn=self.map_fn, check_proof=self.check_proofs, inputs_hash=self.current_hash)
        if verdict.rejected_as is not None:
            raise CascadeRefused(f"stage {position} by {self.listed[key]} is {verdict.rejected_as}: {verdict.reason}")
        assert verdict.outputs is not None  # an accepted stage always carries its decoded outputs
        self.current, self.decoded = response["outputs"], verdict.outputs
        self.current_hash = response["list_hash"]  # the judgement checked it is the outputs' hash
        self.stages += 1

    def extended(self, response: Any) -> "CascadeChain":
        """A new chain: this one and one more accepted stage (this one is left as it was)."""
        longer = copy.copy(self)
        longer.add(response)
        return longer

    def ends_in(self, ciphertexts: list[Any]) -> None:
        """Raise CascadeRefused unless `ciphertexts` is the end of this chain, after at least one stage."""
        if not self.stages:
            raise CascadeRefused("no accepted mix stage: decrypting would link votes to voters")
        if ciphertexts != self.current:
            raise CascadeRefused("the list to decrypt is not the last accepted stage's outputs")
        cast = {tuple(ct) for ct in self.cast}
        if any(tuple(ct) in cast for ct in self.current):
            raise CascadeRefused("the list to decrypt shares a ciphertext with the cast ballots")

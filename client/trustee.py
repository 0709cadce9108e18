"""The trustee role: the key ceremony and proven partial decryption (docs/protocol.md).

keygen.request  -> deal a fresh polynomial (mixnet.trustees.Trustee) and seal each share s_ij to trustee j's
                   Ed25519 key converted to Curve25519 (libsodium sealed box); reply keygen.commitment.
keygen.shares   -> open our shares, check each against its dealer's commitments (and the dealer's proof
                   when the server forwards whole dealings {index, commitments, proof}; a bare commitment
                   list is accepted too), keep x_j in <data-dir>/trustee-<name>-<election_id>.json (0600);
                   reply keygen.done {verification_key, public_key} or keygen.complaint {against, reason}.
decrypt.request -> D_j = x_j·a per ciphertext with one batched Chaum–Pedersen proof; reply decrypt.response.

A sealed share's plaintext names the election, dealer and recipient, so the server cannot replay it
elsewhere. A trustee decrypts one list per election (repeats of that list are fine): otherwise a server
could ask it to decrypt single ballots before they are mixed.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing

from mixscope.client.identity import IdentityError, check_name, ensure_private_dir, read_private, replace_private
from mixscope.client.mixer import RequestError, decode_ciphertexts
from mixscope.mixnet import group, homomorphic, proofs, trustees
from mixscope.mixnet.cascade_check import CascadeChain, CascadeRefused, check_cascade
from mixscope.mixnet.errors import ProofError

MAX_CHAINS = 64  # checked lists kept per election (each stage attempt adds one)


def share_path(data_dir: str | os.PathLike[str] | None, name: str, election_id: str) -> Path:
    if not isinstance(election_id, str) or not election_id.replace("-", "").replace("_", "").isalnum() \
            or len(election_id) > 64:
        raise RequestError("election_id must be 1-64 letters, digits, '-' or '_'")
    return ensure_private_dir(data_dir) / f"trustee-{check_name(name)}-{election_id}.json"


def seal_share(recipient_ed25519_hex: str, election_id: str, dealer: int, recipient: int, share: int) -> str:
    try:
        curve = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(bytes.fromhex(recipient_ed25519_hex))
    except (ValueError, TypeError, nacl.exceptions.RuntimeError) as exc:
        raise RequestError(f"trustee {recipient} public key is not a usable Ed25519 key: {exc}") from None
    plain = json.dumps({"election_id": election_id, "from": dealer, "to": recipient, "share": group.scalar_hex(share)},
                       sort_keys=True).encode()
    return nacl.public.SealedBox(nacl.public.PublicKey(curve)).encrypt(plain).hex()


def open_share(box: nacl.public.SealedBox, sealed: Any, election_id: str, dealer: int, recipient: int) -> int:
    """Our share from `dealer`; ProofError (grounds for a complaint) when it cannot be opened or is not ours."""
    try:
        plain = json.loads(box.decrypt(bytes.fromhex(sealed)))
        if plain["election_id"] != election_id or plain["from"] != dealer or plain["to"] != recipient:
            raise ProofError("sealed share is addressed to another election or trustee")
        return group.decode_scalar(plain["share"])
    except (nacl.exceptions.CryptoError, ValueError, TypeError, KeyError, group.InvalidScalar):
        raise ProofError(f"share from trustee {dealer} cannot be opened") from None


@dataclass
class _Ceremony:
    request: dict[str, Any]
    trustee: trustees.Trustee
    reply: dict[str, Any]


class TrusteeRole:
    """One trustee node's ceremonies and key shares. Methods take a parsed request, return an unsigned reply."""

    def __init__(self, name: str, signing_key: nacl.signing.SigningKey, data_dir: str | os.PathLike[str] | None,
                 check_stage_proofs: bool = True):
        self.name, self.data_dir = check_name(name), data_dir
        # False (lab only, `--skip-stage-proofs`): trust the server's check of each accepted stage's proof; the
        # signatures, the listing, the chaining and each stage's statement are still checked
        self.check_stage_proofs = check_stage_proofs
        self.public_key = signing_key.verify_key.encode().hex()
        self._box = nacl.public.SealedBox(signing_key.to_curve25519_private_key())
        self._ceremonies: dict[str, _Ceremony] = {}
        self._seats: dict[str, str] = {}  # election id -> the manifest hash this trustee signed
        # election id -> the cascade this trustee checked stage by stage as the server forwarded it (cascade.stage)
        self._chains: dict[str, dict[str, CascadeChain]] = {}  # ... by the list hash each chain ends in
        self._lock = threading.Lock()

    def seated(self, election_id: str, manifest_hash: str) -> None:
        """This trustee signed that manifest: it decrypts only what ends the cascade that manifest frames."""
        with self._lock:
            self._seats[election_id] = manifest_hash

    # --- key ceremony -------------------------------------------------------------------------------------

    def keygen_request(self, request: dict[str, Any]) -> dict[str, Any]:
        election_id, index, threshold = request["election_id"], request["index"], request["threshold"]
        path = share_path(self.data_dir, self.name, election_id)
        roster = self._roster(request)
        with self._lock:
            if election_id in self._ceremonies:  # a repeated request gets the same dealing, never a second one
                return self._ceremonies[election_id].reply
            if path.exists():
                raise RequestError(f"already holds a key share for election {election_id}", "already_done")
            trustee = trustees.Trustee(index, threshold, len(roster),
                                       proofs.election_context(election_id, _nonce(request["nonce"])),
                                       _labels(request))
            dealing, shares = trustee.deal()
            sealed = {str(j): seal_share(roster[j], election_id, index, j, s) for j, s in shares.items()}
            public = dealing.to_json()
            reply = {"type": "keygen.commitment", "election_id": election_id, "index": index,
                     "commitments": public["commitments"], "proof": public["proof"], "shares": sealed}
            self._ceremonies[election_id] = _Ceremony(request, trustee, reply)
            return reply

    def _roster(self, request: dict[str, Any]) -> dict[int, str]:
        index, threshold, listed = request["index"], request["threshold"], request["trustees"]
        roster: dict[int, str] = {}
        for entry in listed:
            if not isinstance(entry, dict) or type(entry.get("index")) is not int or \
                    not isinstance(entry.get("public_key"), str):
                raise RequestError("each trustee entry needs an integer index and a public_key")
            roster[entry["index"]] = entry["public_key"]
        if sorted(roster) != list(range(1, len(listed) + 1)):
            raise RequestError("trustee indices must be exactly 1..n, once each")
        try:
            trustees.check_parameters(threshold, len(roster))
        except ValueError as exc:
            raise RequestError(str(exc)) from None
        if roster.get(index) != self.public_key:
            raise RequestError(f"trustee {index} in the request is not this node's key")
        return roster

    def keygen_shares(self, message: dict[str, Any]) -> dict[str, Any]:
        election_id = message["election_id"]
        with self._lock:
            ceremony = self._ceremonies.get(election_id)
        if ceremony is None:
            stored = self._stored(election_id)  # a repeat after we finished: same answer
            if stored is not None:
                return self._done(stored)
            raise RequestError(f"no key ceremony in progress for election {election_id}", "unknown_election")
        me, n = ceremony.trustee.index, ceremony.trustee.trustees
        commitments, sealed = message["commitments"], message["shares"]
        expected = sorted(str(i) for i in range(1, n + 1))
        if sorted(commitments) != expected or sorted(sealed) != expected:
            raise RequestError(f"keygen.shares needs commitments and shares from trustees 1..{n}")
        dealings, key_share = [], 0
        for i in range(1, n + 1):
            try:
                dealing = _dealing(i, commitments[str(i)])
                own = ceremony.trustee.dealing
                if i == me and (own is None or dealing.commitments != own.commitments):
                    raise RequestError("the server changed this trustee's own commitments", "tampered")
                trustees.verify_dealing(dealing, ceremony.trustee.threshold, ceremony.trustee.election_context,
                                        ceremony.trustee.labels)
                share = open_share(self._box, sealed[str(i)], election_id, i, me)
                trustees.verify_share(dealing, me, share)
            except ProofError as exc:
                with self._lock:
                    self._ceremonies.pop(election_id, None)
                return {"type": "keygen.complaint", "election_id": election_id, "index": me, "against": i,
                        "reason": str(exc)}
            dealings.append(dealing)
            key_share = (key_share + share) % group.ORDER
        stored = {
            "election_id": election_id, "index": me, "threshold": ceremony.trustee.threshold, "trustees": n,
            "key_share": group.scalar_hex(key_share),
            "verification_key": trustees.verification_key(dealings, me).hex(),
            "public_key": trustees.joint_public_key(dealings).hex(), "decrypted": None,
            "nonce": ceremony.request["nonce"],  # the manifest's: this trustee's decryption proofs carry it
            "manifest_hash": self._seats.get(election_id),  # the cascade it will decrypt must be framed by it
        }
        if group.base_mul(key_share).hex() != stored["verification_key"]:  # cannot happen if the checks hold
            raise RequestError("key share does not match the verification key", "internal_error")
        self._store(stored)
        with self._lock:
            self._ceremonies.pop(election_id, None)
        return self._done(stored)

    @staticmethod
    def _done(stored: dict[str, Any]) -> dict[str, Any]:
        return {"type": "keygen.done", "election_id": stored["election_id"], "index": stored["index"],
                "verification_key": stored["verification_key"], "public_key": stored["public_key"]}

    # --- decryption ---------------------------------------------------------------------------------------

    def decrypt_request(self, message: dict[str, Any], map_fn: Callable = map) -> dict[str, Any]:
        election_id = message["election_id"]
        stored = self._stored(election_id)
        if stored is None:
            raise RequestError(f"no key share for election {election_id}", "unknown_election")
        if stored["decrypted"] not in (None, message["list_hash"]):
            raise RequestError("this trustee already decrypted a different list for this election", "refused")
        if stored.get("manifest_hash") is None:
            raise RequestError("this trustee took no seat in the election's manifest", "refused_cascade")
        if message["cascade"] == {"checked": message["list_hash"]}:  # it says: you checked each stage as it came
            cts = self._checked_end(election_id, message["ciphertexts"], message["list_hash"])
        else:
            cts = decode_ciphertexts(message["ciphertexts"], message["list_hash"])
            try:  # before anything is remembered or decrypted: the list must end the signed cascade
                if _homomorphic(message["cascade"]):  # ... or be the sums of the cast ballots (mixnet/homomorphic.py)
                    homomorphic.check_decryption_request(election_id, message["cascade"], message["ciphertexts"],
                                                         group.decode(stored["public_key"]), stored["manifest_hash"],
                                                         map_fn, check_proofs=self.check_stage_proofs)
                else:
                    check_cascade(election_id, message["cascade"], message["ciphertexts"],
                                  group.decode(stored["public_key"]), stored["manifest_hash"], map_fn,
                                  check_proofs=self.check_stage_proofs)
            except (CascadeRefused, homomorphic.CascadeSums) as exc:
                raise RequestError(str(exc), "refused_cascade") from None
        if stored["decrypted"] is None:  # remember before answering: a crash must not allow a second list
            stored["decrypted"] = message["list_hash"]
            self._store(stored)
        key_share, index = group.decode_scalar(stored["key_share"]), stored["index"]
        context = proofs.election_context(election_id, _nonce(stored.get("nonce", "")))
        partial = trustees.partial_decrypt(key_share, index, [ct[0] for ct in cts], context, map_fn)
        return {"type": "decrypt.response", "election_id": election_id, "index": index,
                "partials": [f.hex() for f in partial.factors], "proof": partial.proof.to_json()}

    def cascade_stage(self, message: dict[str, Any], map_fn: Callable = map) -> dict[str, Any]:
        """Check one stage the server forwards during the mix, as it arrives: it extends the chain this trustee
        checked that ends in the stage's input list (`input_hash`); the first carries `start`, the manifest and
        the cast ciphertexts. A stage the server then rejects only leaves a branch no later stage extends."""
        election_id = message["election_id"]
        stored = self._stored(election_id)
        if stored is None or stored.get("manifest_hash") is None:
            raise RequestError(f"no key share or seat for election {election_id}", "unknown_election")
        start, response = message.get("start"), message["response"]
        with self._lock:
            chains = self._chains.setdefault(election_id, {})
        try:
            if start is not None:
                if not isinstance(start, dict) or set(start) != {"manifest", "cast"}:
                    raise CascadeRefused("start must be {manifest, cast}")
                root = CascadeChain(election_id, start["manifest"], start["cast"], group.decode(stored["public_key"]),
                                    stored["manifest_hash"], map_fn, check_proofs=self.check_stage_proofs)
                with self._lock:
                    chains.setdefault(root.current_hash, root)
            with self._lock:
                base = chains.get(response.get("input_hash"))
            if base is None:
                raise CascadeRefused("the stage's input list ends no cascade this trustee checked")
            if len(chains) >= MAX_CHAINS:
                raise CascadeRefused(f"more than {MAX_CHAINS} forwarded lists for one election")
            chain = base.extended(response)
        except CascadeRefused as exc:
            raise RequestError(str(exc), "refused_cascade") from None
        hashed = chain.current_hash
        with self._lock:
            # A stage extends the server's last accepted list: every other list checked so far (the ones before
            # it, attempts on it the server rejected) can never be extended or decrypted again. Letting them go
            # keeps two decoded lists, not one per stage attempt.
            for other in [h for h, c in chains.items() if c is not base]:
                del chains[other]
            chains[hashed] = chain
        return {"type": "cascade.checked", "election_id": election_id, "stage": chain.stages, "list_hash": hashed}

    def _checked_end(self, election_id: str, ciphertexts: list, list_hash: str) -> list:
        """The decoded list to decrypt when it ends a cascade this trustee checked stage by stage."""
        with self._lock:
            chain = self._chains.get(election_id, {}).get(list_hash)
        if chain is None or not chain.stages:
            raise RequestError("this trustee has not checked a cascade ending in this list: send it whole",
                               "unchecked_cascade")
        try:
            chain.ends_in(ciphertexts)
        except CascadeRefused as exc:
            raise RequestError(f"{exc}: send the cascade whole", "unchecked_cascade") from None
        return chain.decoded

    # --- the share file -----------------------------------------------------------------------------------

    def _store(self, stored: dict[str, Any]) -> None:
        path = share_path(self.data_dir, self.name, stored["election_id"])
        replace_private(path, json.dumps(stored, sort_keys=True).encode())

    def _stored(self, election_id: str) -> dict[str, Any] | None:
        path = share_path(self.data_dir, self.name, election_id)
        if not path.exists():
            return None
        try:
            stored = json.loads(read_private(path))
        except (IdentityError, ValueError) as exc:
            raise RequestError(f"key share file unusable: {exc}", "internal_error") from None
        return stored


def _nonce(value: str) -> bytes:
    """The election manifest's nonce (64 lowercase hex characters; empty only in a share file from before it)."""
    if value == "":
        return b""
    if not group.is_hex(value, 64):
        raise RequestError("nonce must be 64 lowercase hex characters")
    return bytes.fromhex(value)


def _labels(request: dict[str, Any]) -> bytes:
    """The question and candidate names this trustee's key proof attests (trustees.labels_digest)."""
    names = request["candidates"]
    if not names or not all(isinstance(name, str) for name in names):
        raise RequestError("candidates must be a non-empty list of names")
    return trustees.labels_digest(request["question"], names)


def _dealing(index: int, value: Any) -> trustees.Dealing:
    """A dealer's whole dealing {index, commitments, proof}: a bare commitment list (no proof of knowledge) is
    refused, since nothing would then bind the dealer to its constant term."""
    if not isinstance(value, dict):
        raise ProofError(f"trustee {index} sent no dealing with its proof of knowledge")
    dealing = trustees.Dealing.from_json({k: value[k] for k in ("index", "commitments", "proof") if k in value})
    if dealing.index != index:
        raise ProofError(f"dealing for trustee {index} names trustee {dealing.index}")
    return dealing


def _homomorphic(evidence) -> bool:
    """The request's evidence is a homomorphic election's (its manifest, checked against the signed one, says so)."""
    return isinstance(evidence, dict) and isinstance(evidence.get("manifest"), dict) and \
        evidence["manifest"].get("tally") == homomorphic.HOMOMORPHIC

"""`mixscope vote`: encrypt one choice on this machine, sign it with the voter's credential and cast it
through the server's JSON API.

The server never sees the choice or the credential's code: the ballot (ElGamal ciphertext + proof of its
randomness, signed with the credential: mixnet.credentials.cast) is made here with the election's public key,
and the server only verifies and stores it, keyed by the public credential. `BallotApi` is the small
keep-alive HTTP client the voter simulator (client/voters.py) shares.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import urllib.parse
from typing import Any

from mixscope.client.credential_file import CredentialFileError, read_private
from mixscope.client.http_api import ApiError, ServerAddress, error_of
from mixscope.mixnet import group, homomorphic
from mixscope.mixnet.credentials import Credential

TIMEOUT = 30.0
RATE_LIMIT_RETRIES, MAX_RETRY_WAIT = 5, 5.0  # a 429 (server/ratelimit.py) is waited out this often, this long


class BallotApi:
    """One keep-alive HTTP connection to a Mixscope server's JSON API. Not thread-safe: one per thread."""

    def __init__(self, base_url: str, timeout: float = TIMEOUT, cafile: str | None = None):
        """`cafile`: a CA (or the server's self-signed certificate) to trust for https, besides the system's."""
        self._server = ServerAddress(base_url, timeout, cafile)
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "BallotApi":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one request on the kept-alive connection (reconnecting once if the server dropped it)."""
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._server.connect()
            try:
                self._conn.request(method, self._server.prefix + path, body=payload, headers=headers)
                response = self._conn.getresponse()
                raw = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self.close()  # a stale keep-alive connection: retry once on a fresh one
                if attempt == 2:
                    raise ApiError(0, f"cannot reach {self._server.host}:{self._server.port}: {exc}") from None
        if response.status >= 400:
            raise error_of(response, raw)
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None

    def election(self, election_id: str) -> dict:
        return self.request("GET", f"/api/elections/{urllib.parse.quote(election_id, safe='')}")[1]

    def cast(self, election_id: str, voter_id: str, ballot: dict) -> dict:
        """POST a ballot; returns {receipt, position, ...} (201 new, 200 identical resubmission).
        Over the server's rate limit (429) it waits the Retry-After it was given and tries again, a few times."""
        path = f"/api/elections/{urllib.parse.quote(election_id, safe='')}/ballots"
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                return self.request("POST", path, {"voter_id": voter_id, "ballot": ballot})[1]
            except ApiError as exc:
                if exc.status != 429 or attempt == RATE_LIMIT_RETRIES:
                    raise
                time.sleep(min(exc.retry_after or 1.0, MAX_RETRY_WAIT))
        raise AssertionError("unreachable: the last attempt returns or raises")


def public_key_of(election: dict) -> bytes:
    key = election.get("public_key")
    if not key:
        raise ApiError(409, f"election {election.get('id')!r} has no public key yet (state {election.get('state')})")
    return group.decode(key)


def choice_index(choice: str, candidates: list[str]) -> int:
    """A 0-based index or a candidate's exact name."""
    if choice in candidates:
        return candidates.index(choice)
    if choice.isdecimal() and int(choice) < len(candidates):
        return int(choice)
    listing = ", ".join(f"{i}={name}" for i, name in enumerate(candidates))
    raise ValueError(f"choice {choice!r} is neither an index nor a candidate ({listing})")


def cast_vote(base_url: str, election_id: str, credential: Credential, choice: str, cafile: str | None = None) -> dict:
    with BallotApi(base_url, cafile=cafile) as api:
        election = api.election(election_id)
        if election.get("state") != "voting":
            raise ApiError(409, f"election {election_id!r} is {election.get('state')}, not voting")
        candidates = election["candidates"]
        index = choice_index(str(choice), candidates)
        ballot = homomorphic.cast_signed(election.get("tally", homomorphic.MIXNET), credential, public_key_of(election),
                                         election_id, len(candidates), index)
        return api.cast(election_id, credential.voter_id, ballot.to_json())


def run(args) -> int:
    try:
        _, credential = read_private(args.credential)
        receipt = cast_vote(args.server, args.election, credential, args.choice, args.cafile)
    except ApiError as exc:
        print(f"mixscope vote: refused: {exc}", file=sys.stderr)
        return 1
    except (ValueError, group.InvalidElement, CredentialFileError) as exc:
        print(f"mixscope vote: {exc}", file=sys.stderr)
        return 2
    print(f"receipt {receipt['receipt']} (position {receipt['position']})")
    return 0

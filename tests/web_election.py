"""Test support for the web tests: elections put straight onto a server's board, and tiny HTTP helpers."""

from __future__ import annotations

import http.client
import json
import secrets

from mixscope.mixnet import credentials, proofs, trustees

CANDIDATES = ["red", "green", "blue"]
QUESTION = "Which colour <for> the flag?"  # the angle brackets check HTML escaping
VOTERS = 64  # credentials on each test election's list (enough for the simulator to use its pool)

_unused: dict[str, list[credentials.Credential]] = {}  # election id -> listed credentials not yet named
_named: dict[tuple[str, str], credentials.Credential] = {}  # (election id, name) -> that voter's credential


def credential(election_id: str, name: str) -> credentials.Credential:
    """The private credential of voter `name` in a test election: the next listed one the first time."""
    key = (election_id, name)
    if key not in _named:
        _named[key] = _unused[election_id].pop()
    return _named[key]


def voter_id(election_id: str, name: str) -> str:
    """What the API calls voter `name`: their public credential."""
    return credential(election_id, name).voter_id


def signed_ballot(election_id: str, public_key: bytes, name: str, choice: int = 1, for_election: str | None = None,
                  candidates: int = len(CANDIDATES)) -> dict:
    """Voter `name`'s signed ballot (JSON) for `choice`; `for_election` casts it for another election."""
    return credentials.cast(credential(election_id, name), public_key, for_election or election_id, candidates,
                            choice).to_json()


def voting_election(board, candidates=CANDIDATES, question=QUESTION, state="voting") -> tuple[str, bytes]:
    """Create an election, run a real 2-of-3 key generation for it and move it to `state`
    ("created" / "key_ceremony" stop before a key exists), with VOTERS listed credentials (credential() hands
    them out by name). Returns (election id, public key)."""
    election_id = "e" + secrets.token_urlsafe(6)  # board ids must start with a letter or digit
    listed = credentials.generate(VOTERS)
    _unused[election_id] = list(listed)
    board.create_election(election_id, question, list(candidates), 2, 3, 2, [c.voter_id for c in listed])
    _, _, public_key = trustees.run_key_generation(2, 3, proofs.election_context(election_id),
                                                   trustees.labels_digest(question, list(candidates)))
    for step in ("key_ceremony", "voting", "closed", "mixing", "decrypting"):
        if state == "created":
            break
        if step == "voting":
            board.set_public_key(election_id, public_key.hex())
        board.set_state(election_id, step)
        if step == state:
            break
    return election_id, public_key


def request(server, method: str, path: str, body=None, raw: bytes | None = None, headers=None):
    """One request to the live server; returns (status, parsed JSON or text)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        hdrs = dict(headers or {})
        if body is not None:
            raw = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=raw, headers=hdrs)
        response = conn.getresponse()
        data = response.read().decode("utf-8")
        if response.getheader("Content-Type", "").startswith("application/json"):
            return response.status, json.loads(data)
        return response.status, data
    finally:
        conn.close()

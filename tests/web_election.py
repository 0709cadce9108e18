"""Test support for the web tests: elections put straight onto a server's board, and tiny HTTP helpers."""

from __future__ import annotations

import http.client
import json
import secrets

from mixnet import proofs, trustees

CANDIDATES = ["red", "green", "blue"]
QUESTION = "Which colour <for> the flag?"  # the angle brackets check HTML escaping


def voting_election(board, candidates=CANDIDATES, question=QUESTION, state="voting") -> tuple[str, bytes]:
    """Create an election, run a real 2-of-3 key generation for it and move it to `state`
    ("created" / "key_ceremony" stop before a key exists). Returns (election id, public key)."""
    election_id = "e" + secrets.token_urlsafe(6)  # board ids must start with a letter or digit
    board.create_election(election_id, question, list(candidates), 2, 3, 2)
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

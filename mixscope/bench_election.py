"""For benchmarks: an election put straight onto a server's board, with a real key, open for voting."""

from __future__ import annotations

import secrets

from mixscope.mixnet import credentials, proofs, trustees
from mixscope.mixnet.credentials import Credential


def open_voting_election(board, candidates: list[str], prefix: str = "bench", question: str = "Benchmark?",
                         threshold: int = 1, trustee_count: int = 1, voters: int = 0
                         ) -> tuple[str, bytes, list[Credential]]:
    """Create an election listing `voters` fresh credentials, run a real t-of-n key generation for it, open
    voting; (election id, public key, the voters' private credentials)."""
    election_id = prefix + secrets.token_hex(4)
    held = credentials.generate(voters) if voters else []
    board.create_election(election_id, question, candidates, threshold, trustee_count, 1, [c.voter_id for c in held])
    board.set_state(election_id, "key_ceremony")
    _, _, public_key = trustees.run_key_generation(threshold, trustee_count, proofs.election_context(election_id),
                                                   trustees.labels_digest(question, candidates))
    board.set_public_key(election_id, public_key.hex())
    board.set_state(election_id, "voting")
    return election_id, public_key, held

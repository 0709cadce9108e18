"""The two kinds of ballot an election takes, by its tally mode: parse, check one, check a batch.

mixnet: one ciphertext with a proof of its randomness (mixnet/ballots.py); homomorphic: one 0/1 ciphertext
per candidate with bit proofs and a sum proof (mixnet/homomorphic.py). Intake (server/views_ballots.py) and
its pool jobs (server/ballot_batch.py) call these and never branch on the mode themselves. Pure: imported by
pool children.
"""

from __future__ import annotations

from typing import Any, Sequence

from mixscope.mixnet import ballots, homomorphic

MIXNET, HOMOMORPHIC = homomorphic.MIXNET, homomorphic.HOMOMORPHIC


def parse(mode: str, value: Any, candidates: int):
    """The ballot's JSON, validated for this mode; ProofError says what is malformed."""
    if mode == HOMOMORPHIC:
        return homomorphic.parse_ballot(value, candidates)
    return ballots.Ballot.from_json(value)


def verify(mode: str, public_key: bytes, election_id: str, voter_id: str, ballot, candidates: int) -> None:
    """ProofError with a reason unless the ballot's proofs hold for this voter."""
    if mode == HOMOMORPHIC:
        homomorphic.verify(public_key, election_id, voter_id, candidates, ballot)
    else:
        ballots.verify_ballot(public_key, election_id, voter_id, ballot)


def hold(mode: str, public_key: bytes, election_id: str, items: Sequence[tuple[str, Any]]) -> bool:
    """True when every (voter id, ballot)'s proofs hold, checked as one random linear combination."""
    if mode == HOMOMORPHIC:
        return homomorphic.ballots_hold(public_key, election_id, items)
    return ballots.ballots_hold(public_key, election_id, items)

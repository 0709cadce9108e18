"""A whole homomorphic election in one process (the homomorphic twin of mixnet/simulate.py): signed trustee
nodes, a manifest with no mixers, ballots checked as the board checks them, the sums decrypted by the
trustees with their batched proofs, the counts read from a table. Tests, the known-answer record and the
benches use it."""

from __future__ import annotations

import secrets
from typing import Any, Sequence

from mixscope.mixnet import credentials, homomorphic
from mixscope.mixnet import trustees as dkg
from mixscope.mixnet.simulate import _Node, decrypt_into, open_record


def run_election(voters: Sequence[int], candidates: int | Sequence[str], threshold: int, trustees: int, *,
                 election_id: str | None = None, question: str = "Which candidate?",
                 decrypting: Sequence[int] | None = None) -> dict[str, Any]:
    """Voter i chooses `voters[i]`; return the record (docs/verifier.md §5)."""
    names = [f"candidate {i}" for i in range(candidates)] if isinstance(candidates, int) else list(candidates)
    election_id = election_id or f"sim-{secrets.token_hex(8)}"
    builder = homomorphic.HomomorphicRecordBuilder(election_id, question, names, threshold, trustees)
    nodes = [_Node(f"trustee-{i}", "trustee") for i in range(1, trustees + 1)]
    for node in nodes:
        builder.add_node(node.key, node.name, node.role)
    parties, dealings, public_key, context = open_record(builder, election_id, question, names, threshold, nodes, [],
                                                         tally=homomorphic.HOMOMORPHIC)
    cast = []
    # One credential per voter (the credential authority); each ballot is keyed by it and signed with it.
    voter_credentials = credentials.generate(len(voters)) if voters else []
    builder.set_credentials(sorted(c.voter_id for c in voter_credentials))
    for credential, choice in zip(voter_credentials, voters):
        ballot = homomorphic.cast_signed(homomorphic.HOMOMORPHIC, credential, public_key, election_id, len(names),
                                         choice)
        credentials.verify_signature(election_id, credential.voter_id, ballot)
        homomorphic.verify(public_key, election_id, credential.voter_id, len(names), ballot)
        builder.add_ballot(credential.voter_id, ballot)
        cast.append(ballot)
    sums = homomorphic.sums(cast, len(names))
    partials = decrypt_into(builder, election_id, sums, parties, dealings, nodes, context, decrypting)
    builder.set_counts(homomorphic.counts_of(dkg.combine(sums, partials, threshold), len(cast)))
    return builder.to_json()

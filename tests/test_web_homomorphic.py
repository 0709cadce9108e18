"""The demo vote form and the election API of a homomorphic election on a real server."""

from __future__ import annotations

from pathlib import Path

from mixscope.mixnet import credentials, homomorphic
from mixscope.server.election import lab
from test_web_pages import Browser, csrf_of
from web_election import CANDIDATES, credential, request, voting_election


def test_the_vote_form_casts_a_homomorphic_ballot(server):
    election_id, public_key = voting_election(server.board)
    lab.save(Path(server.board.path).parent, election_id, lab.LabSettings(tally="homomorphic"))
    status, election = request(server, "GET", f"/api/elections/{election_id}")
    assert status == 200 and election["tally"] == "homomorphic"
    browser = Browser(server.url)
    status, form = browser.open(f"/elections/{election_id}/vote")
    dora = credential(election_id, "dora")
    status, page = browser.open(f"/elections/{election_id}/vote",
                                {"csrf_token": csrf_of(form), "credential": dora.code, "choice": "1"})
    assert status == 200, page
    [stored] = server.board.ballots(election_id)
    assert stored.voter_id == dora.voter_id and stored.tracking_hash in page
    ballot = homomorphic.parse_ballot(stored.ballot, len(CANDIDATES))
    credentials.verify_signature(election_id, dora.voter_id, ballot)  # signed with her credential
    homomorphic.verify(public_key, election_id, dora.voter_id, len(CANDIDATES), ballot)

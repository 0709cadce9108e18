"""The HTML pages on a real server: they render what the board holds (escaped), and the demo vote form
casts a verifiable ballot only with the session's CSRF token."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from mixscope.mixnet import ballots, credentials
from mixscope.mixnet.credentials import new_code
from mixscope.mixnet.simulate import run_election
from web_election import CANDIDATES, QUESTION, credential, request, voting_election

ESCAPED_QUESTION = "Which colour &lt;for&gt; the flag?"


class Browser:
    """urllib with a cookie jar: keeps the session cookie like a browser does."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path: str, form: dict | None = None) -> tuple[int, str]:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def election(server):
    return voting_election(server.board)


def test_elections_list_and_election_page(server, election):
    election_id, public_key = election
    status, page = request(server, "GET", "/elections")
    assert status == 200 and ESCAPED_QUESTION in page and election_id in page
    assert QUESTION not in page  # the question's markup is escaped, never rendered

    status, page = request(server, "GET", f"/elections/{election_id}")
    assert status == 200 and ESCAPED_QUESTION in page
    assert all(f"<li>{name}</li>" in page for name in CANDIDATES)
    assert public_key.hex() in page and "voting" in page


def test_vote_form_casts_a_verifiable_ballot_in_demo_mode(server, election):
    election_id, public_key = election
    browser = Browser(server.url)
    status, form = browser.open(f"/elections/{election_id}/vote")
    assert status == 200 and "DEMO MODE" in form
    assert 'name="credential"' in form and 'type="password"' in form
    carol = credential(election_id, "carol")
    typed = carol.code.lower().replace("-", " ")  # as a person might paste it
    status, page = browser.open(f"/elections/{election_id}/vote",
                                {"csrf_token": csrf_of(form), "credential": typed, "choice": "2"})
    assert status == 200, page
    [stored] = server.board.ballots(election_id)
    assert stored.voter_id == carol.voter_id and stored.tracking_hash in page
    credentials.verify(public_key, election_id, carol.voter_id, ballots.Ballot.from_json(stored.ballot))

    status, board_page = request(server, "GET", f"/elections/{election_id}/board")
    assert status == 200 and stored.tracking_hash in board_page


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_vote_without_the_sessions_csrf_token_is_refused(server, election, token):
    election_id, _ = election
    browser = Browser(server.url)
    browser.open(f"/elections/{election_id}/vote")  # a session exists; the form's token is not sent back
    form = {"credential": "dave", "choice": "0"} | ({"csrf_token": token} if token else {})
    status, page = browser.open(f"/elections/{election_id}/vote", form)
    assert status == 400 and "security token" in page
    assert server.board.count_ballots(election_id) == 0


def test_token_from_another_session_is_refused(server, election):
    election_id, _ = election
    _, form = Browser(server.url).open(f"/elections/{election_id}/vote")
    status, _ = Browser(server.url).open(f"/elections/{election_id}/vote",
                                         {"csrf_token": csrf_of(form), "credential": "erin", "choice": "0"})
    assert status == 400
    assert server.board.count_ballots(election_id) == 0


def test_vote_form_reports_a_bad_choice_and_a_second_ballot(server, election):
    election_id, _ = election
    browser = Browser(server.url)
    _, form = browser.open(f"/elections/{election_id}/vote")
    token = csrf_of(form)
    code = credential(election_id, "f").code
    for bad in ("9", "-1", "²", "one", ""):
        status, page = browser.open(
            f"/elections/{election_id}/vote", {"csrf_token": token, "credential": code, "choice": bad}
        )
        assert status == 400 and "choose one of the candidates" in page
    assert (
        browser.open(f"/elections/{election_id}/vote", {"csrf_token": token, "credential": code, "choice": "0"})[0]
        == 200
    )
    status, page = browser.open(
        f"/elections/{election_id}/vote", {"csrf_token": token, "credential": code, "choice": "1"}
    )
    assert status == 409 and "already cast" in page
    assert server.board.count_ballots(election_id) == 1


def test_vote_form_refuses_a_code_that_is_no_credential_or_not_listed_and_never_echoes_it(server, election):
    election_id, _ = election
    browser = Browser(server.url)
    _, form = browser.open(f"/elections/{election_id}/vote")
    token = csrf_of(form)
    status, page = browser.open(f"/elections/{election_id}/vote", {"csrf_token": token, "credential": "hunter2",
                                                                   "choice": "0"})
    assert status == 400 and "credential code" in page and "hunter2" not in page
    stranger = new_code()  # a well-formed code whose credential this election does not list
    status, page = browser.open(f"/elections/{election_id}/vote", {"csrf_token": token, "credential": stranger,
                                                                   "choice": "0"})
    assert status == 403 and "public credentials" in page and stranger not in page
    assert server.board.count_ballots(election_id) == 0


def test_board_page_shows_mix_stages_with_proof_status_and_reasons(server, election):
    election_id, _ = election
    board = server.board
    board.set_state(election_id, "closed")
    board.set_state(election_id, "mixing")
    input_hash = "ab" * 32
    board.add_mix_stage(election_id, 0, "mixer-bad", "rejected", input_hash=input_hash,
                        reason="shuffle proof: commitment check failed")
    board.add_mix_stage(election_id, 0, "mixer-good", "accepted", input_hash=input_hash,
                        output=[["00" * 32, "00" * 32]], proof={"p": 1})
    status, page = request(server, "GET", f"/elections/{election_id}/board")
    assert status == 200
    assert "mixer-bad" in page and "rejected" in page and "shuffle proof: commitment check failed" in page
    assert "mixer-good" in page and "verified, accepted" in page


def test_results_page_shows_counts_and_links_the_record(server, election):
    election_id, _ = election
    board = server.board
    status, page = request(server, "GET", f"/elections/{election_id}/results")
    assert status == 200 and "No result yet" in page
    for state in ("closed", "mixing", "decrypting"):
        board.set_state(election_id, state)
    board.set_result(election_id, {"counts": [3, 0, 1], "invalid": 2})
    board.publish_record(election_id, run_election([0, 0, None, 2, 0, None], CANDIDATES, 2, 3, 1,
                                                   election_id=election_id))
    status, page = request(server, "GET", f"/elections/{election_id}/results")
    assert status == 200
    assert re.search(r"<td>red</td><td>3</td><td>75.0 %</td>", page)  # shares of the valid votes
    assert re.search(r"<td>blue</td><td>1</td>", page)
    assert re.search(r"Invalid votes \(decrypted to no candidate; not counted above\): 2", page)
    link = re.search(r'href="([^"]+)" download', page).group(1).replace("&amp;", "&")
    status, record = request(server, "GET", link)
    assert status == 200 and record["result"] == {"counts": [3, 0, 1], "invalid": 2}


def test_unknown_election_page_is_a_404_page(server):
    for path in ("/elections/nope", "/elections/nope/vote", "/elections/nope/board", "/elections/nope/results"):
        status, page = request(server, "GET", path)
        assert status == 404 and "no election" in page and "<h1>Error 404</h1>" in page

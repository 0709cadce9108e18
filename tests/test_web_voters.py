"""The voters' web side on a real server, as a browser meets it: the landing page, a vote refused for a stale
form and its way back, a second vote, titles and skip link, HTML errors on the pages (JSON on the API),
no inline script or style (a strict CSP fits), and, in a real headless Chromium, a 390 px phone."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from headless_chromium import Chromium
from test_web_pages import ESCAPED_QUESTION, Browser, csrf_of
from web_election import credential, request, voting_election


@pytest.fixture
def election(server):
    return voting_election(server.board)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx itself comes back as an HTTPError


def post_without_following(browser: Browser, path: str, form: dict) -> tuple[int, str]:
    opener = urllib.request.build_opener(NoRedirect, *[h for h in browser.opener.handlers
                                                       if isinstance(h, urllib.request.HTTPCookieProcessor)])
    data = urllib.parse.urlencode(form).encode()
    try:
        with opener.open(browser.base + path, data=data, timeout=30) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def assert_csp_friendly(page: str) -> None:
    assert "<script" not in page and "<style" not in page and not re.search(r"\sstyle=", page)
    assert re.search(r'<link rel="stylesheet" href="/static/mixscope\.css">', page)


def test_landing_page_explains_the_lab_and_links_the_elections(server, election):
    status, page = request(server, "GET", "/")
    assert status == 200 and "<h1>Mixscope: a lab for verifiable mixnet voting</h1>" in page
    assert 'href="/elections"' in page and "bulletin board" in page and "mixscope verify" in page
    assert "/ws" in page  # nodes still learn where to connect
    assert_csp_friendly(page)
    status, css = request(server, "GET", "/static/mixscope.css")
    assert status == 200 and ".skip" in css and "white-space: nowrap" in css
    assert request(server, "GET", "/static/../views.py")[0] == 404  # the folder's files only


def test_every_page_is_free_of_inline_script_and_style(server, election):
    election_id, _ = election
    for path in ("/", "/elections", f"/elections/{election_id}", f"/elections/{election_id}/vote",
                 f"/elections/{election_id}/board", f"/elections/{election_id}/results", "/elections/nope"):
        status, page = request(server, "GET", path)
        assert status in (200, 404), path
        assert_csp_friendly(page)


@pytest.mark.parametrize("token", [None, "stale-token"])
def test_refused_form_links_back_to_a_fresh_form_keeping_what_was_typed(server, election, token):
    election_id, _ = election
    browser = Browser(server.url)
    browser.open(f"/elections/{election_id}/vote")
    code = credential(election_id, "dave").code
    form = {"credential": code, "choice": "2"} | ({"csrf_token": token} if token else {})
    status, location = post_without_following(browser, f"/elections/{election_id}/vote", form)
    assert status == 303 and location.endswith(f"/elections/{election_id}/vote/expired")  # post/redirect/get

    for _ in range(2):  # reloading the error page is a GET: it stores nothing and says the same
        status, page = browser.open(f"/elections/{election_id}/vote/expired")
        assert status == 400 and "security token" in page and "<h1>Error 400</h1>" in page
    assert server.board.count_ballots(election_id) == 0

    link = re.search(r'<a href="([^"]+)">Back to a fresh vote form</a>', page).group(1).replace("&amp;", "&")
    status, fresh = browser.open(link)
    assert status == 200 and code not in fresh  # the choice comes back; the credential code, a secret, never
    assert re.search(r'value="2" required checked', fresh) and not re.search(r'value="[01]" required checked', fresh)
    status, page = browser.open(f"/elections/{election_id}/vote",
                                {"csrf_token": csrf_of(fresh), "credential": code, "choice": "2"})
    assert status == 200 and "Ballot cast" in page
    assert [b.voter_id for b in server.board.ballots(election_id)] == [credential(election_id, "dave").voter_id]

    status, form = browser.open(f"/elections/{election_id}/vote")  # a plain visit is an empty form again
    assert "checked" not in form


def test_a_post_with_no_session_at_all_gets_the_same_way_back(server, election):
    election_id, _ = election
    browser = Browser(server.url)  # never saw the form: no session cookie
    code = credential(election_id, "gus").code
    status, page = browser.open(f"/elections/{election_id}/vote", {"credential": code, "choice": "1"})
    assert status == 400 and "Back to a fresh vote form" in page  # the redirect was followed
    _, fresh = browser.open(re.search(r'<a href="([^"]+)">Back', page).group(1).replace("&amp;", "&"))
    assert code not in fresh and 'value="1" required checked' in fresh


def test_voting_again_says_already_voted_and_shows_the_receipt(server, election):
    election_id, _ = election
    browser = Browser(server.url)
    _, form = browser.open(f"/elections/{election_id}/vote")
    vote = {"csrf_token": csrf_of(form), "credential": credential(election_id, "hana").code, "choice": "1"}
    status, first = browser.open(f"/elections/{election_id}/vote", vote)
    assert status == 200
    assert f"<title>Ballot cast: {ESCAPED_QUESTION} · Mixscope</title>" in first  # the title names the election
    assert f"<h1>Ballot cast: {ESCAPED_QUESTION}</h1>" in first
    [stored] = server.board.ballots(election_id)

    status, again = browser.open(f"/elections/{election_id}/vote", vote)  # the same choice once more
    assert status == 409 and "You have already voted" in again and "different ballot" not in again
    assert f'<code class="hash" id="receipt">{stored.tracking_hash}</code>' in again
    assert server.board.count_ballots(election_id) == 1


def test_skip_link_leads_to_the_vote_form(server, election):
    election_id, _ = election
    status, page = request(server, "GET", f"/elections/{election_id}/vote")
    assert status == 200
    skip = re.search(r'<a class="skip" href="#([\w-]+)">([^<]+)</a>', page)
    assert skip and skip.group(2) == "Skip to the vote form"
    assert re.search(rf'<form id="{skip.group(1)}" method="post"', page)
    assert page.index('class="skip"') < page.index("<header>")  # the first thing a keyboard reaches


def test_unknown_sub_paths_get_the_html_error_page_and_the_api_keeps_json(server, election):
    election_id, _ = election
    for path in (f"/elections/{election_id}/nope", f"/elections/{election_id}/vote/x/y", "/elections/a/b/c/d"):
        status, page = request(server, "GET", path)
        assert status == 404 and isinstance(page, str) and "<h1>Error 404</h1>" in page, path
        assert 'href="/elections"' in page  # a way on
    status, page = request(server, "DELETE", "/elections")
    assert status == 405 and "<h1>Error 405</h1>" in page
    status, page = request(server, "GET", "/no/such/page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert status == 404 and "<h1>Error 404</h1>" in page  # a browser anywhere else
    status, body = request(server, "GET", f"/api/elections/{election_id}/nope", headers={"Accept": "text/html"})
    assert status == 404 and body["error"] == "not found"  # the API answers JSON, whatever is accepted
    status, body = request(server, "GET", "/api/elections/nope")
    assert status == 404 and "no election" in body["error"]


def test_election_ids_are_kept_whole(server):
    election_id, _ = voting_election(server.board)
    _, page = request(server, "GET", "/elections")
    assert f'<td data-label="Id"><code class="id">{election_id}</code></td>' in page
    _, page = request(server, "GET", f"/elections/{election_id}")
    assert f'<code class="id">{election_id}</code>' in page


CHROMIUM = Chromium.find()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
def test_pages_fit_a_390_px_phone_in_headless_chromium(server, tmp_path):
    election_id, _ = voting_election(server.board, question="Which of these long-named options should win?",
                                     candidates=["Alexandria Ocasio-Hernández-Wilkinson", "b", "c"])
    for i in range(3):  # ids with '-' and '_' (where a browser would otherwise break a line)
        server.board.create_election(f"id-with_{i}-dashes-{i}", f"question {i}", ["yes", "no"], 2, 3, 2)
    board = server.board
    board.set_state(election_id, "closed")
    board.set_state(election_id, "mixing")
    board.add_mix_stage(election_id, 0, "mixer-with-a-long-name", "rejected", input_hash="ab" * 32,
                        reason="shuffle proof: commitment check failed at the third response")
    board.add_mix_stage(election_id, 0, "mixer-good", "accepted", input_hash="ab" * 32,
                        output=[["00" * 32, "00" * 32]], proof={"p": 1})
    board.set_state(election_id, "decrypting")
    board.set_result(election_id, {"counts": [12345, 0, 1], "invalid": 2})

    browser = Chromium(CHROMIUM, tmp_path / "profile")
    try:
        for width in (390, 1280):
            for path in ("/", "/elections", f"/elections/{election_id}", f"/elections/{election_id}/board",
                         f"/elections/{election_id}/results", f"/elections/{election_id}/vote/expired"):
                layout = browser.open(server.url + path, width)
                assert layout["scrollWidth"] <= layout["viewport"] == width, (path, width, layout)
                for box in layout["ids"]:  # each id on one line
                    assert box["height"] < 1.9 * box["lineHeight"], (path, width, box)
                if path == "/elections":
                    assert len(layout["ids"]) == 4
                    browser.screenshot(tmp_path / f"elections-{width}.png")
    finally:
        browser.close()
    assert (tmp_path / "elections-390.png").stat().st_size > 1000

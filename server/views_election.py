"""The HTML pages: elections list, election, demo vote form, bulletin board, results.

Plain server-rendered HTML (Jinja templates in server/templates, autoescaped), no JavaScript. Errors render
as an HTML page with the status and the reason. URLs are in server/routes.py.
"""

from __future__ import annotations

import functools

from flask import render_template, request, url_for

from mixnet import ballots
from server import board as board_mod
from server.ratelimit import ballot_limiter
from server.views import HttpError
from server.views_ballots import check_voter_id, current_board, election_or_404, public_key_of, submit_ballot
from server.views_csrf import CsrfError, check_csrf, csrf_token

# What each state means for a voter, shown under the state badge.
STATE_NOTES = {
    "created": "The trustees have not generated the election key yet.",
    "key_ceremony": "The trustees are generating the election key.",
    "voting": "Voting is open.",
    "closed": "Voting is closed; the ballots wait for the mix.",
    "mixing": "The mix cascade is shuffling the ballots; every stage's proof is checked.",
    "decrypting": "The trustees are decrypting the mixed ballots, with proofs.",
    "tallied": "The result is in; the record is about to be published.",
    "published": "The result and the full election record are published.",
    "failed": "The election failed.",
}


def html_errors(view):
    """Render HttpError / CsrfError as an HTML page instead of the API's JSON."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except CsrfError as exc:
            return render_template("error.html", status=400, reason=str(exc)), 400
        except HttpError as exc:
            return render_template("error.html", status=exc.status, reason=exc.error), exc.status

    return wrapped


def _page(template: str, **values):
    return render_template(template, state_notes=STATE_NOTES, **values)


@html_errors
def elections_page():
    return _page("elections.html", elections=list(reversed(current_board().list_elections())))


@html_errors
def election_page(election_id: str):
    board = current_board()
    election = election_or_404(board, election_id)
    return _page("election.html", election=election, ballot_count=board.count_ballots(election_id))


@html_errors
def vote_page(election_id: str):
    """GET: the demo vote form. POST: encrypt the choice on the server (demo mode) and cast it."""
    board = current_board()
    election = election_or_404(board, election_id)
    if request.method == "GET":
        return _page("vote.html", election=election, csrf_token=csrf_token(), error=None, voter_id="")
    check_csrf()
    voter_id = request.form.get("voter_id", "").strip()
    choice_text = request.form.get("choice", "")
    try:
        voter_id = check_voter_id(voter_id)
        ballot_limiter().check_address(request.remote_addr)  # before the server does the encryption work
        if not choice_text.isdecimal() or not 0 <= int(choice_text) < len(election.candidates):
            raise HttpError(400, "choose one of the candidates")  # isdecimal: int() accepts all of these
        # DEMO MODE: the server sees the choice here. Real voters encrypt on their own machine and use the
        # JSON API; the server then only ever sees the ciphertext and its proofs.
        ballot = ballots.cast(public_key_of(election), election_id, voter_id, len(election.candidates),
                              int(choice_text))
        intake = submit_ballot(election_id, voter_id, ballot.to_json())
    except HttpError as exc:  # the form again, with the reason and what the voter typed
        return _page("vote.html", election=election, csrf_token=csrf_token(), error=exc.error, voter_id=voter_id), exc.status
    return _page("voted.html", election=election, receipt=intake.receipt, created=intake.created,
                 candidate=election.candidates[int(choice_text)])


@html_errors
def board_page(election_id: str):
    board = current_board()
    election = election_or_404(board, election_id)
    stages = board.mix_stages(election_id)
    return _page("board.html", election=election, ballots=board.ballots(election_id), stages=stages,
                 shares=sorted(board.decryption_shares(election_id)))


@html_errors
def results_page(election_id: str):
    board = current_board()
    election = election_or_404(board, election_id)
    result = stored_result(board, election)
    rows, invalid = None, 0
    if result is not None:
        counts, invalid = result
        total = sum(counts)  # shares are of the valid votes
        rows = [(name, n, 100.0 * n / total if total else 0.0) for name, n in zip(election.candidates, counts)]
    published = board.record(election_id) is not None
    return _page("results.html", election=election, rows=rows, invalid=invalid, published=published,
                 record_url=url_for("get_record", election_id=election_id, download=1))


def stored_result(board: board_mod.Board, election: board_mod.Election) -> tuple[list[int], int] | None:
    """The tally's counts per candidate and its number of invalid votes, from the stored result (or the
    published record)."""
    for source in (board.result(election.id), (board.record(election.id) or {}).get("result")):
        counts = source.get("counts") if isinstance(source, dict) else None
        if isinstance(counts, list) and len(counts) == len(election.candidates):
            invalid = source.get("invalid")
            return counts, invalid if isinstance(invalid, int) else 0
    return None

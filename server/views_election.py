"""The HTML pages: elections list, election, demo vote form, bulletin board, results.

Plain server-rendered HTML (Jinja templates in server/templates, autoescaped), no JavaScript, no inline
styles (one stylesheet, server/static/mixscope.css), so a strict Content-Security-Policy fits. Errors render
as an HTML page with the status and the reason (server/page_errors.py). URLs are in server/routes.py.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from mixscope.mixnet import credentials, homomorphic
from mixscope.server import board as board_mod
from mixscope.server.election import records, states
from mixscope.server.errors import HttpError
from mixscope.server.page_errors import error_page, html_errors
from mixscope.server.ratelimit import ballot_limiter
from mixscope.server.views_ballots import (
    check_listed,
    current_board,
    election_or_404,
    public_key_of,
    submit_ballot,
    tally_mode,
)
from mixscope.server.views_csrf import CSRF_REASON, CsrfError, check_csrf, csrf_token

DRAFT = "vote_draft"  # session key: the choice of a vote refused for its CSRF token (never the credential code)

# What each state means for a voter, shown under the state badge.
STATE_NOTES = {
    states.CREATED: "The trustees have not generated the election key yet.",
    states.KEY_CEREMONY: "The trustees are generating the election key.",
    states.VOTING: "Voting is open.",
    states.CLOSED: "Voting is closed; the ballots wait for the mix.",
    states.MIXING: "The mix cascade is shuffling the ballots; every stage's proof is checked.",
    states.DECRYPTING: "The trustees are decrypting the mixed ballots, with proofs.",
    states.TALLIED: "The result is in; the record is about to be published.",
    states.PUBLISHED: "The result and the full election record are published.",
    states.FAILED: "The election failed.",
}


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
    """GET: the demo vote form. POST: sign and encrypt the choice on the server (demo mode) and cast it."""
    board = current_board()
    election = election_or_404(board, election_id)
    if request.method == "GET":
        draft = _draft(election_id) if request.args.get("retry") else {}
        return _page("vote.html", election=election, csrf_token=csrf_token(), error=None, restored=bool(draft),
                     choice=draft.get("choice", ""))
    choice_text = request.form.get("choice", "")
    try:
        check_csrf()
    except CsrfError:
        # Post/redirect/get: the error page is a GET, so reloading it never posts again. The choice waits in
        # the session for the fresh form the error page links to; the credential code, a secret, does not.
        choice = choice_text[:4] if choice_text.isdecimal() else ""
        session[DRAFT] = {"election_id": election_id, "choice": choice}
        return redirect(url_for("vote_expired_page", election_id=election_id), 303)
    try:
        ballot_limiter().check_address(request.remote_addr)  # before the server does any key or encryption work
        try:
            credential = credentials.from_code(request.form.get("credential", "")[:200])
        except ValueError as exc:
            raise HttpError(400, f"credential code: {exc}") from None
        check_listed(board, election_id, credential.voter_id)
        stored = board.receipt(election_id, credential.voter_id)
        if stored is not None:  # one ballot per voter: show the one that stands (its hash is public anyway)
            session.pop(DRAFT, None)
            return _page("voted.html", election=election, receipt=stored, created=False, candidate=None), 409
        if not choice_text.isdecimal() or not 0 <= int(choice_text) < len(election.candidates):
            raise HttpError(400, "choose one of the candidates")  # isdecimal: int() accepts all of these
        # DEMO MODE: the server sees the choice and the credential code here. Real voters sign and encrypt
        # on their own machine and use the JSON API; the server then sees only the ciphertext, its proof
        # and the public credential's signature.
        ballot = homomorphic.cast_signed(tally_mode(board, election_id), credential, public_key_of(election),
                                         election_id, len(election.candidates), int(choice_text))
        intake = submit_ballot(election_id, credential.voter_id, ballot.to_json())
    except HttpError as exc:  # the form again with the reason and the choice (never the code: it is a secret)
        return _page("vote.html", election=election, csrf_token=csrf_token(), error=exc.error, restored=False,
                     choice=choice_text), exc.status
    session.pop(DRAFT, None)
    return _page("voted.html", election=election, receipt=intake.receipt, created=intake.created,
                 candidate=election.candidates[int(choice_text)])


@html_errors
def vote_expired_page(election_id: str):
    """Where a vote with a missing or stale CSRF token lands (a GET: safe to reload): the reason, and a link
    to a fresh form holding the choice that was made (the credential code is typed again)."""
    election_or_404(current_board(), election_id)
    return error_page(400, CSRF_REASON, retry_url=url_for("vote_page", election_id=election_id, retry=1))


def _draft(election_id: str) -> dict[str, str]:
    draft = session.get(DRAFT)
    if not isinstance(draft, dict) or draft.get("election_id") != election_id:
        return {}
    return {"choice": str(draft.get("choice") or "")}


@html_errors
def board_page(election_id: str):
    board = current_board()
    election = election_or_404(board, election_id)
    stages = board.mix_stages(election_id)
    refusals = [m.body for m in board.trustee_messages(election_id, records.REFUSAL)]
    names = {n.public_key: n.name for n in board.nodes("trustee")}
    return _page("board.html", election=election, ballots=board.ballots(election_id), stages=stages,
                 shares=sorted(board.decryption_shares(election_id)),
                 refusals=[{"trustee": names.get(r["trustee"], r["trustee"][:16]), "reason": r["reason"]}
                           for r in refusals])


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
    refused = [s for s in board.mix_stage_summaries(election_id) if s["status"] == "rejected"]
    return _page("results.html", election=election, rows=rows, invalid=invalid, published=published, refused=refused,
                 record_url=url_for("get_record", election_id=election_id, download=1))


def stored_result(board: board_mod.Board, election: board_mod.Election) -> tuple[list[int], int] | None:
    """The tally's counts per candidate and its number of invalid votes, from the stored result (or the
    published record)."""
    for source in (board.result(election.id), (board.record(election.id) or {}).get("result")):
        if not isinstance(source, dict):
            continue
        counts = source.get("counts")
        if isinstance(counts, list) and len(counts) == len(election.candidates):
            invalid = source.get("invalid")
            return counts, invalid if isinstance(invalid, int) else 0
    return None

"""The public JSON API for voters and observers: elections, ballots, the published record.

Voters encrypt and sign their own ballots (mixnet.credentials.cast) and POST them here, keyed by their public
credential; the server only verifies and stores. Errors are JSON {"error": reason} with a 4xx status (see
server/views_ballots.py for which).
URLs are in server/routes.py.
"""

from __future__ import annotations

import json

from flask import jsonify, request, send_file

from mixscope.mixnet import record_parts
from mixscope.server import board as board_mod
from mixscope.server.errors import HttpError
from mixscope.server.ratelimit import ballot_limiter
from mixscope.server.views_ballots import (
    NotABatchError,
    current_board,
    election_or_404,
    receipt_json,
    submit_ballot,
    submit_batch,
    tally_mode,
)

MAX_BALLOT_BODY = 256 * 1024  # one ballot body is well under 1 KB (ciphertext, proof, signature, credential)
MAX_BATCH_BODY = 16 * 1024 * 1024  # {"ballots": [...]}: up to MAX_BATCH ballots of up to ~16 KB each


def election_json(election: board_mod.Election) -> dict:
    return {
        "id": election.id,
        "question": election.question,
        "candidates": list(election.candidates),
        "threshold": election.threshold,
        "trustees": election.trustees,
        "mixers": election.mixers,
        "tally": tally_mode(current_board(), election.id),  # mixnet | homomorphic: what a ballot is
        "state": election.state,
        "reason": election.reason,
        "public_key": election.public_key,
        "created_at": election.created_at,
        "updated_at": election.updated_at,
    }


def list_elections():
    return jsonify(elections=[election_json(e) for e in current_board().list_elections()])


def get_election(election_id: str):
    board = current_board()
    election = election_or_404(board, election_id)
    return jsonify({**election_json(election), "ballots": board.count_ballots(election_id),
                    "credentials": len(board.credentials(election_id))})


def list_credentials(election_id: str):
    """The public credential list: a voter checks that theirs is on it, anyone that it has one per voter."""
    board = current_board()
    election_or_404(board, election_id)
    listed = sorted(board.credentials(election_id))
    return jsonify(election_id=election_id, count=len(listed), credentials=listed)


def cast_ballot(election_id: str):
    limiter = ballot_limiter()
    # Before any parsing: a flood costs the server almost nothing. A batch takes one address token per request
    # (its cost is capped by MAX_BATCH and MAX_BATCH_BODY) and one voter token per ballot.
    limiter.check_address(request.remote_addr)
    if (request.content_length or 0) > MAX_BATCH_BODY:
        raise HttpError(413, f"a ballot body may be at most {MAX_BALLOT_BODY} bytes, a batch {MAX_BATCH_BODY}")
    request.max_content_length = MAX_BATCH_BODY  # also caps a chunked body that announced no length
    if not request.is_json:
        raise HttpError(400, "send a JSON object {voter_id, ballot} with Content-Type: application/json")
    text = request.get_data(as_text=True)
    big = len(text) > MAX_BALLOT_BODY
    # What client.voters sends starts so: no need to parse a batch here (its JSON is the pool's to parse).
    sent_as_batch = text.lstrip().startswith('{"ballots":')
    body = None if big or sent_as_batch else _parse(text)
    if big or sent_as_batch or isinstance(body, dict) and "ballots" in body:
        # Big bodies can only be batches: the pool parses them, not this thread (server/ballot_batch.py).
        try:
            reply = submit_batch(election_id, text, admit_voter=limiter.check_voter)
        except NotABatchError:
            if big:
                raise HttpError(413, f"a ballot body may be at most {MAX_BALLOT_BODY} bytes") from None
            raise
        return jsonify(reply), 200
    if not isinstance(body, dict):
        raise HttpError(400, "send a JSON object {voter_id, ballot} with Content-Type: application/json")
    unknown = set(body) - {"voter_id", "ballot"}
    if unknown:
        raise HttpError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    if "ballot" not in body or "voter_id" not in body:
        raise HttpError(400, "the body needs voter_id and ballot")
    limiter.check_voter(body["voter_id"])
    intake = submit_ballot(election_id, body["voter_id"], body["ballot"])
    return jsonify(receipt_json(intake.receipt)), 201 if intake.created else 200


def _parse(text: str):
    """A small body, parsed; a JSON text that does not parse gives "" (refused below as not an object)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return ""


def list_ballots(election_id: str):
    board = current_board()
    election_or_404(board, election_id)
    stored = board.ballots(election_id)
    return jsonify(election_id=election_id, count=len(stored),
                   ballots=[{"position": b.position, "tracking_hash": b.tracking_hash} for b in stored])


def get_record(election_id: str):
    board = current_board()
    election_or_404(board, election_id)
    record = board.record(election_id)
    if record is None:
        raise HttpError(404, f"election {election_id!r} has no published record yet")
    response = jsonify(record)
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="record-{election_id}.json"'
    return response


def get_record_part(election_id: str, part: str):
    """One part of a record published in parts (docs/verifier.md §2.1), streamed from the file publishing wrote
    beside the board; only a name the published index lists is served."""
    board = current_board()
    election_or_404(board, election_id)
    index = board.record(election_id)
    if index is None:
        raise HttpError(404, f"election {election_id!r} has no published record yet")
    listed = {ref["part"] for _, ref in record_parts.PartedRecord(index, _no_read).references()}
    if part not in listed:
        raise HttpError(404, f"the record of {election_id!r} has no part {part[:80]!r}")
    path = board.path.parent / part
    if not path.is_file():
        raise HttpError(404, f"part {part} of {election_id!r} is not on this server")
    return send_file(path, mimetype="application/json", as_attachment=bool(request.args.get("download")),
                     download_name=part)


def _no_read(name: str) -> bytes:
    raise OSError(f"{name}: parts are listed here, not read")

"""Fuzzing the HTTP side (hypothesis) against one real server with a voting election: random methods,
paths and bodies, and mutated ballots (invalid and non-canonical group elements, wrong types, huge lists,
another election's id). Never a 500, every refusal a 4xx with a reason, nothing stored, no error-level log
event, and a good voter is served afterwards.

MIXSCOPE_FUZZ_EXAMPLES sets the examples per test (default 300); e.g. 5000 for a long run.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixscope.server.ratelimit import BallotLimits
from mixscope.server.runner import ServerRunner
from web_election import signed_ballot, voter_id, voting_election

EXAMPLES = int(os.environ.get("MIXSCOPE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TRIED = {"requests": 0, "ballots": 0}

# Not canonical ristretto255 (RFC 9496 A.2 style: negative, >= p, wrong length), not hex, the identity.
BAD_ELEMENTS = ["ff" * 32, "01" + "00" * 31, "ed" + "ff" * 30 + "7f", "00" * 31, "00" * 33, "zz" * 32, "", "00" * 32]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                         st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                                 st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=5)), max_leaves=15)


class Fuzzed:
    def __init__(self, runner: ServerRunner):
        self.runner = runner
        self.election_id, self.public_key = voting_election(runner.board, candidates=["a", "b", "c"])
        self.good = signed_ballot(self.election_id, self.public_key, "good-voter", 1, candidates=3)
        self.voters = [voter_id(self.election_id, name) for name in ("good-voter", "mallory")]
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.runner.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                raw = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response.getheader("Content-Type", ""), raw
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def state(self) -> tuple:
        board = self.runner.board
        return board.count_ballots(self.election_id), len(board.list_elections()), len(board.nodes())


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    runner = ServerRunner(port=0, ping_interval=5.0, data_dir=str(tmp_path_factory.mktemp("fuzz-http")),
                          ballot_limits=BallotLimits.off())  # thousands of posts from one address, on purpose
    runner.start()
    logs = runner.channel.subscribe(kinds=["log"])
    target = Fuzzed(runner)
    try:
        yield target
        errors = [e.data for e in logs.drain() if e.data["level"] == "error"]
        assert errors == [], errors  # no 5xx, no unhandled exception logged
    finally:
        target.close()
        runner.stop()


def _check_refusal(status: int, content_type: str, raw: bytes, method: str) -> None:
    assert status < 500, (status, raw[:300])
    if status >= 400 and method != "HEAD":
        if content_type.startswith("application/json"):
            assert json.loads(raw)["error"]  # a reason, not just a code
        else:  # the HTML pages answer with an HTML page naming the problem
            assert content_type.startswith("text/html") and raw


segments = st.one_of(st.sampled_from(["api", "elections", "ballots", "record", "vote", "board", "results", "over",
                                      "clients", "admin", "broadcast", "ws", "..", "%00", "%2e%2e", "e" * 300]),
                     st.text(max_size=20))


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
       parts=st.lists(segments, max_size=5), use_election=st.booleans(), query=st.text(max_size=20),
       body=st.one_of(st.none(), st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())),
       content_type=st.sampled_from([None, "application/json", "application/x-www-form-urlencoded", "text/plain"]))
@pytest.mark.slow
def test_random_requests_never_500_and_change_nothing(fuzzed, method, parts, use_election, query, body,
                                                      content_type):
    TRIED["requests"] += 1
    if use_election:
        parts = ["api", "elections", fuzzed.election_id, *parts[:2]]
    path = "/" + "/".join(urllib.parse.quote(p, safe="%.") for p in parts)
    if query:
        path += "?" + urllib.parse.quote(query, safe="=&")
    headers = {"Content-Type": content_type} if content_type else {}
    before = fuzzed.state()
    status, ctype, raw = fuzzed.request(method, path, body, headers)
    _check_refusal(status, ctype, raw, method)
    assert fuzzed.state() == before  # no random request stores anything


def _paths(value, prefix=()):
    """Every (path, leaf) in a JSON value: where a mutation can land."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _paths(inner, (*prefix, i))
    yield prefix, value


def _set(doc, path, new):
    if not path:
        return new
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return doc


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_ballots_are_refused_with_a_reason_and_never_stored(fuzzed, data):
    TRIED["ballots"] += 1
    ballot = copy.deepcopy(fuzzed.good)
    path, old = data.draw(st.sampled_from(list(_paths(ballot))))
    new = data.draw(st.one_of(st.sampled_from(BAD_ELEMENTS), json_values,
                              st.builds(lambda n: ["00" * 32] * n, st.integers(0, 3000)),  # huge lists
                              st.just(fuzzed.good["ciphertext"]["a"] if isinstance(fuzzed.good["ciphertext"], dict)
                                      else "00" * 32)).filter(lambda v: v != old))
    ballot = _set(ballot, path, new)
    voter = data.draw(st.sampled_from([*fuzzed.voters, "good-voter", "", None, 7, "x" * 300]))
    election = data.draw(st.sampled_from([fuzzed.election_id, fuzzed.election_id + "x", "%2e%2e", "no-such"]))
    before = fuzzed.state()
    status, ctype, raw = fuzzed.request("POST", f"/api/elections/{election}/ballots",
                                        json.dumps({"voter_id": voter, "ballot": ballot}).encode(),
                                        {"Content-Type": "application/json"})
    assert 400 <= status < 500, (status, raw[:300], path)
    assert ctype.startswith("application/json") and json.loads(raw)["error"]
    assert fuzzed.state() == before


@pytest.mark.slow
def test_the_good_voter_is_served_afterwards(fuzzed):
    status, _, raw = fuzzed.request("POST", f"/api/elections/{fuzzed.election_id}/ballots",
                                    json.dumps({"voter_id": fuzzed.voters[0], "ballot": fuzzed.good}).encode(),
                                    {"Content-Type": "application/json"})
    assert status == 201 and json.loads(raw)["position"] == 1
    print(f"\nHTTP fuzz: {TRIED['requests']} random requests, {TRIED['ballots']} mutated ballots")
    assert TRIED["requests"] >= EXAMPLES // 2 and TRIED["ballots"] >= EXAMPLES // 2

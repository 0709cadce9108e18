"""Rate limits on ballot submission (server/ratelimit.py): token buckets per remote address and per voter,
429 JSON with Retry-After, nothing stored; the client's BallotApi waits a 429 out."""

from __future__ import annotations

import http.client
import json
import time

import pytest

from mixscope.client.vote import BallotApi
from mixscope.server.ratelimit import BallotLimits, BallotRateLimiter, RateLimited, TokenBucketLimiter
from mixscope.server.runner import ServerRunner
from web_election import signed_ballot, voter_id, voting_election


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate():
    clock = FakeClock()
    bucket = TokenBucketLimiter(rate=2.0, burst=3, clock=clock)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == pytest.approx(0.5)  # one token comes back every 1/rate s
    assert bucket.take("b") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert bucket.take("a") == 0.0
    assert bucket.take("a") > 0
    clock.now += 100
    assert [bucket.take("a") for _ in range(3)] == [0.0] * 3  # refilled to the burst, never beyond
    assert bucket.take("a") > 0
    assert TokenBucketLimiter(rate=0, burst=1).take("x") == 0.0  # rate 0: no limit


def test_tracked_keys_are_bounded():
    bucket = TokenBucketLimiter(rate=1, burst=1, max_keys=100)
    for i in range(1000):
        bucket.take(f"addr-{i}")
    assert len(bucket) == 100


def test_the_limiter_names_what_is_over_its_limit():
    clock = FakeClock()
    limiter = BallotRateLimiter(BallotLimits(address_rate=1, address_burst=1, voter_rate=1, voter_burst=1), clock)
    limiter.check_address("10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limiter.check_address("10.0.0.1")
    assert refused.value.status == 429 and refused.value.retry_after == 1 and "address" in refused.value.error
    limiter.check_voter("alice")
    with pytest.raises(RateLimited, match="voter"):
        limiter.check_voter("alice")


def _post(port: int, path: str, body: dict) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        conn.close()


@pytest.fixture
def limited_server(tmp_path):
    runner = ServerRunner(port=0, data_dir=str(tmp_path / "data"),
                          ballot_limits=BallotLimits(address_rate=1, address_burst=3, voter_rate=1, voter_burst=2))
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.mark.slow
def test_over_the_address_limit_a_ballot_post_gets_429_with_retry_after_and_nothing_is_stored(limited_server):
    eid, public_key = voting_election(limited_server.board)
    path = f"/api/elections/{eid}/ballots"
    statuses = [_post(limited_server.port, path, {"voter_id": f"v{i}", "ballot": {}})[0] for i in range(3)]
    assert statuses == [400, 400, 400]  # malformed, but each took a token
    good = signed_ballot(eid, public_key, "v9", 1)
    status, body, headers = _post(limited_server.port, path, {"voter_id": voter_id(eid, "v9"), "ballot": good})
    assert status == 429 and headers["Content-Type"].startswith("application/json")
    assert body["retry_after"] == 1 and int(headers["Retry-After"]) == 1 and "too many" in body["error"]
    assert limited_server.board.count_ballots(eid) == 0
    time.sleep(1.05)  # one token is back
    status, body, _ = _post(limited_server.port, path, {"voter_id": voter_id(eid, "v9"), "ballot": good})
    assert status == 201 and limited_server.board.count_ballots(eid) == 1


@pytest.mark.slow
def test_one_voter_hammering_is_limited_and_the_client_waits_a_429_out(limited_server):
    eid, public_key = voting_election(limited_server.board)
    ballot = signed_ballot(eid, public_key, "alice", 0)
    alice = voter_id(eid, "alice")
    path = f"/api/elections/{eid}/ballots"
    assert _post(limited_server.port, path, {"voter_id": alice, "ballot": ballot})[0] == 201
    assert _post(limited_server.port, path, {"voter_id": alice, "ballot": ballot})[0] == 200
    status, body, _ = _post(limited_server.port, path, {"voter_id": alice, "ballot": ballot})
    assert status == 429 and "voter" in body["error"]
    started = time.monotonic()
    with BallotApi(limited_server.url) as api:  # retries after Retry-After instead of failing
        receipt = api.cast(eid, alice, ballot)
    assert receipt["position"] == 1 and time.monotonic() - started >= 0.9
    assert limited_server.board.count_ballots(eid) == 1


def test_default_limits_are_generous_and_documented():
    limits = BallotLimits()
    assert limits.address_rate >= 200 and limits.address_burst >= 400
    assert ServerRunner().ballot_limits is None  # None: the defaults above

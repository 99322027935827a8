"""Redis going away, with a real server: killed and restarted (data lost), frozen (SIGSTOP) and resumed.

For each ``on_storage_error`` and both modes: decisions keep coming within the timeout, nothing hangs, and after
recovery what was counted locally meanwhile is in Redis (a limiter that joins afterwards sees it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from patternlimit import Action, Limiter, Request, StorageError
from patternlimit._testing import traffic
from patternlimit._testing.redis_server import RedisServer

SECRET = b"test secret for the fault tests!"
TIMEOUT = 0.05


@pytest.fixture
def make(redis_server: RedisServer) -> Iterator[Callable[..., Limiter]]:
    made: list[Limiter] = []

    def build(mode: str, on_storage_error: str = "local") -> Limiter:
        options = {
            "mode": mode,
            "namespace": "faults",
            "sync_interval": 0.02,
            "timeout": TIMEOUT,
            "connect_timeout": TIMEOUT,
            "backoff_max": 0.2,
            "on_storage_error": on_storage_error,
        }
        limiter = Limiter(storage=redis_server.url, storage_options=options, secret=SECRET)
        made.append(limiter)
        return limiter

    yield build
    for limiter in made:
        limiter.close()


def timed(limiter: Limiter, requests: list[tuple[float, Request]]) -> tuple[list, float]:  # type: ignore[type-arg]
    decisions, slowest = [], 0.0
    for now, request in requests:
        started = time.perf_counter()
        decisions.append(limiter.check(request, now))
        slowest = max(slowest, time.perf_counter() - started)
    return decisions, slowest


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def template_hits(limiter: Limiter, now: float) -> int:
    """Hits of the heaviest pattern: the campaign's template (every request of the campaign carries it)."""
    return max((row.hits for row in limiter.top_patterns(10, now)), default=0)


def break_down(limiter: Limiter) -> None:
    """Make the outage visible to the limiter at once (instead of at its next background exchange)."""
    with pytest.raises(StorageError):
        limiter.sync()
    status = limiter.storage_status
    assert status is not None and not status.healthy and status.last_error


OUTAGES = {
    "killed and restarted": (RedisServer.kill, RedisServer.start),
    "frozen and resumed": (RedisServer.pause, RedisServer.resume),
}


@pytest.mark.parametrize("mode", ["eventual", "strict"])
@pytest.mark.parametrize("on_storage_error", ["local", "allow", "deny"])
@pytest.mark.parametrize("outage", list(OUTAGES))
def test_decisions_keep_coming_and_nothing_counted_is_lost(make, redis_server, mode, on_storage_error, outage):
    stop, restore = OUTAGES[outage]
    limiter = make(mode, on_storage_error)
    campaign = traffic.campaign(accounts=120, per_account=3)
    before, during, after = campaign[:120], campaign[120:240], campaign[240:]
    timed(limiter, before)
    limiter.sync()

    stop(redis_server)
    break_down(limiter)
    decisions, slowest = timed(limiter, during)
    # Never hang: a check costs at most one timeout (and none at all while backing off).
    assert slowest < 10 * TIMEOUT
    if on_storage_error == "allow":
        assert all(decision.action is Action.ALLOW for decision in decisions)
    elif on_storage_error == "deny":
        assert all(decision.rule == "storage-unavailable" for decision in decisions)
        assert all(decision.action is Action.THROTTLE and decision.retry_after for decision in decisions)
    else:  # decided on the local sketches alone: the campaign is still caught
        assert sum(not decision.allowed for decision in decisions) > len(decisions) / 2

    restore(redis_server)
    wait_until(lambda: limiter.storage_status is not None and limiter.storage_status.healthy)
    decisions, _ = timed(limiter, after)
    assert all(decision.rule != "storage-unavailable" for decision in decisions)
    limiter.sync()
    if outage == "killed and restarted":
        # Redis came back empty: the limiter republished its state (a new generation forces a snapshot)
        wait_until(lambda: bool(redis_server_has_snapshot(redis_server)))
    now = campaign[-1][0]
    joiner = make(mode, on_storage_error)
    assert template_hits(joiner, now) == template_hits(limiter, now) >= len(campaign) - 10


def redis_server_has_snapshot(server: RedisServer) -> bool:
    import redis

    client = redis.Redis(port=server.port)
    try:
        return bool(client.exists("{faults}:snapshot"))
    finally:
        client.close()


def test_records_kept_during_a_long_outage_are_bounded_and_the_drops_counted(redis_server):
    options = {"namespace": "bounded", "timeout": TIMEOUT, "connect_timeout": TIMEOUT, "max_pending_bytes": 1 << 16}
    limiter = Limiter(storage=redis_server.url, storage_options=options, secret=SECRET)
    try:
        redis_server.kill()
        break_down(limiter)
        campaign = traffic.campaign(accounts=400, per_account=5)
        for index in range(0, len(campaign), 100):
            timed(limiter, campaign[index : index + 100])
            with pytest.raises(StorageError):
                limiter.sync()  # each failed exchange puts the batch back under the bound
        status = limiter.storage_status
        assert status is not None
        assert status.pending_bytes <= 1 << 16
        assert status.dropped > 0
    finally:
        limiter.close()


@pytest.mark.parametrize("mode", ["eventual", "strict"])
def test_what_is_counted_while_redis_is_down_at_start_is_shipped_when_it_answers(make, redis_server, mode):
    redis_server.kill()
    limiter = make(mode)  # cannot join: every exchange fails until Redis answers
    campaign = traffic.campaign(accounts=60, per_account=2)
    for now, request in campaign:
        limiter.check(request, now)
        time.sleep(0.002)  # let the backoff end now and then, so that exchanges are tried (and fail)
    status = limiter.storage_status
    assert status is not None and status.failures > 1 and status.dropped == 0
    redis_server.start()
    wait_until(lambda: limiter.storage_status is not None and limiter.storage_status.healthy)
    limiter.sync()
    now = campaign[-1][0]
    joiner = make(mode)
    assert template_hits(joiner, now) == template_hits(limiter, now) == len(campaign)

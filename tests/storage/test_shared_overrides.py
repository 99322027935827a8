"""Overrides travel through the shared log: set in one process, applied in another, on a real Redis server."""

from __future__ import annotations

from patternlimit import Action, Limiter
from patternlimit._testing import traffic

SECRET = b"test secret for the override test"


def test_an_override_reaches_every_process_on_one_redis(shared_redis_url, namespace):
    options = {"namespace": namespace, "sync_interval": 0.05}
    first = Limiter(storage=shared_redis_url, storage_options=options, secret=SECRET)
    second = Limiter(storage=shared_redis_url, storage_options=options, secret=SECRET)
    try:
        stream = traffic.campaign(accounts=150, per_account=8, prefixes=4)
        for index, (now, request) in enumerate(stream):
            (first if index % 2 else second).check(request, now)
            if index % 50 == 0:
                first.sync()
                second.sync()
        now, request = stream[-1]
        assert second.check(request, now + 1).action is Action.THROTTLE
        first.allow(account=request.account, duration=3600, why="false positive", now=now)
        first.sync()
        second.sync()
        decision = second.check(request, now + 2)
        assert decision.rule == "override:allow" and "false positive" in decision.reason
        assert request.account not in decision.reason  # the account name does not travel through Redis
        first.clear(account=request.account)
        first.sync()
        second.sync()
        assert second.overrides(now=now + 3) == []
    finally:
        first.close()
        second.close()

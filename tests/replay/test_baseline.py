"""The replay's per-account baseline decides hit for hit as ``limits``' moving window on the clocked storage (the
simulator's baseline), on a stream with late lines and more accounts than it keeps."""

from __future__ import annotations

import random

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from patternlimit.policy.loading import load_policy
from patternlimit.replay.baseline import Baseline
from patternlimit.request import Request
from patternlimit.storage.clocked import ClockedMemoryStorage


def test_the_baseline_matches_limits_moving_window() -> None:
    policy = load_policy(
        {
            "name": "t",
            "rules": [{"type": "limit", "name": "a", "limit": "20/minute", "per": "account", "weighted": False}],
        }
    )
    baseline = Baseline(policy, max_keys=40)
    storage = ClockedMemoryStorage(max_keys=40)
    reference, item = MovingWindowRateLimiter(storage), parse(baseline.rate)
    rng = random.Random(7)
    now, ours, theirs = 1_767_225_600.0, [], []
    for _ in range(30_000):
        now += rng.expovariate(40.0)
        moment = now - rng.uniform(0, 30) if rng.random() < 0.05 else now  # a late line now and then
        account = None if rng.random() < 0.05 else f"acct-{min(rng.randrange(60), rng.randrange(60))}"
        request = Request(account=account, ip=f"192.0.2.{rng.randrange(4)}")
        ours.append(baseline.allows(request, moment))
        storage.now = moment
        theirs.append(reference.hit(item, account or f"anonymous:{request.ip}"))
    assert ours == theirs
    assert 0 < theirs.count(False) < len(theirs) // 2  # the limit was reached, the stream was not all stopped

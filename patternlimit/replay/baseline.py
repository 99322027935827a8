"""What per-account limits alone would have done: the simulator's baseline, on the replayed clock.

The same rule as ``patternlimit simulate``'s: ``limits``' moving window at the policy's own ``per: account`` rate
(:data:`~patternlimit.sim.evaluate.BASELINE_RATE` when it has none), unweighted, keyed by the account (an
anonymous caller by its address), so that replay and simulate agree on this column too.
"""

from __future__ import annotations

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from patternlimit.policy.models import LimitRule, Policy
from patternlimit.request import Request
from patternlimit.sim.evaluate import BASELINE_RATE
from patternlimit.storage.clocked import ClockedMemoryStorage

MAX_KEYS = 200_000
"""Accounts the baseline keeps windows for (least recently used dropped first): bounded memory on any log."""


def baseline_rate(policy: Policy) -> str:
    return next(
        (rule.limit for rule in policy.rules if isinstance(rule, LimitRule) and rule.per == "account"), BASELINE_RATE
    )


class Baseline:
    """A per-account moving-window limit on an explicit clock."""

    def __init__(self, policy: Policy) -> None:
        self.rate = baseline_rate(policy)
        self._storage = ClockedMemoryStorage(max_keys=MAX_KEYS)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._item = parse(self.rate)

    def allows(self, request: Request, now: float) -> bool:
        self._storage.now = now
        return self._limiter.hit(self._item, request.account or f"anonymous:{request.ip}")

"""What per-account limits alone would have done: the simulator's baseline, on the replayed clock.

The same rule as ``patternlimit simulate``'s: ``limits``' moving window at the policy's own ``per: account`` rate
(:data:`~patternlimit.sim.evaluate.BASELINE_RATE` when it has none), unweighted, keyed by the account (an
anonymous caller by its address), so that replay and simulate agree on this column too.

The window is kept here rather than through ``limits``' strategy and storage: the same algorithm as
``ClockedMemoryStorage.acquire_entry`` (drop the oldest entries at or before ``now - expiry``, admit when fewer than
the limit remain, remember the admitted time), but a deque per account instead of a list grown at its front, and no
key string, lock or listener per hit. That was a sixth of a replay's CPU; ``tests/replay/test_baseline.py`` checks
it against ``limits`` hit for hit, late lines included.
"""

from __future__ import annotations

from collections import deque

from limits import parse

from patternlimit.policy.models import LimitRule, Policy
from patternlimit.request import Request
from patternlimit.sim.evaluate import BASELINE_RATE

MAX_KEYS = 200_000
"""Accounts the baseline keeps windows for (least recently used dropped first): bounded memory on any log."""


def baseline_rate(policy: Policy) -> str:
    return next(
        (rule.limit for rule in policy.rules if isinstance(rule, LimitRule) and rule.per == "account"), BASELINE_RATE
    )


class Baseline:
    """A per-account moving-window limit on an explicit clock."""

    __slots__ = ("_expiry", "_limit", "_max_keys", "_windows", "rate")

    def __init__(self, policy: Policy, *, max_keys: int = MAX_KEYS) -> None:
        self.rate = baseline_rate(policy)
        item = parse(self.rate)
        self._limit, self._expiry = item.amount, item.get_expiry()
        self._max_keys = max_keys
        # Oldest admitted time on the left; insertion order of the dict is recency of use.
        self._windows: dict[str, deque[float]] = {}

    def allows(self, request: Request, now: float) -> bool:
        key = request.account or f"anonymous:{request.ip}"
        windows = self._windows
        events = windows.pop(key, None)
        if events is None:
            events = deque()
        cutoff = now - self._expiry
        while events and events[0] <= cutoff:
            events.popleft()
        allowed = len(events) < self._limit
        if allowed:
            events.append(now)
        if events:
            windows[key] = events
            if len(windows) > self._max_keys:
                del windows[next(iter(windows))]
        return allowed

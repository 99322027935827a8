"""What a limiter counts about itself, for metrics: decisions by action and rule, and check latency.

Plain counters (a dict increment and a bisect per decision, under the limiter's lock): the engine exports no
metrics format itself; :mod:`patternlimit.integrations.prometheus` reads these for Prometheus.
"""

from __future__ import annotations

import bisect
from collections import Counter

from patternlimit.policy.decision import Decision

LATENCY_BUCKETS = (
    0.000005,
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.1,
    1.0,
)
"""Upper bounds (seconds) of the check latency histogram; a check decides in tens of microseconds."""


class Stats:
    """Counters since the limiter started. Not thread-safe: the limiter records under its lock."""

    def __init__(self) -> None:
        self.decisions: Counter[tuple[str, str]] = Counter()
        """``(action, rule)`` -> decisions (``rule`` is ``""`` when none answered)."""
        self.latency_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        """Checks per latency bucket (the last: above every bound)."""
        self.latency_sum = 0.0

    def record(self, decision: Decision, seconds: float) -> None:
        self.decisions[(decision.action.value, decision.rule or "")] += 1
        self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def record_many(self, decisions: list[Decision], seconds: float) -> None:
        """A batch: each decision counted, and the batch's time spread evenly over them."""
        if not decisions:
            return
        each = seconds / len(decisions)
        bucket = bisect.bisect_left(LATENCY_BUCKETS, each)
        counts = self.decisions
        for decision in decisions:
            counts[(decision.action.value, decision.rule or "")] += 1
        self.latency_counts[bucket] += len(decisions)
        self.latency_sum += seconds

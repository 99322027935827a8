"""The detection evaluation: a labelled stream through the limiter and through a per-account baseline.

Only this module and the generators read the ground truth (``Labelled.scenario`` / ``Labelled.campaign``); the
limiter sees ``Labelled.request`` and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from patternlimit.engine import Limiter
from patternlimit.policy.decision import Action
from patternlimit.policy.loading import PolicySource, load_policy
from patternlimit.policy.models import LimitRule
from patternlimit.sim.labels import Labelled
from patternlimit.storage.clocked import ClockedMemoryStorage

SIMULATION_SECRET = b"patternlimit simulation secret (not for production)"
"""A fixed secret, so that one seed always gives one table."""

BASELINE_RATE = "600/minute"
"""The baseline's per-account limit when the policy has no ``per: account`` limit rule."""


@dataclass(slots=True)
class ScenarioMetrics:
    """What happened to one scenario's requests."""

    scenario: str
    campaign: bool
    requests: int = 0
    allowed: int = 0
    """Served: decided ALLOW or LOG."""
    logged: int = 0
    throttled: int = 0
    blocked: int = 0
    own_limit: int = 0
    """Throttled or blocked by an exact per-key limit rule (the account's own limit), not by a pattern."""
    baseline_allowed: int = 0
    first_request: float | None = None
    first_stop: float | None = None
    """Time of the first request stopped by a pattern or escalation rule."""
    timeline: dict[int, list[int]] = field(default_factory=dict)
    """Hour index -> [allowed, stopped] for the plot."""

    @property
    def pattern_stopped(self) -> int:
        """Requests stopped by pattern or escalation rules (what counts as a false positive on legitimate traffic)."""
        return self.throttled + self.blocked - self.own_limit

    @property
    def leak(self) -> float:
        """Share of requests served (the campaign's leak)."""
        return self.allowed / self.requests if self.requests else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.pattern_stopped / self.requests if self.requests else 0.0

    @property
    def baseline_leak(self) -> float:
        return self.baseline_allowed / self.requests if self.requests else 0.0

    @property
    def time_to_first_stop(self) -> float | None:
        if self.first_stop is None or self.first_request is None:
            return None
        return self.first_stop - self.first_request

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "campaign": self.campaign,
            "requests": self.requests,
            "allowed": self.allowed,
            "logged": self.logged,
            "throttled": self.throttled,
            "blocked": self.blocked,
            "own_limit": self.own_limit,
            "pattern_stopped": self.pattern_stopped,
            "leak": self.leak,
            "false_positive_rate": self.false_positive_rate,
            "baseline_allowed": self.baseline_allowed,
            "baseline_leak": self.baseline_leak,
            "time_to_first_stop_seconds": self.time_to_first_stop,
        }


@dataclass(slots=True)
class Evaluation:
    """The result of :func:`evaluate`: per-scenario metrics and the run's cost."""

    scenarios: dict[str, ScenarioMetrics]
    requests: int
    seconds: float
    limiter_bytes: int
    peak_rss_bytes: int
    policy: str
    baseline_rate: str

    @property
    def decisions_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def campaign(self) -> ScenarioMetrics | None:
        return next((metrics for metrics in self.scenarios.values() if metrics.campaign), None)

    def as_dict(self) -> dict[str, Any]:
        campaign = self.campaign
        return {
            "policy": self.policy,
            "baseline_rate": self.baseline_rate,
            "requests": self.requests,
            "seconds": self.seconds,
            "decisions_per_second": self.decisions_per_second,
            "limiter_bytes": self.limiter_bytes,
            "peak_rss_bytes": self.peak_rss_bytes,
            "campaign_leak": campaign.leak if campaign else None,
            "baseline_campaign_leak": campaign.baseline_leak if campaign else None,
            "time_to_first_stop_seconds": campaign.time_to_first_stop if campaign else None,
            "max_false_positive_rate": max(
                (metrics.false_positive_rate for metrics in self.scenarios.values() if not metrics.campaign),
                default=0.0,
            ),
            "scenarios": [metrics.as_dict() for metrics in self.scenarios.values()],
        }


def evaluate(
    stream: Sequence[Labelled],
    *,
    policy: PolicySource = None,
    chunk: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Run ``stream`` (sorted by time) through a fresh in-memory :class:`Limiter` and the per-account baseline."""
    loaded = load_policy(policy)
    limit_names = {rule.name for rule in loaded.rules if isinstance(rule, LimitRule)}
    baseline_rate = next(
        (rule.limit for rule in loaded.rules if isinstance(rule, LimitRule) and rule.per == "account"), BASELINE_RATE
    )
    # Simulated times are historic on purpose: replay mode takes them as given.
    limiter = Limiter(loaded, secret=SIMULATION_SECRET, clock="replay")
    baseline_storage = ClockedMemoryStorage(max_keys=1_000_000)
    baseline = MovingWindowRateLimiter(baseline_storage)
    baseline_item = parse(baseline_rate)
    metrics: dict[str, ScenarioMetrics] = {}
    started = time.perf_counter()
    for offset in range(0, len(stream), chunk):
        batch = stream[offset : offset + chunk]
        decisions = limiter.check_many([item.request for item in batch], [item.time for item in batch])
        for item, decision in zip(batch, decisions, strict=True):
            if item.scenario == "warmup":  # history the limiter learns from, not a figure
                continue
            scenario = metrics.get(item.scenario)
            if scenario is None:
                scenario = metrics[item.scenario] = ScenarioMetrics(item.scenario, item.campaign)
            _count(scenario, item, decision.action, decision.rule in limit_names)
            baseline_storage.now = item.time
            scenario.baseline_allowed += baseline.hit(
                baseline_item, item.request.account or f"anonymous:{item.request.ip}"
            )
        if progress is not None:
            progress(len(batch))
    seconds = time.perf_counter() - started
    return Evaluation(metrics, len(stream), seconds, limiter.nbytes, _peak_rss(), loaded.name, baseline_rate)


def _count(scenario: ScenarioMetrics, item: Labelled, action: Action, own_limit: bool) -> None:
    scenario.requests += 1
    if scenario.first_request is None:
        scenario.first_request = item.time
    hour = int(item.time // 3600)
    slot = scenario.timeline.setdefault(hour, [0, 0])
    if action is Action.ALLOW or action is Action.LOG:
        scenario.allowed += 1
        scenario.logged += action is Action.LOG
        slot[0] += 1
        return
    slot[1] += 1
    if action is Action.BLOCK:
        scenario.blocked += 1
    else:
        scenario.throttled += 1
    if own_limit:
        scenario.own_limit += 1
    elif scenario.first_stop is None:
        scenario.first_stop = item.time


def _peak_rss() -> int:
    """The process's peak resident memory (Linux ``VmHWM``), 0 where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0

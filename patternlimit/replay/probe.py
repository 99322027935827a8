"""The probe: every pattern's measures near the policy's thresholds, for the report's histograms and the suggestions.

A decision carries the measures of its pattern only when a rule acts on it, so the serving policy alone shows
nothing below its thresholds. The probe is a second limiter with the same secret, window and fingerprinting, whose
only rules log every pattern (of each kind the policy's pattern rules count) sent by at least a few young accounts:
:data:`FLOOR_SHARE` of the lowest ``young_accounts`` threshold on that kind. Its decisions give each such pattern's
``young_accounts``, ``young_share``, ``filler_diversity`` and network measures as the request saw them; they never
touch the replayed limiter, whose decisions stay the serving policy's.

For the threshold sweep each request gets a *ratio*: for every throttling rule of its pattern's kind that applies
to its account and whose other conditions hold, ``young_accounts / threshold``, the largest of them (or the
largest its pattern reached within the escalation memory, as a flagged pattern is remembered). Scaling every
``young_accounts`` threshold by ``s`` stops, to a first approximation, the requests whose ratio is at least ``s``.
Ratios are kept as two histograms, legitimate and the rest: constant memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from patternlimit.engine import Limiter
from patternlimit.policy.decision import Action, Decision
from patternlimit.policy.models import LimitRule, Measure, PatternRule, Policy, Threshold
from patternlimit.policy.standing import Standing, standing_of
from patternlimit.replay.records import LEGITIMATE, Record
from patternlimit.replay.tally import BoundedTable

FLOOR_SHARE = 0.1
"""The probe sees patterns down to this share of the lowest ``young_accounts`` threshold (and at least 2)."""

RATIO_LOW, RATIO_HIGH, RATIO_BINS = FLOOR_SHARE, 10.0, 200
"""The sweep's range of threshold multipliers, in log-spaced bins; ratios above the range go in the last bin."""

PATTERNS_KEPT = 20_000

_APPLIES = {
    "all": frozenset(Standing),
    "young": frozenset({Standing.YOUNG}),
    "established": frozenset({Standing.ESTABLISHED, Standing.TRUSTED}),
}
_NETWORK_MEASURES = ("network_share", "network_concentration")
_ALWAYS_MET = frozenset({"accounts", "young_share", "filler_diversity", "network_share", "network_concentration"})


def tuned_rules(policy: Policy) -> list[PatternRule]:
    """The rules the suggestions tune: pattern rules that stop requests and have a ``young_accounts`` minimum."""
    return [
        rule
        for rule in policy.rules
        if isinstance(rule, PatternRule)
        and rule.action != "log"
        and "young_accounts" in rule.when
        and rule.when["young_accounts"].min is not None
    ]


def probe_policy(policy: Policy) -> Policy:
    """The probe's policy: one logging rule per kind of the policy's pattern rules, at the probe's floor."""
    floors: dict[str, float] = {}
    measured: dict[str, set[Measure]] = {}
    for rule in policy.rules:
        if not isinstance(rule, PatternRule):
            continue
        threshold = rule.when.get("young_accounts")
        lowest = threshold.min if threshold is not None and threshold.min is not None else 20.0
        floors[rule.pattern] = min(floors.get(rule.pattern, math.inf), max(2.0, math.floor(FLOOR_SHARE * lowest)))
        measured.setdefault(rule.pattern, set()).update(rule.when)
    # The sketches estimate only the measures some rule tests: every measure the policy tests on a kind is asked
    # for, with a bound every value meets (all measures are >= 0), so that the probe's scores carry it.
    rules = [
        PatternRule(
            name=f"probe:{kind}",
            pattern=kind,
            when={
                **{measure: Threshold(min=0.0) for measure in sorted(measured[kind]) if measure in _ALWAYS_MET},
                "young_accounts": Threshold(min=floor),
            },
            applies_to="all",
            action="log",
        )
        for kind, floor in floors.items()
    ]
    return policy.model_copy(update={"name": f"{policy.name} (probe)", "shadow": False, "rules": rules})


@dataclass(slots=True)
class PatternMeasures:
    """One pattern as the probe saw it: the measures at its peak ``young_accounts``."""

    kind: str
    label: str
    young_accounts: float = 0.0
    accounts: float = 0.0
    young_share: float = 0.0
    filler_diversity: float = math.nan
    hits: float = 0.0
    ratio: float = 0.0
    """The largest sweep ratio a request on it reached (0 when no throttling rule's other conditions held)."""
    ratio_time: float = -math.inf
    legitimate: int = 0
    other: int = 0
    """Probed requests on it by ground truth (legitimate, the rest)."""


@dataclass(slots=True)
class Group:
    """A sweep population (legitimate, or the rest): its requests, and its ratios as a histogram."""

    requests: int = 0
    stopped_now: int = 0
    """Stopped by a pattern or escalation rule of the replayed policy."""
    ratios: list[int] = field(default_factory=lambda: [0] * RATIO_BINS)


def ratio_bin(ratio: float) -> int:
    if ratio <= RATIO_LOW:
        return 0
    position = math.log(ratio / RATIO_LOW) / math.log(RATIO_HIGH / RATIO_LOW) * (RATIO_BINS - 1)
    return min(RATIO_BINS - 1, int(position + 1e-9))


def bin_scale(index: int) -> float:
    """The smallest multiplier of bin ``index``."""
    return float(RATIO_LOW * (RATIO_HIGH / RATIO_LOW) ** (index / (RATIO_BINS - 1)))


class Probe:
    """Observes the replay beside the tally; see the module docstring."""

    def __init__(self, policy: Policy, secret: bytes | None, *, legit_accounts: frozenset[str] | None = None) -> None:
        self.policy = policy
        self.tuned = tuned_rules(policy)
        self._limiter = Limiter(probe_policy(policy), secret=secret, clock="replay")
        self._limit_rules = frozenset(rule.name for rule in policy.rules if isinstance(rule, LimitRule))
        self._by_kind: dict[str, list[PatternRule]] = {}
        for rule in self.tuned:
            self._by_kind.setdefault(rule.pattern, []).append(rule)
        self.legit_accounts = legit_accounts
        self.patterns: BoundedTable[PatternMeasures] = BoundedTable(
            PATTERNS_KEPT, lambda entry: int(entry.young_accounts)
        )
        self.legitimate = Group()
        self.rest = Group()
        self._memory = policy.escalation.memory
        self._context = policy.context

    def is_legitimate(self, record: Record) -> bool:
        if record.label == LEGITIMATE:
            return True
        accounts = self.legit_accounts
        return accounts is not None and record.request.account in accounts

    def observe(self, records: Sequence[Record], decisions: Sequence[Decision]) -> None:
        if not records:
            return
        probed = self._limiter.check_many([record.request for record in records], [record.time for record in records])
        for record, decision, seen in zip(records, decisions, probed, strict=True):
            legitimate = self.is_legitimate(record)
            group = self.legitimate if legitimate else self.rest
            group.requests += 1
            stopped = decision.action is Action.THROTTLE or decision.action is Action.BLOCK
            group.stopped_now += stopped and decision.rule not in self._limit_rules
            if seen.pattern is None or not seen.scores:
                continue
            ratio = self._measure(record, seen, legitimate)
            if ratio > 0.0:
                group.ratios[ratio_bin(ratio)] += 1

    def _measure(self, record: Record, seen: Decision, legitimate: bool) -> float:
        """Update the pattern's measures; return the request's sweep ratio."""
        pattern, scores = seen.pattern, seen.scores
        assert pattern is not None  # checked by the caller
        entry = self.patterns.get(pattern.key, lambda: PatternMeasures(pattern.kind, pattern.label))
        young = scores.get("young_accounts", 0.0)
        if legitimate:
            entry.legitimate += 1
        else:
            entry.other += 1
        if young >= entry.young_accounts:
            entry.young_accounts = young
            entry.accounts = scores.get("accounts", 0.0)
            entry.young_share = scores.get("young_share", 0.0)
            entry.filler_diversity = scores.get("filler_diversity", math.nan)
            entry.hits = scores.get("hits", 0.0)
        created = record.request.account_created_at
        standing = standing_of(None if created is None else record.time - created, self._context)
        ratio, fits_any = 0.0, False
        for rule in self._by_kind.get(pattern.kind, ()):
            if standing not in _APPLIES[rule.applies_to]:
                continue
            fits = _meets(rule, scores, _NETWORK_MEASURES)
            fits_any = fits_any or fits
            if fits and _meets(rule, scores, None):
                ratio = max(ratio, young / (rule.when["young_accounts"].min or 1.0))
        if ratio > entry.ratio or record.time - entry.ratio_time > self._memory:
            if ratio > 0.0:
                entry.ratio, entry.ratio_time = ratio, record.time
        elif fits_any and record.time - entry.ratio_time <= self._memory:
            # A flagged pattern is remembered: its later requests are acted on while they fit the network bounds.
            ratio = max(ratio, entry.ratio)
        return ratio


def _meets(rule: PatternRule, scores: object, only: tuple[str, ...] | None) -> bool:
    """Whether ``scores`` meet the rule's conditions other than ``young_accounts`` (only those in ``only`` when
    given). A measure the probe did not report (``pattern_age``) is not held against the request."""
    values = scores if isinstance(scores, dict) else dict(scores)  # type: ignore[call-overload]
    for measure, threshold in rule.when.items():
        if measure == "young_accounts" or (only is not None and measure not in only):
            continue
        value = values.get(measure)
        if value is None:
            continue
        if threshold.min is not None and value < threshold.min:
            return False
        if threshold.max is not None and value > threshold.max:
            return False
    return True

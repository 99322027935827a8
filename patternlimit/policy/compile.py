"""Models -> plain runtime rules, once, so that the hot path reads tuples and floats, not pydantic objects."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, cast

from limits import RateLimitItem
from limits import parse as parse_rate

from patternlimit._kernels.layout import COHORT_MEASURES, MEASURE_CODES, NEVER
from patternlimit.policy.decision import Action
from patternlimit.policy.models import LimitRule, Measure, PatternRule, Policy, Threshold
from patternlimit.policy.standing import Standing

TEXT_KINDS = frozenset({"template", "near_duplicate"})


@dataclass(frozen=True, slots=True)
class Condition:
    measure: str
    low: float
    high: float
    code: int
    """``MEASURE_CODES[measure]``: the engine dispatches on it without string comparisons."""


@dataclass(frozen=True, slots=True)
class CompiledPatternRule:
    name: str
    kind: str
    conditions: tuple[Condition, ...]
    standings: frozenset[Standing]
    min_account_hits: int
    action: Action
    retry_after: float
    shadow: bool
    any_conditions: tuple[Condition, ...] = ()
    """``when_any``: at least one must hold (checked by the engine, after the kernel's ``conditions``)."""


@dataclass(frozen=True, slots=True)
class CompiledLimitRule:
    name: str
    per: str
    items: dict[Standing, RateLimitItem]
    """The rate for each standing: the rule's amount times the standing's weight (at least 1)."""
    strategy: str
    action: Action
    shadow: bool


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy: Policy
    pattern_rules: tuple[CompiledPatternRule, ...]
    limit_rules: tuple[CompiledLimitRule, ...]
    kinds: tuple[str, ...]
    """Pattern kinds counted in the sketches, in a fixed order: those the pattern rules name, plus ``template``;
    the kinds whose rules use copies, filler diversity or network share come first (the kernel counts copies and
    cohorts for those only)."""
    copy_kinds: frozenset[str]
    needs_text: bool
    needs_age: bool
    gate: int
    """Hits below which no pattern rule can match: every rule bounds hits, accounts or young accounts from below
    (distinct accounts never exceed hits), so the kernel skips the costly estimates for keys under it (``NEVER``
    with no pattern rule)."""
    gates: dict[Standing, int]
    """The same gate over the rules that apply to a request of each standing, ``NEVER`` when none does: a request
    is measured only against the rules that can act on it (with the default preset, whose pattern rules all apply
    to young accounts, an established account's request is counted in every sketch and estimated in none)."""
    applicable: dict[Standing, tuple[int, ...]]
    """Per standing, the indices in :attr:`pattern_rules` of the rules that apply to it."""


_APPLIES = {
    "young": frozenset({Standing.YOUNG}),
    "established": frozenset({Standing.ESTABLISHED, Standing.TRUSTED}),
    "all": frozenset(Standing),
}


def compile_policy(policy: Policy) -> CompiledPolicy:
    pattern_rules = tuple(_pattern_rule(rule, policy) for rule in policy.rules if isinstance(rule, PatternRule))
    limit_rules = tuple(_limit_rule(rule, policy) for rule in policy.rules if isinstance(rule, LimitRule))
    kinds = ["template"]
    for rule in pattern_rules:
        if rule.kind not in kinds:
            kinds.append(rule.kind)
    copy_kinds = frozenset(
        rule.kind
        for rule in pattern_rules
        if any(condition.measure in COHORT_MEASURES for condition in (*rule.conditions, *rule.any_conditions))
    )
    kinds.sort(key=lambda kind: kind not in copy_kinds)  # stable: copy kinds first, otherwise as named
    needs_text = any(part in TEXT_KINDS for kind in kinds for part in kind.split("+"))
    needs_age = any(condition.measure == "pattern_age" for rule in pattern_rules for condition in rule.conditions)
    applicable = {
        standing: tuple(index for index, rule in enumerate(pattern_rules) if standing in rule.standings)
        for standing in Standing
    }
    return CompiledPolicy(
        policy,
        pattern_rules,
        limit_rules,
        tuple(kinds),
        copy_kinds,
        needs_text,
        needs_age,
        _gate(pattern_rules),
        {standing: _gate(tuple(pattern_rules[index] for index in rules)) for standing, rules in applicable.items()},
        applicable,
    )


def _gate(rules: tuple[CompiledPatternRule, ...]) -> int:
    floors = []
    for rule in rules:
        bounded = [c.low for c in rule.conditions if c.measure in ("hits", "accounts", "young_accounts") and c.low > 0]
        floors.append(math.floor(max(bounded)) if bounded else 0)
    return min(floors, default=NEVER)


def _condition(measure: Measure, threshold: Threshold) -> Condition:
    low = -math.inf if threshold.min is None else threshold.min
    high = math.inf if threshold.max is None else threshold.max
    return Condition(measure, low, high, MEASURE_CODES[measure])


def _pattern_rule(rule: PatternRule, policy: Policy) -> CompiledPatternRule:
    conditions = tuple(
        sorted(
            (_condition(measure, threshold) for measure, threshold in rule.when.items()),
            # Cheapest and most selective first: most keys fail on young_accounts and are dismissed at once.
            key=lambda condition: condition.code,
        )
    )
    any_conditions = tuple(_condition(measure, threshold) for measure, threshold in rule.when_any.items())
    return CompiledPatternRule(
        any_conditions=any_conditions,
        name=rule.name,
        kind=rule.pattern,
        conditions=conditions,
        standings=_APPLIES[rule.applies_to],
        min_account_hits=rule.min_account_hits,
        action=Action(rule.action),
        retry_after=rule.retry_after,
        shadow=rule.shadow or policy.shadow,
    )


def _limit_rule(rule: LimitRule, policy: Policy) -> CompiledLimitRule:
    base = parse_rate(rule.limit)
    weights = policy.context.weights
    items = {}
    for standing, weight in (
        (Standing.YOUNG, weights.young),
        (Standing.ESTABLISHED, weights.established),
        (Standing.TRUSTED, weights.trusted),
    ):
        amount = max(1, round(base.amount * (weight if rule.weighted else 1.0)))
        items[standing] = quick_key_item(type(base))(amount, base.multiples, namespace=f"PL:{rule.name}")
    return CompiledLimitRule(
        name=rule.name,
        per=rule.per,
        items=items,
        strategy=rule.strategy,
        action=Action(rule.action),
        shadow=rule.shadow or policy.shadow,
    )


@functools.cache
def quick_key_item(granularity: type[RateLimitItem]) -> type[RateLimitItem]:
    """``granularity`` (a ``limits`` item class) whose ``key_for`` of one ``str`` identifier, the engine's only call,
    joins two strings made at construction instead of rebuilding them: the same key as ``limits``' own (tested),
    about 0.1 instead of 0.7 us a hit. Every other call, and all of the strategy, stays ``limits``'."""

    def init(self: Any, amount: int, multiples: int | None = 1, namespace: str = "LIMITER") -> None:
        granularity.__init__(self, amount, multiples, namespace)
        self._prefix = f"{self.namespace}/"
        self._suffix = f"/{self.amount}/{self.multiples}/{self.GRANULARITY.name}"

    def key_for(self: Any, *identifiers: bytes | str | int | float) -> str:
        if len(identifiers) == 1 and type(identifiers[0]) is str:
            return f"{self._prefix}{identifiers[0]}{self._suffix}"
        return granularity.key_for(self, *identifiers)

    namespace = {"__slots__": ("_prefix", "_suffix"), "__init__": init, "key_for": key_for}
    meta: Any = type(granularity)  # limits' metaclass
    return cast(type[RateLimitItem], meta(f"Quick{granularity.__name__}", (granularity,), namespace))

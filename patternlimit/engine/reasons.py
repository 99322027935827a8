"""The sentences a decision gives as its reason, and the decision objects that carry them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from patternlimit.policy.compile import CompiledPatternRule
from patternlimit.policy.decision import Action, Decision, PatternRef


def finish(
    rule: str,
    action: Action,
    shadow: bool,
    pattern: PatternRef,
    reason: str,
    retry_after: float | None,
    scores: Mapping[str, float],
) -> Decision:
    """The decision of an enforced rule, or its ``LOG`` twin when the rule (or the policy) is shadowed."""
    frozen = scores if isinstance(scores, MappingProxyType) else MappingProxyType(scores)
    if shadow:
        return Decision(Action.LOG, rule, pattern, f"shadow: {reason}", None, frozen, False, action)
    return Decision(action, rule, pattern, reason, retry_after, frozen)


def pattern_reason(
    rule: CompiledPatternRule,
    kind: str,
    values: Mapping[str, float],
    matches: bool,
    *,
    window: float,
    young_age: float,
    memory: float,
) -> str:
    """Why a pattern rule acts on a request: the measures of its pattern against the rule's threshold."""
    allowed = next((condition.low for condition in rule.conditions if condition.measure == "young_accounts"), None)
    sentence = (
        f"{values['young_accounts']:.0f} distinct accounts younger than {duration(young_age)} "
        f"({values['young_share']:.0%} of {values['accounts']:.0f}) sent this {kind.replace('_', '-')} in the "
        f"last {duration(window)}"
    )
    if "filler_diversity" in values:
        sentence += f", {values['filler_diversity']:.0%} of its {values['hits']:.0f} requests with new text"
    else:
        sentence += f" in {values['hits']:.0f} requests"
    if allowed is not None:
        sentence += f"; the rule allows {allowed:.0f}"
    if not matches:
        sentence += f" (pattern flagged earlier, remembered for {duration(memory)})"
    return sentence


def penalty_reason(rule: str, action: Action, remaining: float, offences: int) -> str:
    return (
        f"this account was caught by rule {rule!r} and stays "
        f"{'blocked' if action is Action.BLOCK else 'throttled'} for {remaining:.0f} s more "
        f"(caught {offences} time{'s' if offences != 1 else ''})"
    )


def limit_reason(per: str, amount: int, expiry: float, standing: str, weight: float) -> str:
    return f"{per} is over its limit of {amount} per {expiry:.0f} s ({standing} account, weight {weight:g})"


def taint_reason(kind: str, caught: int, memory: float, threshold: int) -> str:
    return (
        f"{caught} accounts caught on flagged patterns used this {kind} in the last "
        f"{duration(memory)}; young accounts from it start throttled (threshold {threshold})"
    )


def watching_reason(reason: str, flagged_hits: int, acted_from: int) -> str:
    return f"{reason}; this account's request {flagged_hits} on flagged patterns, acted on from {acted_from}"


def ratio(part: float, whole: float) -> float:
    """``part / whole`` capped at 1; 0 for an empty whole; NaN stays NaN (a measure that was not counted)."""
    if whole <= 0:
        return 0.0
    share = part / whole
    return share if share < 1.0 or math.isnan(share) else 1.0


def duration(seconds: float) -> str:
    """``21600`` -> ``"6 hours"``; seconds that are no whole unit stay seconds."""
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size and seconds % size == 0:
            amount = seconds / size
            return f"{amount:.0f} {unit[:-1] if amount == 1 else unit}"
    return f"{seconds:g} s"

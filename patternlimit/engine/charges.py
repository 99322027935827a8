"""What :meth:`Limiter.charge <patternlimit.Limiter.charge>` and :meth:`~patternlimit.Limiter.limit_state` need
beside the decider: the limit rules a charge names, and a request's facts for its limit rules alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import NamedTuple

from patternlimit.engine.facts import FactsBuilder, RequestFacts
from patternlimit.policy.models import Policy
from patternlimit.request import Request


class LimitState(NamedTuple):
    """One row of :meth:`Limiter.limit_state <patternlimit.Limiter.limit_state>`: an exact limit rule, its
    ``limit`` for the request's standing, what is ``remaining`` of it, and the seconds until its window frees
    some (``reset``)."""

    rule: str
    limit: int
    remaining: int
    reset: float


def limit_names(policy: Policy, rules: Iterable[str]) -> frozenset[str]:
    """``rules`` (one name or several) as a set, each checked to be a limit rule of ``policy``."""
    names = frozenset((rules,) if isinstance(rules, str) else rules)
    known = {rule.name for rule in policy.rules if rule.type == "limit"}
    unknown = sorted(repr(name) for name in names - known)
    if unknown:
        valid = ", ".join(map(repr, sorted(known))) or "none"
        raise ValueError(f"rules: {', '.join(unknown)} not among the policy's limit rules ({valid})")
    return names


def light_facts(builder: FactsBuilder, request: Request, now: float) -> RequestFacts:
    """``request``'s facts at ``now``, its text left out when every limit rule counts per account: the charge
    after a response then costs no second fingerprint."""
    if request.text and all(rule.per == "account" for rule in builder.compiled.limit_rules):
        request = replace(request, text="")
    return builder.facts(request, now)

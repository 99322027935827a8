"""Decision -> HTTP response, framework-free: status, headers and an RFC 9457 problem+json body.

- a throttle is ``429 Too Many Requests`` with ``Retry-After`` (whole seconds, rounded up, at most
  :data:`MAX_RETRY_AFTER`);
- a block is ``config.block_status`` (403 by default), with ``Retry-After`` only if the decision has one;
- with ``headers_enabled``, the fields of draft-ietf-httpapi-ratelimit-headers:

  - ``RateLimit-Policy`` lists every exact limit rule of the policy (``"account-rate";q=600;w=60``): its quota for
    an established account and its window. The draft asks this field to stay the same over a sequence of
    responses, so it is built once from the policy and never from a decision; weighted rules give young accounts
    less (the ``RateLimit`` field of their 429 tells the truth). Pattern rules have no per-client quota and are
    not listed: their names and thresholds are not the client's business (they tell an adversary what to vary).
  - ``RateLimit`` carries the current state: on a rejection ``"account-rate";r=0;t=42`` for a limit rule,
    ``"pattern";r=0;t=600`` for a pattern rule, an escalation or a penalty; with ``headers_on_allowed``, on an
    allowed response, every limit rule's remaining quota and reset (:func:`state_field`).

  Every value is serialised as a Structured Field (:mod:`patternlimit.integrations.fields`), so a rule name with
  a quote, CR/LF or non-ASCII text cannot break the header;
- the body's ``type`` is one of the draft's registered problem types: ``quota-exceeded`` (with
  ``violated-policies``) for exact limit rules, ``abnormal-usage-detected`` for pattern rules and escalations.
  ``detail`` carries the decision's reason only with ``expose_reason``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import limits

from patternlimit.integrations.config import PROBLEM_BASE, WebConfig
from patternlimit.integrations.fields import serialize_item, serialize_list
from patternlimit.policy.decision import Action, Decision

if TYPE_CHECKING:
    from patternlimit.engine.charges import LimitState
    from patternlimit.policy.models import Policy

PROBLEM_JSON = "application/problem+json"

MAX_RETRY_AFTER = 2_147_483_647
"""The longest ``Retry-After`` sent, in seconds (about 68 years): the largest value a client storing it in a signed
32-bit integer reads correctly; an infinite or larger ``retry_after`` is sent as this."""

_TITLES = {
    "abnormal-usage-detected": "Abnormal usage detected",
    "quota-exceeded": "Quota exceeded",
}

PATTERN_POLICY = "pattern"
"""The name under which every pattern rule, escalation and penalty appears in ``RateLimit``."""


class Rejection(NamedTuple):
    """A response to send instead of calling the app: ``headers`` are ``(name, value)`` strings."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Quota:
    """An exact limit rule as ``RateLimit-Policy`` describes it: ``amount`` requests per ``window`` seconds."""

    amount: int
    window: int


def quotas_of(policy: Policy) -> dict[str, Quota]:
    """The quota of every exact limit rule of ``policy``, by rule name, in policy order."""
    quotas = {}
    for rule in policy.rules:
        if rule.type == "limit":
            item = limits.parse(rule.limit)
            quotas[rule.name] = Quota(int(item.amount), max(1, math.ceil(item.get_expiry())))
    return quotas


def policy_field(quotas: Mapping[str, Quota]) -> str | None:
    """The ``RateLimit-Policy`` value for ``quotas`` (None when there are none: the field is a non-empty List)."""
    if not quotas:
        return None
    return serialize_list((name, [("q", quota.amount), ("w", quota.window)]) for name, quota in quotas.items())


def state_field(states: Iterable[LimitState]) -> str | None:
    """The ``RateLimit`` value of an allowed response: ``"account-rate";r=599;t=60`` for each limit rule
    (``Limiter.limit_state``), its remaining quota and the whole seconds until its window frees some."""
    members = [(state.rule, [("r", state.remaining), ("t", math.ceil(state.reset))]) for state in states]
    return serialize_list(members) if members else None


def retry_seconds(retry_after: float | None) -> int | None:
    """``retry_after`` as whole seconds for ``Retry-After``: rounded up, at least 1, at most
    :data:`MAX_RETRY_AFTER` (infinity included); None when unknown or not a number."""
    if retry_after is None or math.isnan(retry_after):
        return None
    if retry_after >= MAX_RETRY_AFTER:
        return MAX_RETRY_AFTER
    return max(1, math.ceil(retry_after))


def rejection(
    decision: Decision, config: WebConfig | None = None, quotas: Mapping[str, Quota] | None = None
) -> Rejection:
    """The response for a throttle or block ``decision`` (e.g. ``RateLimitExceeded.decision``). ``quotas``
    (:func:`quotas_of` the limiter's policy) fill ``RateLimit-Policy``; without them it is left out."""
    config = config or _DEFAULT
    throttled = decision.action is Action.THROTTLE
    status = 429 if throttled else config.block_status
    rule = decision.rule or "limit"
    is_limit = "limit" in decision.scores and not rule.startswith("escalation:")
    kind = "quota-exceeded" if is_limit else "abnormal-usage-detected"
    retry = retry_seconds(decision.retry_after)
    headers = [("content-type", PROBLEM_JSON)]
    if retry is not None:
        headers.append(("retry-after", str(retry)))
    if config.headers_enabled:
        policies = policy_field(quotas or {})
        if policies is not None:
            headers.append(("ratelimit-policy", policies))
        state: list[tuple[str, int]] = [("r", 0)] + ([("t", retry)] if retry is not None else [])
        headers.append(("ratelimit", serialize_item(rule if is_limit else PATTERN_POLICY, state)))
    problem: dict[str, object] = {
        "type": config.problem_base + kind,
        "title": _TITLES[kind],
        "status": status,
        "detail": decision.reason
        if config.expose_reason
        else ("Too many requests; retry later." if throttled else "This request was refused by the usage policy."),
    }
    if is_limit:
        problem["violated-policies"] = [rule]
    if retry is not None:
        problem["retry_after"] = retry
    return Rejection(status, headers, json.dumps(problem).encode("utf-8"))


def oversized(config: WebConfig) -> Rejection:
    """413 for a body above ``max_body_bytes`` when ``reject_oversized`` is set. No registered problem type fits,
    so under the default ``problem_base`` it is ``about:blank`` (RFC 9457 §4.2.1: the status says it all)."""
    problem = {
        "type": "about:blank" if config.problem_base == PROBLEM_BASE else config.problem_base + "payload-too-large",
        "title": "Content Too Large",
        "status": 413,
        "detail": f"The request body is larger than {config.max_body_bytes} bytes.",
    }
    return Rejection(413, [("content-type", PROBLEM_JSON)], json.dumps(problem).encode("utf-8"))


_DEFAULT = WebConfig(account_key=b"\0" * 16)

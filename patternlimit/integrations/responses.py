"""Decision -> HTTP response, framework-free: status, headers and an RFC 9457 problem+json body.

- a throttle is ``429 Too Many Requests`` with ``Retry-After`` (whole seconds, rounded up);
- a block is ``config.block_status`` (403 by default), with ``Retry-After`` only if the decision has one;
- with ``headers_enabled``, the IETF draft (draft-ietf-httpapi-ratelimit-headers) ``RateLimit-Policy`` and
  ``RateLimit`` headers. An exact limit rule is described as it is (``"account-rate";q=600;w=60``); a pattern
  rule has no per-client quota, so it appears as the policy ``"pattern"`` with ``q=0`` over the retry window: the
  rule's name and thresholds are not the client's business (they tell an adversary what to vary);
- the body's ``type`` is ``<problem_base>abnormal-usage-detected`` (the draft's problem type for usage the server
  judges abusive) for pattern rules and escalations, ``<problem_base>rate-limit-exceeded`` for exact limit rules.
  ``detail`` carries the decision's reason only with ``expose_reason``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import NamedTuple

from patternlimit.integrations.config import WebConfig
from patternlimit.policy.decision import Action, Decision

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    "abnormal-usage-detected": "Abnormal usage detected",
    "rate-limit-exceeded": "Rate limit exceeded",
    "payload-too-large": "Request body too large",
}


class Rejection(NamedTuple):
    """A response to send instead of calling the app: ``headers`` are ``(name, value)`` strings."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def rejection(
    decision: Decision, config: WebConfig | None = None, windows: Mapping[str, float] | None = None
) -> Rejection:
    """The response for a throttle or block ``decision`` (e.g. ``RateLimitExceeded.decision``). ``windows`` maps
    limit rule names to their window in seconds, for ``RateLimit-Policy``'s ``w`` (left out when unknown)."""
    config = config or _DEFAULT
    throttled = decision.action is Action.THROTTLE
    status = 429 if throttled else config.block_status
    is_limit = "limit" in decision.scores and not (decision.rule or "").startswith("escalation:")
    kind = "rate-limit-exceeded" if is_limit else "abnormal-usage-detected"
    retry = None if decision.retry_after is None else max(1, math.ceil(decision.retry_after))
    headers = [("content-type", PROBLEM_JSON)]
    if retry is not None:
        headers.append(("retry-after", str(retry)))
    if config.headers_enabled:
        if is_limit:
            name = decision.rule or "limit"
            policy = f'"{_token(name)}";q={int(decision.scores["limit"])}'
            window = (windows or {}).get(name)
            if window is not None:
                policy += f";w={math.ceil(window)}"
        else:
            name = "pattern"
            policy = '"pattern";q=0' + (f";w={retry}" if retry is not None else "")
        headers.append(("ratelimit-policy", policy))
        headers.append(("ratelimit", f'"{_token(name)}";r=0' + (f";t={retry}" if retry is not None else "")))
    problem: dict[str, object] = {
        "type": config.problem_base + kind,
        "title": _TITLES[kind],
        "status": status,
        "detail": decision.reason
        if config.expose_reason
        else ("Too many requests; retry later." if throttled else "This request was refused by the usage policy."),
    }
    if retry is not None:
        problem["retry_after"] = retry
    return Rejection(status, headers, json.dumps(problem).encode("utf-8"))


def oversized(config: WebConfig) -> Rejection:
    """413 for a body above ``max_body_bytes`` when ``reject_oversized`` is set."""
    problem = {
        "type": config.problem_base + "payload-too-large",
        "title": _TITLES["payload-too-large"],
        "status": 413,
        "detail": f"The request body is larger than {config.max_body_bytes} bytes.",
    }
    return Rejection(413, [("content-type", PROBLEM_JSON)], json.dumps(problem).encode("utf-8"))


def _token(name: str) -> str:
    """A policy name safe inside a structured-field string."""
    return name.replace("\\", "").replace('"', "")


_DEFAULT = WebConfig(account_key=b"\0" * 16)

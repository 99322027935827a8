"""The sidecar's JSON: a request's facts in, a decision out; validated with pydantic, errors naming the field."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from patternlimit.policy.decision import Decision
from patternlimit.request import Request

MAX_TEXT = 1 << 20


class CheckRequest(BaseModel):
    """``POST /v1/check``: the fields of :class:`patternlimit.Request`, and optionally ``now`` (epoch seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str | None = Field(default=None, max_length=1024)
    ip: str = Field(default="", max_length=64)
    text: str = Field(default="", max_length=MAX_TEXT)
    route: str = Field(default="", max_length=1024)
    client: str = Field(default="", max_length=4096)
    account_created_at: float | None = Field(default=None, allow_inf_nan=False, ge=0, lt=1e12)
    cost: int = Field(default=1, ge=0, lt=1 << 32)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=64)
    now: float | None = Field(default=None, allow_inf_nan=False, ge=0, lt=1e12)

    def to_request(self) -> Request:
        return Request(
            account=self.account,
            ip=self.ip,
            text=self.text,
            route=self.route,
            client=self.client,
            account_created_at=self.account_created_at,
            cost=self.cost,
            attributes=dict(self.attributes),
        )


class BatchRequest(BaseModel):
    """``POST /v1/check/batch``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: list[CheckRequest] = Field(max_length=10_000)


def problems(error: ValidationError) -> list[str]:
    """Each field at fault, in plain words: ``requests.3.cost: Input should be greater than or equal to 0``."""
    return [f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}" for item in error.errors()]


def decision_json(decision: Decision) -> dict[str, Any]:
    retry = decision.retry_after
    return {
        "action": decision.action.value,
        "allowed": decision.allowed,
        "rule": decision.rule,
        "pattern": None
        if decision.pattern is None
        else {"kind": decision.pattern.kind, "label": decision.pattern.label, "key": str(decision.pattern.key)},
        "reason": decision.reason,
        "retry_after": None if retry is None or not math.isfinite(retry) else max(0.0, retry),
        "enforced": decision.enforced,
        "headers": _headers(decision),
    }


def _headers(decision: Decision) -> dict[str, str]:
    """The headers the gateway should send with the answer."""
    if decision.allowed or decision.retry_after is None or not math.isfinite(decision.retry_after):
        return {}
    return {"retry-after": str(max(1, math.ceil(min(decision.retry_after, 86400 * 7))))}

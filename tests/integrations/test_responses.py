"""Decision -> problem+json response, framework-free."""

from __future__ import annotations

import json

from patternlimit import Action, Decision
from patternlimit.integrations import WebConfig, rejection


def test_rejection_rounds_retry_after_up_and_only_exposes_the_reason_when_asked():
    decision = Decision(Action.THROTTLE, rule="template-fan-out", reason="85 young accounts", retry_after=0.2)
    status, headers, body = rejection(decision)
    problem = json.loads(body)
    assert status == 429 and dict(headers)["retry-after"] == "1" and "85" not in problem["detail"]
    _, _, body = rejection(decision, WebConfig(expose_reason=True))
    assert json.loads(body)["detail"] == "85 young accounts"
    blocked = Decision(Action.BLOCK, rule="escalation:network-taint", reason="r", scores={"limit": 3.0})
    status, headers, body = rejection(blocked)
    assert status == 403 and "retry-after" not in dict(headers)
    assert json.loads(body)["type"].endswith("/abnormal-usage-detected")
    assert dict(headers)["ratelimit"] == '"pattern";r=0'

"""``@limit(limiter, request=...)`` on sync and async handlers, and the FastAPI dependency."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from fastapi import Depends, FastAPI

from patternlimit import ConfigurationError, Limiter, RateLimitExceeded, Request
from patternlimit._testing import traffic
from patternlimit.integrations.asgi import PatternLimitMiddleware
from patternlimit.integrations.decorators import dependency, limit, starlette_handler
from patternlimit.policy.models import LimitRule, Policy
from tests.integrations import support
from tests.integrations.test_asgi import PROBLEM, Spy

NOW = 1_760_000_000.0


def young(user: str, prompt: str) -> Request:
    return Request(account=user, text=prompt, ip="198.51.100.7", account_created_at=None)


def campaign_calls() -> list[tuple[str, str]]:
    rng = random.Random(9)
    return [(f"u{index}", traffic.campaign_prompt(rng)) for _ in range(3) for index in range(64)]


def test_a_sync_handler_without_a_request_argument_raises_rate_limit_exceeded_on_a_campaign():
    limiter = Limiter(secret=support.SECRET)
    served: list[str] = []

    @limit(limiter, request=young)
    def complete(user: str, prompt: str) -> str:
        served.append(user)
        return "ok"

    raised = []
    for user, prompt in campaign_calls():
        try:
            assert complete(user, prompt) == "ok"
        except RateLimitExceeded as exc:
            raised.append(exc.decision)
    assert len(raised) > 64 and len(served) + len(raised) == 3 * 64
    assert raised[0].rule == "template-fan-out" and raised[0].retry_after is not None
    assert complete.__name__ == "complete"  # functools.wraps: frameworks still see the signature


def test_an_async_handler_is_checked_with_acheck_and_an_async_request_hook():
    limiter = Limiter(secret=support.SECRET)
    checked = []

    class Tracking(Spy):
        async def acheck(self, request):  # type: ignore[no-untyped-def]
            checked.append("acheck")
            self.requests.append(request)
            return self.limiter.check(request)

    spy = Tracking(limiter)

    async def facts(user: str, prompt: str) -> Request:
        return young(user, prompt)

    @limit(spy, request=facts, exempt=lambda user, prompt: user == "u0")  # type: ignore[arg-type]
    async def complete(user: str, prompt: str) -> str:
        return prompt[:3]

    async def go() -> int:
        rejected = 0
        for user, prompt in campaign_calls():
            try:
                await complete(user, prompt)
            except RateLimitExceeded:
                rejected += 1
        return rejected

    assert asyncio.run(go()) > 64
    assert len(checked) == 3 * 63  # u0 is exempt; nothing went through the sync check
    assert {request.route for request in spy.requests} == {complete.__qualname__}


def test_limit_needs_a_request_hook_and_limiter_failures_run_the_handler():
    limiter = Limiter(secret=support.SECRET)
    with pytest.raises(ConfigurationError, match="request="):
        limit(limiter)

    @limit(Spy(limiter, fail=True), request=young)  # type: ignore[arg-type]
    def handler(user: str, prompt: str) -> str:
        return "served"

    assert handler("u", "p") == "served"


def test_the_fastapi_dependency_and_exception_handler_answer_429_problem_json():
    limiter = Limiter(Policy(rules=[LimitRule(name="per-key", limit="2/minute", weighted=False)]), secret=b"s" * 16)
    app = FastAPI()
    app.add_exception_handler(RateLimitExceeded, starlette_handler(limiter))
    guard = dependency(limiter, json_fields=("prompt",))

    @app.post("/v1/complete", dependencies=[Depends(guard)])
    async def complete(payload: dict) -> dict:  # type: ignore[type-arg]
        return {"echo": payload["prompt"]}

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [
                await http.post("/v1/complete", json={"prompt": "hello"}, headers={"x-api-key": "k1"}) for _ in range(3)
            ]

    first, second, third = asyncio.run(go())
    assert first.json() == {"echo": "hello"} and second.status_code == 200  # the body still reaches the handler
    assert third.status_code == 429 and third.headers["content-type"] == "application/problem+json"
    assert support.sf_list(third.headers["ratelimit-policy"]) == [("per-key", {"q": 2, "w": 60})]
    assert third.json()["type"] == PROBLEM + "quota-exceeded"


def test_the_decorator_inside_a_fastapi_app_under_the_middleware_becomes_a_429():
    limiter = Limiter(Policy(rules=[LimitRule(name="calls", limit="1/minute", weighted=False)]), secret=b"s" * 16)
    app = FastAPI()
    app.add_middleware(PatternLimitMiddleware, limiter=Limiter(secret=support.SECRET))

    @app.get("/v1/items/{item}")
    @limit(limiter, request=lambda item: Request(account="team-a", text=item))
    async def read(item: str) -> dict:  # type: ignore[type-arg]
        return {"item": item}

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [await http.get("/v1/items/a"), await http.get("/v1/items/b")]

    ok, limited = asyncio.run(go())
    assert ok.json() == {"item": "a"}
    assert limited.status_code == 429 and limited.json()["type"] == PROBLEM + "quota-exceeded"

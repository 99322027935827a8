"""The apps the middleware benchmark serves under uvicorn: a trivial pure ASGI app, bare; behind a *floor*
middleware that does only what any body-fingerprinting middleware must (read the body, parse its JSON, pick the
prompt text, replay the body); behind the middleware with a limiter that always allows (the integration's own
cost); and behind the middleware with the real limiter. Then the peer comparison: one trivial Starlette app plain,
behind the middleware with the real limiter, and with slowapi (one per-key limit on memory://)."""

from __future__ import annotations

import json
import time
from typing import Any

from slowapi import Limiter as SlowLimiter
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded as SlowRateLimitExceeded
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route

from patternlimit import Limiter
from patternlimit.integrations import AccountContext, RequestInfo, WebConfig
from patternlimit.integrations.asgi import PatternLimitMiddleware
from patternlimit.policy.decision import ALLOW, Decision

BODY = b'{"ok": true}'
CREATED = time.time() - 400 * 86400.0


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body, answers a small JSON document: about the least work an API endpoint can do."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False) and message["type"] == "http.request"
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


async def floor(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``bare`` behind the least a body-fingerprinting middleware can do: one body message read, its JSON parsed and
    the messages' contents joined, the message replayed. No headers read, no fingerprint, no limiter: its overhead
    is a floor under any middleware that meets the issue's body requirements on this stack."""
    if scope["type"] != "http":
        await bare(scope, receive, send)
        return
    message = await receive()
    try:
        text = "\n".join(part["content"] for part in json.loads(message.get("body", b""))["messages"])
    except (ValueError, KeyError, TypeError):
        text = ""
    scope["floor.text_chars"] = len(text)
    buffered = [message]

    async def replay() -> Any:
        return buffered.pop() if buffered else await receive()

    await bare(scope, replay, send)


async def established(account: str, info: RequestInfo) -> AccountContext:
    """Every benchmark account is 400 days old: the bulk of production traffic."""
    return AccountContext(created_at=CREATED)


CONFIG = WebConfig(
    json_fields=("messages[*].content",),
    account_context=established,
    trusted_proxies=("127.0.0.1",),  # the load generator plays the proxy: X-Forwarded-For carries varied clients
    account_key=b"benchmark account key, not for production",
)


class AllowAll:
    """A limiter that allows everything at once: what is left is the middleware's own cost."""

    def __init__(self, limiter: Limiter) -> None:
        self.policy = limiter.policy

    async def acheck(self, request: object, now: float | None = None) -> Decision:
        return ALLOW


_limiter = Limiter(secret=b"benchmark secret, not for production")
limited = PatternLimitMiddleware(bare, limiter=_limiter, config=CONFIG)
integration_only = PatternLimitMiddleware(bare, limiter=AllowAll(_limiter), config=CONFIG)  # type: ignore[arg-type]


# The peer comparison: one trivial Starlette app three times, plain, behind the middleware with the real limiter,
# and with slowapi (what a FastAPI or Starlette user would otherwise add: one per-key limit on memory://, set on
# the route with slowapi's decorator, its documented and cheapest form). slowapi needs a Starlette app (it finds
# its limiter on ``app.state`` and the limit by the matched route), so this is the common base for the three;
# each cost is measured against this plain app, not against the pure ASGI ``bare``.
def _starlette_app(middleware: list[Middleware] | None = None) -> Starlette:
    async def messages(request: StarletteRequest) -> Response:
        await request.body()
        return Response(BODY, media_type="application/json")

    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])], middleware=middleware)


def _slowapi_app() -> Starlette:
    def api_key(request: StarletteRequest) -> str:
        return request.headers.get("x-api-key", "")

    # High enough never to trip on the benchmark's keys: every request is counted and allowed, as with patternlimit.
    slow = SlowLimiter(key_func=api_key, storage_uri="memory://")

    @slow.limit("100000/minute")
    async def messages(request: StarletteRequest) -> Response:
        await request.body()
        return Response(BODY, media_type="application/json")

    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
    app.state.limiter = slow
    app.add_exception_handler(SlowRateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
    return app


starlette = _starlette_app()
starlette_patternlimit = _starlette_app([Middleware(PatternLimitMiddleware, limiter=_limiter, config=CONFIG)])
starlette_slowapi = _slowapi_app()

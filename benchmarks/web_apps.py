"""The apps the middleware benchmark serves under uvicorn: a trivial pure ASGI app, bare, behind the middleware
with a limiter that always allows (the integration's own cost), and behind the middleware with the real limiter."""

from __future__ import annotations

import time
from typing import Any

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

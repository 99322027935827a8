"""Pure ASGI middleware: check each HTTP request with ``await limiter.acheck`` before the app sees it.

Works with any ASGI app (FastAPI, Starlette, Quart, Django's ASGI handler) and imports no framework::

    app = PatternLimitMiddleware(app, limiter=limiter, json_fields=("messages[*].content",))
    app.add_middleware(PatternLimitMiddleware, limiter=limiter)  # Starlette / FastAPI

For each ``http`` scope it reads the body until ``max_body_bytes`` (plus at most the one chunk that crosses it),
fingerprints that prefix, and, if the request may proceed, hands the app a ``receive`` that replays the messages
already read and then continues with the original ``receive``: the app sees every byte, unchanged, and the
middleware never holds more than the cap and one chunk. Other scopes (``lifespan``, ``websocket``) pass through.

A throttle answers 429, a block 403 (see :mod:`patternlimit.integrations.responses`); a
:class:`~patternlimit.errors.RateLimitExceeded` raised by the app (from ``@limiter.limit``) before it started its
response is answered the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from patternlimit.errors import RateLimitExceeded
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.facts import RequestInfo, headers_from_asgi
from patternlimit.integrations.guard import Guard, describe, logger, make_config
from patternlimit.integrations.responses import Rejection, oversized, rejection

if TYPE_CHECKING:
    from patternlimit.engine import Limiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class PatternLimitMiddleware:
    """Wrap ``app``; ``limiter`` decides, ``config`` (or the same options as keywords) says how."""

    def __init__(self, app: ASGIApp, limiter: Limiter, config: WebConfig | None = None, **options: Any) -> None:
        self.app = app
        self.config = make_config(config, options)
        self.guard = Guard(limiter, self.config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        info = RequestInfo(
            method=scope.get("method", "GET"),
            path=scope.get("path", ""),
            headers=headers_from_asgi(scope.get("headers", ())),
            peer=client[0] if client else "",
            query=scope.get("query_string", b"").decode("latin-1"),
        )
        if self.guard.exempt(info):
            await self.app(scope, receive, send)
            return
        config = self.config
        cap = config.max_body_bytes
        if config.reject_oversized and _declared_length(info) > cap:
            await _respond(send, oversized(config))
            return

        # Read one byte past the cap (in practice: the chunk that crosses it) so a body of exactly `cap` bytes
        # is known to be complete and its JSON can be parsed.
        buffered: deque[Message] = deque()
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= cap:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":  # http.disconnect: replay it, the app will see it
                break
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
            more = bool(message.get("more_body", False))
        complete = not more and size <= cap
        if config.reject_oversized and size > cap:
            await _respond(send, oversized(config))
            return
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)

        refusal = await self.guard.acheck(info, body, complete)
        if refusal is not None:
            await _respond(send, refusal)
            return

        async def replay() -> Message:
            if buffered:
                return buffered.popleft()
            return await receive()

        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracked_send)
        except RateLimitExceeded as exc:
            if started:
                raise
            logger.warning("patternlimit: %s", describe(exc.decision, info))
            await _respond(send, rejection(exc.decision, config, self.guard.windows))


def _declared_length(info: RequestInfo) -> int:
    value = info.header("content-length")
    try:
        return int(value) if value is not None else -1
    except ValueError:
        return -1


async def _respond(send: Send, refusal: Rejection) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in refusal.headers]
    headers.append((b"content-length", str(len(refusal.body)).encode("ascii")))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": refusal.body})

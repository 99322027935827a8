"""Pure ASGI middleware: check each HTTP request with ``await limiter.acheck`` before the app sees it.

Works with any ASGI app (FastAPI, Starlette, Quart, Django's ASGI handler) and imports no framework::

    app = PatternLimitMiddleware(app, limiter=limiter, json_fields=("messages[*].content",))
    app.add_middleware(PatternLimitMiddleware, limiter=limiter)  # Starlette / FastAPI

For each ``http`` scope it reads the body until ``max_body_bytes`` (plus at most the one chunk that crosses it),
fingerprints that prefix, and, if the request may proceed, hands the app a ``receive`` that replays the messages
already read and then continues with the original ``receive``: the app sees every byte, unchanged, and the
middleware never holds more than the cap and one chunk. Other scopes (``lifespan``, ``websocket``) pass through.

A throttle answers 429, a block 403 (see :mod:`patternlimit.integrations.responses`); a
:class:`~patternlimit.errors.RateLimitExceeded` raised by the app (from
:func:`patternlimit.integrations.decorators.limit`) before it started its response is answered the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from patternlimit.errors import PatternLimitError, RateLimitExceeded
from patternlimit.integrations.accounts import MISSING, NO_ACCOUNT_FIELDS, AccountFields, account_from
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.guard import Guard, log_decision, log_failure, make_config
from patternlimit.integrations.http import RequestInfo, client_of, headers_fingerprint, headers_from_asgi, ip_resolver
from patternlimit.integrations.responses import Rejection, oversized, rejection
from patternlimit.integrations.usage import UsageMeter
from patternlimit.policy.decision import Action
from patternlimit.request import Request

if TYPE_CHECKING:
    from patternlimit.engine import Limiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = Sequence[tuple[bytes, bytes]]

_ALLOW = Action.ALLOW


class PatternLimitMiddleware:
    """Wrap ``app``; ``limiter`` decides, ``config`` (or the same options as keywords) says how."""

    def __init__(self, app: ASGIApp, limiter: Limiter, config: WebConfig | None = None, **options: Any) -> None:
        self.app = app
        self.config = make_config(config, options)
        self.guard = Guard(limiter, self.config)
        self._contexts = self.guard.contexts
        self._context_cache = self.guard.contexts.cache
        self._forwarded = self.config.forwarded_header.encode("latin-1")
        header = self.config.client_header
        self._client_header = header.encode("latin-1") if header else None
        self._client_ip = ip_resolver(self.config.trusted, self.config.forwarded_header)
        self._allowed_headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in self.guard.allowed_headers
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The request is read straight from the scope's header list, in one pass (`dict` runs in C); the
        # RequestInfo the hooks and logs see is built only if one of them needs it, since decoding every header
        # costs more than everything else here together.
        config = self.config
        guard = self.guard
        method: str = scope.get("method", "GET")
        path: str = scope.get("path", "")
        headers: Headers = scope.get("headers", ())
        if type(headers) is not list and type(headers) is not tuple:
            headers = tuple(headers)  # any iterable is allowed, and it is read several times below
        info: RequestInfo | None = None
        if config.exempt is not None:
            info = _info(scope, headers, method, path)
            if config.exempt(info):
                await self.app(scope, receive, send)
                return
        first = dict(headers)
        if len(first) == len(headers):  # no header sent twice: the usual case
            names = b"\n".join(first)
            forwarded = first.get(self._forwarded)
        else:
            first, names, forwarded = _repeated(headers, self._forwarded)
        cap = config.max_body_bytes
        if config.reject_oversized and _declared_length(first.get(b"content-length")) > cap:
            await _respond(send, oversized(config))
            return

        # Read one byte past the cap (in practice: the chunk that crosses it) so a body of exactly `cap` bytes
        # is known to be complete and its JSON can be parsed.
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):  # one message: the usual
            body = message.get("body", b"") or b""
            size = len(body)
            complete = size <= cap
            buffered = [message]
        else:
            body, size, complete, buffered = await _read_more(message, receive, cap)
        if config.reject_oversized and size > cap:
            await _respond(send, oversized(config))
            return

        if config.account is not None:
            info = info or _info(scope, headers, method, path)
            account = config.account(info)
        else:
            account = account_from(first.get(b"authorization"), first.get(b"x-api-key"), config.digest_key)
        fields: AccountFields = NO_ACCOUNT_FIELDS
        if config.account_context is not None and account is not None:
            cached = self._context_cache.get(account)
            if cached is MISSING:
                info = info or _info(scope, headers, method, path)
                fields = await self._contexts.aload(account, info)
            else:
                fields = cached  # type: ignore[assignment]
        client = scope.get("client")
        peer = client[0] if client else ""
        if config.networks:
            ip = self._client_ip(peer, forwarded)
        else:
            ip = peer
            if guard.watch_peers:
                guard.note_peer(peer)
        text = config.select_text(body if size <= cap else body[:cap], complete)
        if config.route is not None:
            info = info or _info(scope, headers, method, path)
            route = config.route(info)
        else:
            route = path
        request = Request(
            account=account,
            ip=ip,
            text=text,
            route=route,
            client=(
                headers_fingerprint(headers, names, len(headers), first.get(b"user-agent"))
                if self._client_header is None
                else client_of(
                    headers,
                    names,
                    first.get(b"user-agent"),
                    first.get(self._client_header) if config.networks and config.trusted(peer) else None,
                )
            ),
            account_created_at=fields.created_at,
            attributes=fields.attributes,
        )
        try:
            decision = await guard.limiter.acheck(request)
        except PatternLimitError:
            log_failure(info or _info(scope, headers, method, path))
        else:
            if decision.action is not _ALLOW:
                refusal = guard.outcome(decision, info or _info(scope, headers, method, path), request)
                if refusal is not None:
                    await _respond(send, refusal)
                    return

        buffered.reverse()

        async def replay() -> Message:
            if buffered:
                return buffered.pop()
            return await receive()

        started = False
        extra = self._allowed_headers

        def tracked_send(message: Message) -> Awaitable[None]:
            # A plain function handing back send's awaitable: one coroutine fewer per message sent.
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            return send(message)

        watch = _ResponseWatch(guard, request, send, extra) if guard.state_headers or guard.usage else None
        try:
            await self.app(scope, replay, tracked_send if watch is None else watch.send)
        except RateLimitExceeded as exc:
            if started or (watch is not None and watch.started):
                raise
            log_decision(exc.decision, info or _info(scope, headers, method, path), None, config)
            await _respond(send, rejection(exc.decision, config, guard.quotas))
        finally:
            if watch is not None:
                await watch.settle()  # an app that ended mid-body (or raised) is charged what it sent


class _ResponseWatch:
    """The app's ``send`` when the response is looked at: ``RateLimit`` added to its headers
    (``headers_on_allowed``), its body's token usage read as it passes and charged once it has ended
    (``usage``)."""

    __slots__ = ("_extra", "_guard", "_meter", "_request", "_send", "started")

    def __init__(self, guard: Guard, request: Request, send: Send, extra: list[tuple[bytes, bytes]]) -> None:
        self._guard, self._request, self._send, self._extra = guard, request, send, extra
        self._meter: UsageMeter | None = None
        self.started = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
            guard = self._guard
            headers = [*message.get("headers", ()), *self._extra]
            if guard.state_headers:
                state = guard.state_header(self._request)
                if state is not None:
                    headers.append((state[0].encode("latin-1"), state[1].encode("latin-1")))
            if guard.usage is not None:
                types = {name.lower(): value for name, value in message.get("headers", ())}
                self._meter = guard.meter(
                    types.get(b"content-type", b"").decode("latin-1"),
                    types.get(b"content-encoding", b"").decode("latin-1"),
                )
            message = {**message, "headers": headers}
        elif kind == "http.response.body" and self._meter is not None:
            self._meter.feed(message.get("body", b""))
            if not message.get("more_body", False):
                # Charged before the last message goes: once the client has the whole response, the account's
                # next request meets the charge.
                await self.settle()
        await self._send(message)

    async def settle(self) -> None:
        """Charge the usage read (at the end of the body, or when the app ended without finishing it)."""
        meter, self._meter = self._meter, None
        if meter is not None:
            await self._guard.acharge(self._request, meter)


def _info(scope: Scope, headers: Headers, method: str, path: str) -> RequestInfo:
    """The hooks' and logs' view of the request (``method`` and ``path`` as they were when it arrived: routers may
    rewrite the scope in place while the app runs)."""
    client = scope.get("client")
    return RequestInfo(
        method=method,
        path=path,
        headers=headers_from_asgi(headers),
        peer=client[0] if client else "",
        query=scope.get("query_string", b"").decode("latin-1"),
    )


def _repeated(headers: Headers, forwarded: bytes) -> tuple[dict[bytes, bytes], bytes, bytes | None]:
    """For a header list with a name sent more than once: each name's first value, every name joined by newlines
    (repeats included, as the client fingerprint counts them), and the ``forwarded`` header's lines joined by
    commas (one list, as :meth:`RequestInfo.header_values` gives it) or None."""
    first: dict[bytes, bytes] = {}
    lines: list[bytes] = []
    for name, value in headers:
        if name not in first:
            first[name] = value
        if name == forwarded:
            lines.append(value)
    names = b"\n".join([name for name, _ in headers])
    return first, names, b",".join(lines) if lines else None


async def _read_more(message: Message, receive: Receive, cap: int) -> tuple[bytes, int, bool, list[Message]]:
    """The body when it comes in several messages (or not at all): read until past ``cap`` or its end. Returns
    the prefix read, its size, whether it is the whole body, and the messages to replay."""
    buffered = [message]
    chunks: list[bytes] = []
    size, more = 0, True
    while True:
        if message["type"] != "http.request":  # http.disconnect: replay it, the app will see it
            break
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
        more = bool(message.get("more_body", False))
        if not more or size > cap:
            break
        message = await receive()
        buffered.append(message)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return body, size, not more and size <= cap, buffered


def _declared_length(value: bytes | None) -> int:
    try:
        return int(value.decode("latin-1")) if value is not None else -1
    except ValueError:
        return -1


async def _respond(send: Send, refusal: Rejection) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in refusal.headers]
    headers.append((b"content-length", str(len(refusal.body)).encode("ascii")))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": refusal.body})

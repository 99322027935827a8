"""WSGI middleware: check each request with ``limiter.check`` before the app (Flask, Django, ...) sees it::

    app.wsgi_app = PatternLimitWSGIMiddleware(app.wsgi_app, limiter=limiter)   # Flask
    application = PatternLimitWSGIMiddleware(get_wsgi_application(), limiter=limiter)  # Django

It reads up to ``max_body_bytes`` (plus one byte, to know whether the body is complete) from ``wsgi.input``,
never past ``CONTENT_LENGTH``, fingerprints it, and replaces ``wsgi.input`` with a :class:`ReplayInput` that yields
the prefix and then the rest of the original stream.

Bodies without ``CONTENT_LENGTH`` (chunked uploads) are read only when the server sets ``wsgi.input_terminated``
(PEP 3333 forbids reading past the declared length otherwise; gunicorn and uWSGI set it). When such a body fits
in the cap it is then complete, and ``CONTENT_LENGTH`` is set to its length: frameworks that ignore
``wsgi.input_terminated`` (Django reads ``CONTENT_LENGTH`` bytes and nothing without it) then see the body too.
A longer chunked body keeps no ``CONTENT_LENGTH`` and streams through the replay to the end of the original stream.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from patternlimit.errors import RateLimitExceeded
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.guard import Guard, log_decision, make_config
from patternlimit.integrations.http import RequestInfo, headers_from_environ
from patternlimit.integrations.responses import Rejection, oversized, rejection
from patternlimit.integrations.usage import UsageMeter
from patternlimit.request import Request

if TYPE_CHECKING:
    from patternlimit.engine import Limiter

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_REASONS = {403: "Forbidden", 413: "Content Too Large", 429: "Too Many Requests"}


class ReplayInput(io.RawIOBase):
    """``prefix`` then the rest of ``stream``, at most ``remaining`` more bytes of it (None: to its end)."""

    def __init__(self, prefix: bytes, stream: BinaryIO, remaining: int | None) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._stream = stream
        self._remaining = remaining

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            head = bytes(self._prefix)
            self._prefix = self._prefix[len(self._prefix) :]
            return head + self._read_stream(-1)
        if self._prefix:
            head = bytes(self._prefix[:size])
            self._prefix = self._prefix[len(head) :]
            return head
        return self._read_stream(size)

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        if self._prefix:
            view = bytes(self._prefix[:limit] if limit >= 0 else self._prefix)
            end = view.find(b"\n")
            line = view if end < 0 else view[: end + 1]
            self._prefix = self._prefix[len(line) :]
            if end >= 0 or (limit >= 0 and len(line) >= limit):
                return line
            return line + self.readline(-1 if limit < 0 else limit - len(line))
        if self._remaining is not None:
            if self._remaining <= 0:
                return b""
            limit = self._remaining if limit < 0 else min(limit, self._remaining)
        line = self._stream.readline(limit) if limit >= 0 else self._stream.readline()
        if self._remaining is not None:
            self._remaining -= len(line)
        return line

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def _read_stream(self, size: int) -> bytes:
        if self._remaining is not None:
            if self._remaining <= 0:
                return b""
            size = self._remaining if size < 0 else min(size, self._remaining)
        data = self._stream.read(size) if size >= 0 else self._stream.read()
        if self._remaining is not None:
            self._remaining -= len(data)
        return data


class PatternLimitWSGIMiddleware:
    """Wrap a WSGI ``app``; ``limiter`` decides (with the sync ``check``), ``config`` or keywords say how."""

    def __init__(self, app: WSGIApp, limiter: Limiter, config: WebConfig | None = None, **options: Any) -> None:
        self.app = app
        self.config = make_config(config, options)
        self.guard = Guard(limiter, self.config)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        info = RequestInfo(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", ""),
            headers=headers_from_environ(environ),
            peer=environ.get("REMOTE_ADDR", "") or "",
            query=environ.get("QUERY_STRING", ""),
        )
        if self.guard.exempt(info):
            return self.app(environ, start_response)
        config = self.config
        cap = config.max_body_bytes
        length = _content_length(environ)
        terminated = bool(environ.get("wsgi.input_terminated", False))
        if config.reject_oversized and length is not None and length > cap:
            return _respond(start_response, oversized(config))
        stream = environ.get("wsgi.input")
        if stream is None or (length is None and not terminated):
            body, complete, remaining = b"", length is None, length
        elif length is not None:
            body = _read(stream, min(length, cap + 1))
            remaining = length - len(body)
            complete = remaining == 0 and len(body) <= cap
        else:
            body = _read(stream, cap + 1)
            remaining = None
            complete = len(body) <= cap
        if config.reject_oversized and len(body) > cap:
            return _respond(start_response, oversized(config))
        if stream is not None and (length is not None or terminated):
            environ["wsgi.input"] = ReplayInput(body, stream, remaining)
            if length is None and complete:
                environ["CONTENT_LENGTH"] = str(len(body))

        guard = self.guard
        decided = guard.decide(info, body, complete)
        request = None
        if decided is not None:
            decision, request = decided
            refusal = guard.outcome(decision, info, request)
            if refusal is not None:
                return _respond(start_response, refusal)
        started = False
        extra = guard.allowed_headers
        watched = request is not None and (guard.state_headers or guard.usage is not None)
        meters: list[UsageMeter] = []

        def tracked_start_response(status: str, headers: list[tuple[str, str]], *rest: Any, **named: Any) -> Any:
            nonlocal started
            started = True
            if watched:
                assert request is not None  # watched says so
                headers, meter = _watch(guard, request, headers)
                meters[:] = [meter] if meter is not None else []
            return start_response(status, [*headers, *extra] if extra else headers, *rest, **named)

        try:
            result = self.app(environ, tracked_start_response)
            if watched and guard.usage is not None:
                assert request is not None  # watched says so
                return _ChargedBody(result, meters, lambda meter: guard.charge(request, meter))
            return result
        except RateLimitExceeded as exc:
            # Raised before the app returned its iterable, so nothing has been sent: a new status replaces any the
            # app set (PEP 3333: a second start_response call must pass exc_info).
            log_decision(exc.decision, info, None, config)
            refusal = rejection(exc.decision, config, self.guard.quotas)
            return _respond(start_response, refusal, error=exc if started else None)


class _ChargedBody:
    """The app's response iterable, its chunks fed to the response's usage meter (``meters``, set when the app
    calls ``start_response``: perhaps only at its first chunk) and the usage charged once the body has ended, or
    when the server closes it early (what was read by then)."""

    def __init__(self, body: Iterable[bytes], meters: list[UsageMeter], charge: Callable[[UsageMeter], None]) -> None:
        self._body = body
        self._meters = meters
        self._charge = charge

    def __iter__(self) -> Iterator[bytes]:
        meters = self._meters
        for chunk in self._body:
            if meters:
                meters[0].feed(chunk)
            yield chunk
        self._settle()

    def close(self) -> None:
        try:
            self._settle()
        finally:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()

    def _settle(self) -> None:
        if self._meters:
            meter = self._meters.pop()
            self._charge(meter)


def _watch(
    guard: Guard, request: Request, headers: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], UsageMeter | None]:
    """The response headers with ``RateLimit`` added (``headers_on_allowed``), and its usage meter (``usage``)."""
    if guard.state_headers:
        state = guard.state_header(request)
        if state is not None:
            headers = [*headers, state]
    meter = None
    if guard.usage is not None:
        named = {name.lower(): value for name, value in headers}
        meter = guard.meter(named.get("content-type", ""), named.get("content-encoding", ""))
    return headers, meter


def _content_length(environ: Environ) -> int | None:
    value = environ.get("CONTENT_LENGTH")
    if value in (None, ""):
        return None
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


def _read(stream: BinaryIO, size: int) -> bytes:
    """Exactly ``size`` bytes, or fewer at the end of the stream (servers may return short reads)."""
    parts = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _respond(start_response: StartResponse, refusal: Rejection, error: BaseException | None = None) -> list[bytes]:
    status = f"{refusal.status} {_REASONS.get(refusal.status, 'Error')}"
    headers = [*refusal.headers, ("Content-Length", str(len(refusal.body)))]
    if error is not None:
        start_response(status, headers, (type(error), error, error.__traceback__))
    else:
        start_response(status, headers)
    return [refusal.body]

"""``@limit(limiter, request=...)`` for sync and async handlers, and a FastAPI dependency.

The decorator does not need the handler to take a ``request`` argument (slowapi's most common complaint): the
request facts come from a ``request=`` callable that receives the handler's own arguments and returns a
:class:`patternlimit.Request`::

    from patternlimit.integrations.decorators import limit

    @limit(limiter, request=lambda prompt, user: Request(account=user.id, text=prompt,
                                                         account_created_at=user.created_at))
    def complete(prompt: str, user: User) -> str: ...

A sync handler is checked with ``limiter.check``, an async one with ``await limiter.acheck`` (and ``request=`` may
then be async too). On a throttle or block the wrapper raises :class:`~patternlimit.errors.RateLimitExceeded`
carrying the decision; the ASGI and WSGI middlewares answer it with 429/403, or map it yourself with
:func:`patternlimit.integrations.responses.rejection` (Flask: ``app.register_error_handler``; Starlette/FastAPI:
:func:`starlette_handler`). Limiter failures are logged and the handler runs (fail open, like the middlewares).

For FastAPI, :func:`dependency` gives ``Depends(...)`` a callable that takes the Starlette request and checks it
with the same facts as the ASGI middleware (it reads the body through Starlette, which caches it for the handler).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from patternlimit.errors import ConfigurationError, PatternLimitError, RateLimitExceeded
from patternlimit.integrations.config import WebConfig
from patternlimit.integrations.guard import Guard, log_decision, logger, make_config
from patternlimit.integrations.http import RequestInfo, headers_from_asgi
from patternlimit.integrations.responses import quotas_of, rejection
from patternlimit.policy.decision import Action, Decision
from patternlimit.request import Request

if TYPE_CHECKING:
    from patternlimit.engine import Limiter

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

RequestHook = Callable[..., Request | Awaitable[Request]]


def limit(
    limiter: Limiter,
    *,
    request: RequestHook | None = None,
    exempt: Callable[..., bool] | None = None,
    route: str | None = None,
) -> Callable[[_Handler], _Handler]:
    """A decorator checking every call of the handler against ``limiter``.

    - ``request(*args, **kwargs) -> Request`` builds the request facts from the handler's arguments (required);
      for an async handler it may be async. A request without ``route`` gets ``route`` (default: the handler's
      qualified name).
    - ``exempt(*args, **kwargs) -> bool``: true skips the check for that call.

    Raises :class:`RateLimitExceeded` from the call on a throttle or block; ``Action.LOG`` only logs.
    """
    if request is None or not callable(request):
        raise ConfigurationError(
            "limit() needs request=: a callable taking the handler's arguments and returning a patternlimit.Request"
        )
    if exempt is not None and not callable(exempt):
        raise ConfigurationError(f"exempt must be a callable taking the handler's arguments, not {exempt!r}")
    make_request = request

    def decorate(handler: _Handler) -> _Handler:
        name: str = route or str(getattr(handler, "__qualname__", "handler"))
        info = RequestInfo(method="CALL", path=name)

        def settle(decision: Decision, facts: Request) -> None:
            if decision.action is Action.ALLOW:
                return
            log_decision(decision, info, facts, _LOG_CONFIG)
            if not decision.allowed:
                raise RateLimitExceeded(decision)

        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if exempt is None or not exempt(*args, **kwargs):
                    facts = make_request(*args, **kwargs)
                    if inspect.isawaitable(facts):
                        facts = await facts
                    facts = _with_route(facts, name)
                    try:
                        decision = await limiter.acheck(facts)
                    except PatternLimitError:
                        logger.warning("patternlimit: the limiter failed; running %s unchecked", name, exc_info=True)
                    else:
                        settle(decision, facts)
                return await handler(*args, **kwargs)

            return cast(_Handler, async_wrapper)

        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if exempt is None or not exempt(*args, **kwargs):
                facts = make_request(*args, **kwargs)
                if inspect.isawaitable(facts):
                    close = getattr(facts, "close", None)
                    if close is not None:
                        close()
                    raise ConfigurationError(f"request= returned an awaitable for the sync handler {name}")
                facts = _with_route(facts, name)
                try:
                    decision = limiter.check(facts)
                except PatternLimitError:
                    logger.warning("patternlimit: the limiter failed; running %s unchecked", name, exc_info=True)
                else:
                    settle(decision, facts)
            return handler(*args, **kwargs)

        return cast(_Handler, wrapper)

    return decorate


_LOG_CONFIG = WebConfig()
"""The decorator has no WebConfig: its logs digest accounts with a per-process key and never log identities."""


def _with_route(facts: object, route: str) -> Request:
    if not isinstance(facts, Request):
        raise ConfigurationError(f"request= must return a patternlimit.Request, not {type(facts).__name__}")
    return facts if facts.route else dataclasses.replace(facts, route=route)


def dependency(limiter: Limiter, config: WebConfig | None = None, **options: Any) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency: ``Depends(dependency(limiter, json_fields=("prompt",)))`` on a route or router.

    It builds the request facts as the ASGI middleware does (the same :class:`WebConfig` options), reading up to
    ``max_body_bytes`` of the body through Starlette (``request.body()``, which Starlette caches, so the handler
    can still read it; unlike the middleware this buffers the whole body, as FastAPI does for JSON bodies anyway),
    and raises :class:`RateLimitExceeded` on a throttle or block: register :func:`starlette_handler` for it, or
    add the ASGI middleware, which answers it.
    """
    try:
        from starlette.requests import Request as StarletteRequest
    except ImportError as exc:  # pragma: no cover - starlette is in the test extra
        raise ImportError('the FastAPI dependency needs starlette: pip install "patternlimit[web]"') from exc
    guard = Guard(limiter, make_config(config, options))

    async def check_request(request: Any) -> None:
        client = request.client
        info = RequestInfo(
            method=request.method,
            path=request.url.path,
            headers=headers_from_asgi(request.scope.get("headers", ())),
            peer=client.host if client else "",
            query=request.url.query,
        )
        if guard.exempt(info):
            return
        body = await request.body()
        cap = guard.config.max_body_bytes
        decided = await guard.adecide(info, body[: cap + 1], len(body) <= cap)
        if decided is not None and guard.outcome(decided[0], info, decided[1]) is not None:
            raise RateLimitExceeded(decided[0])

    # FastAPI injects by annotation; the class is set here so this module never imports starlette on load.
    check_request.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=StarletteRequest)],
        return_annotation=None,
    )
    return check_request


def starlette_handler(
    limiter: Limiter | None = None, config: WebConfig | None = None
) -> Callable[[Any, Exception], Any]:
    """An exception handler for Starlette/FastAPI that answers :class:`RateLimitExceeded` with the middleware's
    429/403 problem response: ``app.add_exception_handler(RateLimitExceeded, starlette_handler(limiter))``
    (``limiter`` only supplies the limit rules' quotas for ``RateLimit-Policy``)."""
    try:
        from starlette.responses import Response
    except ImportError as exc:  # pragma: no cover - starlette is in the test extra
        raise ImportError('starlette_handler needs starlette: pip install "patternlimit[web]"') from exc

    quotas = quotas_of(limiter.policy) if limiter is not None else None

    def handle(request: Any, exc: Exception) -> Any:
        if not isinstance(exc, RateLimitExceeded):
            raise exc
        refusal = rejection(exc.decision, config, quotas)
        return Response(refusal.body, status_code=refusal.status, headers=dict(refusal.headers))

    return handle

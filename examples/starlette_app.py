"""A Starlette app behind patternlimit's pure ASGI middleware. Run: ``uvicorn examples.starlette_app:app``."""

from __future__ import annotations

import hashlib

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from patternlimit import Limiter
from patternlimit.integrations import WebConfig
from patternlimit.integrations.asgi import PatternLimitMiddleware

limiter = Limiter()

config = WebConfig(
    max_body_bytes=64 * 1024,  # read this much for fingerprinting; the rest streams through untouched
    json_fields=("prompt", "messages[*].content"),
    trusted_proxies=("10.0.0.0/8",),  # believe X-Forwarded-For only from our load balancers
    client_header="x-ja4",  # the JA4 TLS fingerprint our TLS-terminating proxy adds
    exempt=lambda info: info.path == "/health",
)


async def complete(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


app = Starlette(
    routes=[Route("/v1/complete", complete, methods=["POST"]), Route("/health", health)],
    middleware=[Middleware(PatternLimitMiddleware, limiter=limiter, config=config)],
)

"""The sidecar's ASGI app: decisions over HTTP JSON, nginx ``auth_request``, health, metrics, and admin.

=====================  ==========================================================================================
``POST /v1/check``     one request's facts as JSON (:class:`~patternlimit.sidecar.schema.CheckRequest`) ->
                       the decision as JSON (``action``, ``allowed``, ``rule``, ``pattern``, ``reason``,
                       ``retry_after``, ``headers`` to send)
``POST /v1/check/batch`` ``{"requests": [...]}`` -> ``{"decisions": [...]}``, decided in order
``GET /v1/auth``       nginx ``auth_request``: the facts from the headers nginx sets (``X-Api-Key`` or
                       ``Authorization``, ``X-Real-IP``, ``X-Original-URI``, ``User-Agent``,
                       ``X-Account-Created-At``, ``X-Patternlimit-Text``) -> 204, 429 or 403
``GET /healthz``       200 while the limiter answers (and, with shared storage, its status)
``GET /metrics``       Prometheus text (with ``patternlimit[metrics]``)
``/admin/...``         overrides (``GET``/``POST /admin/overrides``) and ``POST /admin/reload``; bearer token
``GET /``              the status page, polling ``GET /v1/status`` (:mod:`patternlimit.sidecar.status`)
=====================  ==========================================================================================

Bodies over ``max_body`` bytes get 413; malformed JSON 400 with every field at fault. When a ``token`` is set every
admin call needs ``Authorization: Bearer <token>``; without one, admin is off (403). With ``token_for_checks``
(the default when bound beyond loopback) the check endpoints need it too. API keys that reach ``/v1/auth`` are
reduced to a keyed digest before they become an account: no raw key is kept.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from patternlimit.engine import Limiter
from patternlimit.errors import ConfigurationError
from patternlimit.sidecar.schema import BatchRequest, CheckRequest, decision_json, problems
from patternlimit.sidecar.status import StatusPage

logger = logging.getLogger("patternlimit.sidecar")


@dataclass(frozen=True, slots=True)
class SidecarConfig:
    token: str | None = None
    """The admin bearer token (None: admin is off)."""
    token_for_checks: bool = False
    """Whether the check endpoints need the token too (set when bound beyond loopback)."""
    max_body: int = 1 << 20
    block_status: int = 403
    digest_key: bytes = b""
    """Key of the digest ``/v1/auth`` makes of an API key."""


class _BodyTooLargeError(Exception):
    pass


async def _body(request: HttpRequest, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLargeError
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(limiter: Limiter, config: SidecarConfig | None = None) -> Starlette:
    """The ASGI app over ``limiter`` (see the module docstring)."""
    settings = config or SidecarConfig()

    def authorised(request: HttpRequest) -> bool:
        if settings.token is None:
            return False
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode())

    async def read_json(request: HttpRequest) -> Any:
        body = await _body(request, settings.max_body)
        return json.loads(body)

    def refused(status: int, detail: str | list[str]) -> JSONResponse:
        return JSONResponse({"error": detail}, status_code=status)

    async def guarded(request: HttpRequest, model: type[CheckRequest] | type[BatchRequest]) -> Any:
        if settings.token_for_checks and not authorised(request):
            return refused(401, "missing or wrong bearer token")
        try:
            return model.model_validate(await read_json(request))
        except _BodyTooLargeError:
            return refused(413, f"body over {settings.max_body} bytes")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return refused(400, f"body is not JSON: {exc}")
        except ValidationError as exc:
            return refused(400, problems(exc))

    async def check(request: HttpRequest) -> Response:
        parsed = await guarded(request, CheckRequest)
        if isinstance(parsed, Response):
            return parsed
        decision = await limiter.acheck(parsed.to_request(), parsed.now)
        return JSONResponse(decision_json(decision))

    async def check_batch(request: HttpRequest) -> Response:
        parsed = await guarded(request, BatchRequest)
        if isinstance(parsed, Response):
            return parsed
        requests = [item.to_request() for item in parsed.requests]
        times = [item.now for item in parsed.requests]
        if any(moment is None for moment in times):
            if not all(moment is None for moment in times):
                return refused(400, "requests.*.now: give now for every request or for none")
            decisions = limiter.check_many(requests)
        else:
            decisions = limiter.check_many(requests, [float(moment) for moment in times if moment is not None])
        return JSONResponse({"decisions": [decision_json(decision) for decision in decisions]})

    async def auth(request: HttpRequest) -> Response:
        if settings.token_for_checks and not authorised(request):
            return PlainTextResponse("missing or wrong bearer token", status_code=401)
        from patternlimit.integrations.http import headers_from_asgi
        from patternlimit.sidecar.facts import for_key

        facts = for_key(settings.digest_key, settings.max_body, settings.block_status).auth_request(
            headers_from_asgi(request.headers.raw)
        )
        decision = await limiter.acheck(facts)
        if decision.allowed:
            return Response(status_code=204)
        status = 429 if decision.action.value == "throttle" else settings.block_status
        return Response(status_code=status, headers=decision_json(decision)["headers"])

    async def health(request: HttpRequest) -> Response:
        status = limiter.storage_status
        body: dict[str, Any] = {"ok": status is None or status.healthy, "policy": limiter.policy.name}
        if status is not None:
            body["storage"] = {"mode": status.mode, "healthy": status.healthy, "failures": status.failures}
        return JSONResponse(body, status_code=200 if body["ok"] else 503)

    async def metrics(request: HttpRequest) -> Response:
        try:
            from prometheus_client import CollectorRegistry, generate_latest

            from patternlimit.integrations.prometheus import LimiterCollector
        except ImportError:
            return PlainTextResponse('metrics need: pip install "patternlimit[metrics]"', status_code=404)
        registry = CollectorRegistry()
        registry.register(LimiterCollector(limiter))
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    async def overrides(request: HttpRequest) -> Response:
        if not authorised(request):
            return refused(401 if settings.token else 403, "admin needs the bearer token")
        if request.method == "GET":
            return JSONResponse(
                {
                    "overrides": [
                        {
                            "scope": o.scope,
                            "key": str(o.key),
                            "action": o.action,
                            "until": o.until,
                            "label": o.label,
                            "by": o.by,
                            "why": o.why,
                        }
                        for o in limiter.overrides()
                    ]
                }
            )
        try:
            body = await read_json(request)
        except _BodyTooLargeError:
            return refused(413, f"body over {settings.max_body} bytes")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return refused(400, f"body is not JSON: {exc}")
        if not isinstance(body, dict):
            return refused(400, "body must be a JSON object")
        action = body.pop("action", None)
        targets = {name: body.pop(name) for name in ("account", "pattern", "text", "network", "client") if name in body}
        if "pattern" in targets and isinstance(targets["pattern"], str) and targets["pattern"].isdigit():
            targets["pattern"] = int(targets["pattern"])
        try:
            if action == "clear":
                held = limiter.clear(**targets)
                return JSONResponse({"cleared": held})
            if action not in ("allow", "deny"):
                return refused(400, "action: must be 'allow', 'deny' or 'clear'")
            extra = set(body) - {"duration", "by", "why"}
            if extra:
                return refused(400, f"unknown fields: {sorted(extra)}")
            if "duration" not in body:
                return refused(400, "duration: required, seconds")
            call = limiter.allow if action == "allow" else limiter.deny
            made = call(**targets, duration=body["duration"], by=str(body.get("by", "")), why=str(body.get("why", "")))
        except (TypeError, ValueError) as exc:
            return refused(400, str(exc))
        logger.warning("override %s %s by %r", made.action, made.scope, made.by)
        return JSONResponse({"scope": made.scope, "key": str(made.key), "action": made.action, "until": made.until})

    async def reload(request: HttpRequest) -> Response:
        if not authorised(request):
            return refused(401 if settings.token else 403, "admin needs the bearer token")
        try:
            body = await read_json(request)
        except (_BodyTooLargeError, json.JSONDecodeError, UnicodeDecodeError):
            return refused(400, "body must be a JSON object with 'policy': a policy file path, preset name or object")
        if not isinstance(body, dict) or "policy" not in body:
            return refused(400, "policy: required (a policy file path, preset name or policy object)")
        try:
            kept = limiter.reload(body["policy"])
        except ConfigurationError as exc:
            return refused(400, f"policy refused, the current one keeps serving: {exc}")
        return JSONResponse({"policy": limiter.policy.name, "counts_kept": kept})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await limiter.aclose()

    status = StatusPage(limiter, lambda request: not settings.token_for_checks or authorised(request))
    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/v1/check", check, methods=["POST"]),
            Route("/v1/check/batch", check_batch, methods=["POST"]),
            Route("/v1/auth", auth, methods=["GET", "POST", "HEAD"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/admin/overrides", overrides, methods=["GET", "POST"]),
            Route("/admin/reload", reload, methods=["POST"]),
            *status.routes(),  # GET / and GET /v1/status
        ],
    )

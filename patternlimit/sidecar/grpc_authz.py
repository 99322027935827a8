"""Envoy's two gRPC protocols over one :class:`~patternlimit.Limiter`, with the protobufs of ``xds-protos``.

- **External authorization** (``envoy.service.auth.v3.Authorization/Check``): the HTTP request Envoy describes
  (headers, path, method, the forwarded body of ``with_request_body``, the downstream address) becomes a
  :class:`~patternlimit.Request` through :class:`~patternlimit.sidecar.facts.GatewayFacts`; a refusal is a
  ``denied_response`` with 429 (throttle) or 403 (block), ``Retry-After``, the RateLimit headers and a
  problem+json body; an allowed request goes on with ``x-patternlimit-action`` (and ``x-patternlimit-rule`` for a
  rule that only logs) added for the upstream.
- **Rate limit service** (``envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit``): the entries of every
  descriptor of one call are the facts of one request (keys in docs/deploy/envoy.md); one decision answers every
  descriptor, ``OVER_LIMIT`` with ``duration_until_reset`` and the headers for Envoy to send.

Imported only when gRPC is served: ``grpcio`` and ``xds-protos`` come with ``patternlimit[sidecar]``.
"""

from __future__ import annotations

import hmac
from typing import Any

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.protobuf import duration_pb2
from google.rpc import code_pb2, status_pb2

from patternlimit.engine import Limiter
from patternlimit.errors import InvalidRequestError
from patternlimit.integrations.http import RequestInfo
from patternlimit.policy.decision import Decision
from patternlimit.sidecar.facts import Answer, GatewayFacts

ACTION_HEADER = "x-patternlimit-action"
RULE_HEADER = "x-patternlimit-rule"
PARTIAL_BODY_HEADER = "x-envoy-auth-partial-body"
"""What Envoy adds to the forwarded headers when ``allow_partial_message`` cut the body."""

_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD


class Guard:
    """The bearer token every call must carry as ``authorization`` metadata when ``required`` (the sidecar is
    bound beyond loopback): Envoy sends it with ``grpc_service.initial_metadata``."""

    def __init__(self, token: str | None, required: bool) -> None:
        self.expected = f"Bearer {token}".encode() if token else None
        self.required = required

    async def check(self, context: grpc.aio.ServicerContext) -> None:
        if not self.required:
            return
        given = dict(context.invocation_metadata() or ()).get("authorization", "")
        text = given.decode("latin-1") if isinstance(given, bytes) else str(given)
        if self.expected is None or not hmac.compare_digest(text.encode("latin-1", "replace"), self.expected):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")


def envoy_request(check: Any) -> tuple[RequestInfo, bytes, bool]:
    """An ``AttributeContext`` (``CheckRequest.attributes``) -> the HTTP request, its forwarded body and whether
    that body is whole. Headers come in Envoy's order from ``header_map`` (``encode_raw_headers: true``) or else
    from the ``headers`` map; pseudo-headers (``:path``...) are facts of their own, not client headers."""
    http = check.attributes.request.http
    pairs: list[tuple[str, str]] = []
    if http.HasField("header_map"):
        for header in http.header_map.headers:
            value = header.raw_value.decode("latin-1") if header.raw_value else header.value
            pairs.append((header.key.lower(), value))
    else:
        pairs.extend((key.lower(), value) for key, value in http.headers.items())
    partial = False
    headers = []
    for name, value in pairs:
        if name == PARTIAL_BODY_HEADER:
            partial = value == "true"
        elif not name.startswith(":"):
            headers.append((name, value))
    path, _, query = http.path.partition("?")
    peer = check.attributes.source.address.socket_address.address
    info = RequestInfo(method=http.method or "GET", path=path, headers=tuple(headers), peer=peer, query=query)
    body = bytes(http.raw_body) if http.raw_body else http.body.encode("utf-8", "surrogateescape")
    complete = not partial and (http.size < 0 or len(body) >= http.size)
    return info, body, complete


def _option(name: str, value: str) -> Any:
    return base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=name, value=value), append_action=_OVERWRITE)


def _allowed_headers(decision: Decision) -> list[tuple[str, str]]:
    headers = [(ACTION_HEADER, decision.action.value)]
    if decision.rule:
        headers.append((RULE_HEADER, decision.rule[:256]))
    return headers


def check_response(decision: Decision, answer: Answer) -> Any:
    """The ``CheckResponse`` for ``decision``."""
    if decision.allowed:
        return external_auth_pb2.CheckResponse(
            status=status_pb2.Status(code=code_pb2.OK),
            ok_response=external_auth_pb2.OkHttpResponse(
                headers=[_option(name, value) for name, value in _allowed_headers(decision)]
            ),
        )
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(
            code=code_pb2.RESOURCE_EXHAUSTED if answer.status == 429 else code_pb2.PERMISSION_DENIED
        ),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=answer.status),
            headers=[_option(name, value) for name, value in answer.headers],
            body=answer.body.decode("utf-8"),
        ),
    )


class Authorization(external_auth_pb2_grpc.AuthorizationServicer):  # type: ignore[misc]
    """``envoy.service.auth.v3.Authorization``."""

    def __init__(self, limiter: Limiter, facts: GatewayFacts, guard: Guard) -> None:
        self.limiter = limiter
        self.facts = facts
        self.guard = guard

    async def Check(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802 (the RPC's name)
        await self.guard.check(context)
        info, body, complete = envoy_request(request)
        try:
            decision = await self.limiter.acheck(self.facts.request(info, body, complete))
        except InvalidRequestError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return check_response(decision, self.facts.answer(decision, self.limiter.policy))


_UNITS = {1: "SECOND", 60: "MINUTE", 3600: "HOUR", 86400: "DAY"}


def rate_limit_response(request: Any, decision: Decision, answer: Answer, quota: tuple[int, int] | None) -> Any:
    """The ``RateLimitResponse`` for ``decision``: one status per descriptor of ``request``."""
    response = rls_pb2.RateLimitResponse
    if decision.allowed:
        code = response.OK
        status = response.DescriptorStatus(code=code)
        added = [base_pb2.HeaderValue(key=name, value=value) for name, value in _allowed_headers(decision)]
        return response(overall_code=code, statuses=[status for _ in request.descriptors], request_headers_to_add=added)
    code = response.OVER_LIMIT
    status = response.DescriptorStatus(code=code)
    if answer.retry_after is not None:
        status.duration_until_reset.CopyFrom(duration_pb2.Duration(seconds=answer.retry_after))
    if quota is not None and quota[1] in _UNITS:
        status.current_limit.CopyFrom(
            response.RateLimit(
                name=decision.rule or "",
                requests_per_unit=quota[0],
                unit=response.RateLimit.Unit.Value(_UNITS[quota[1]]),
            )
        )
    sent = [base_pb2.HeaderValue(key=name, value=value) for name, value in answer.headers if name != "content-type"]
    return response(overall_code=code, statuses=[status for _ in request.descriptors], response_headers_to_add=sent)


class RateLimitService(rls_pb2_grpc.RateLimitServiceServicer):  # type: ignore[misc]
    """``envoy.service.ratelimit.v3.RateLimitService``."""

    def __init__(self, limiter: Limiter, facts: GatewayFacts, guard: Guard) -> None:
        self.limiter = limiter
        self.facts = facts
        self.guard = guard

    async def ShouldRateLimit(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        await self.guard.check(context)
        if not request.descriptors:  # nothing to decide on: Envoy sends none only when no action matched
            return rls_pb2.RateLimitResponse(overall_code=rls_pb2.RateLimitResponse.OK)
        entries = [(entry.key, entry.value) for descriptor in request.descriptors for entry in descriptor.entries]
        try:
            facts = self.facts.descriptor_request(entries, cost=request.hits_addend or 1)
            decision = await self.limiter.acheck(facts)
        except InvalidRequestError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        answer = self.facts.answer(decision, self.limiter.policy)
        quota = self.facts.quota(decision.rule, self.limiter.policy)
        return rate_limit_response(request, decision, answer, quota)


def add_services(server: grpc.aio.Server, limiter: Limiter, facts: GatewayFacts, guard: Guard) -> None:
    external_auth_pb2_grpc.add_AuthorizationServicer_to_server(Authorization(limiter, facts, guard), server)
    rls_pb2_grpc.add_RateLimitServiceServicer_to_server(RateLimitService(limiter, facts, guard), server)

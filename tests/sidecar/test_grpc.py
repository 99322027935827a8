"""The sidecar's gRPC services on a real ``grpc.aio`` server (in a thread of this process), called by grpcio
clients with the messages Envoy sends: how a CheckRequest and rate limit descriptors become facts, the answers,
and the token."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc

from patternlimit import Limiter
from patternlimit._testing import traffic
from patternlimit._testing.web_servers import free_port
from patternlimit.errors import ConfigurationError
from patternlimit.sidecar.app import SidecarConfig, build_app
from patternlimit.sidecar.facts import GatewayFacts
from patternlimit.sidecar.grpc_authz import envoy_request
from patternlimit.sidecar.grpc_server import GrpcConfig, running

SECRET = b"grpc test secret of 32 bytes!!!!"
TOKEN = "a gRPC token of at least 16 characters"


@pytest.fixture
def served() -> Iterator[tuple[Limiter, GatewayFacts, grpc.Channel]]:
    limiter = Limiter(secret=SECRET)
    facts = GatewayFacts(digest_key=b"k", json_fields=("messages[*].content",), trusted_proxies=("10.0.0.0/8",))
    with running(limiter, facts) as port, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield limiter, facts, channel


def _check(body: bytes = b"", headers: dict[str, str] | None = None, peer: str = "192.0.2.9", raw: bool = False) -> Any:
    request = external_auth_pb2.CheckRequest()
    http = request.attributes.request.http
    http.method, http.path = "POST", "/v1/messages?stream=true"
    pairs = {"x-api-key": "sk-one", "user-agent": "python-httpx/0.27", "content-type": "application/json"}
    pairs.update(headers or {})
    if raw:
        for name, value in pairs.items():
            http.header_map.headers.add(key=name, raw_value=value.encode("latin-1"))
    else:
        for name, value in pairs.items():
            http.headers[name] = value
    http.headers[":path"] = http.path
    http.raw_body, http.size = body, len(body)
    request.attributes.source.address.socket_address.address = peer
    return request


def _chat(text: str) -> bytes:
    return json.dumps(
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]}
    ).encode()


def test_a_check_request_becomes_the_facts_the_middlewares_would_see():
    facts = GatewayFacts(digest_key=b"k", json_fields=("messages[*].content",), trusted_proxies=("10.0.0.0/8",))
    proxied = _check(
        _chat("hello"), {"x-forwarded-for": "6.6.6.6, 198.51.100.4", "x-account-created-at": "1e9"}, "10.1.2.3"
    )
    request = facts.request(*envoy_request(proxied))
    assert request.ip == "198.51.100.4"  # past the trusted proxy, not the address the client wrote
    assert request.route == "/v1/messages" and request.text == "Be brief.\x1ehello"
    assert request.account is not None and request.account.startswith("key:") and "sk-one" not in request.account
    assert request.account_created_at == 1e9
    direct = facts.request(*envoy_request(_check(_chat("hello"), {"x-forwarded-for": "6.6.6.6"})))
    assert direct.ip == "192.0.2.9"  # an untrusted peer is the client, whatever it says
    # The ordered header_map (encode_raw_headers) keeps the client's header order, part of its fingerprint; the
    # pseudo-headers are left out, as an HTTP/1.1 server would never show them.
    info, body, complete = envoy_request(_check(_chat("hello"), {"x-zeta": "1", "accept": "*/*"}, raw=True))
    assert [name for name, _ in info.headers] == ["x-api-key", "user-agent", "content-type", "x-zeta", "accept"]
    assert (info.method, info.path, info.query, info.peer, body, complete) == (
        "POST", "/v1/messages", "stream=true", "192.0.2.9", _chat("hello"), True
    )  # fmt: skip
    # A body Envoy cut short is fingerprinted raw, never parsed.
    cut = _check(_chat("hello")[:20])
    cut.attributes.request.http.size = 400
    assert facts.request(*envoy_request(cut)).text == _chat("hello")[:20]


def test_nginx_and_envoy_see_one_account_per_key():
    facts = GatewayFacts(digest_key=b"k")
    via_envoy = facts.request(*envoy_request(_check(headers={"authorization": "Bearer sk-two"}))).account
    via_nginx = facts.auth_request([("authorization", "Bearer sk-two"), ("x-original-uri", "/v1/messages")]).account
    via_rls = facts.descriptor_request([("api_key", "sk-two")]).account
    assert via_envoy == via_nginx == via_rls and via_envoy is not None
    assert GatewayFacts(digest_key=b"other").descriptor_request([("api_key", "sk-two")]).account != via_rls


def test_ext_authz_throttles_a_fan_out_with_the_headers_and_allows_with_headers_added(served):
    _limiter, _, channel = served
    stub = external_auth_pb2_grpc.AuthorizationStub(channel)
    answers = []
    for now, request in traffic.campaign(accounts=120, per_account=6):
        created = f"{time.time() - (now - (request.account_created_at or now)):.0f}"
        headers = {"x-api-key": f"sk-{request.account}", "x-forwarded-for": request.ip, "x-account-created-at": created}
        answers.append(stub.Check(_check(_chat(request.text), headers, peer="10.0.0.1")))
    denied = [answer for answer in answers if answer.HasField("denied_response")]
    assert len(denied) > 0.4 * len(answers)
    last = denied[-1]
    assert last.status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert last.denied_response.status.code == 429
    sent = {option.header.key: option.header.value for option in last.denied_response.headers}
    assert int(sent["retry-after"]) > 0 and sent["ratelimit"].startswith('"pattern";r=0;t=')
    assert json.loads(last.denied_response.body)["status"] == 429
    allowed = answers[0]
    assert allowed.status.code == 0
    assert next((o.header.key, o.header.value) for o in allowed.ok_response.headers) == (
        "x-patternlimit-action",
        "allow",
    )


def test_an_exact_limit_answers_over_limit_with_its_quota_and_reset(served):
    limiter, _, channel = served
    limiter.reload(
        {"name": "tight", "rules": [{"name": "per-key", "type": "limit", "limit": "3/minute", "per": "account"}]}
    )
    stub = rls_pb2_grpc.RateLimitServiceStub(channel)
    entry = ratelimit_pb2.RateLimitDescriptor.Entry
    established = f"{time.time() - 30 * 86400:.0f}"  # neither young (half the quota) nor trusted (twice)
    descriptors = [
        ratelimit_pb2.RateLimitDescriptor(
            entries=[entry(key="api_key", value="sk-3"), entry(key="account_created_at", value=established)]
        ),
        ratelimit_pb2.RateLimitDescriptor(entries=[entry(key="remote_address", value="198.51.100.1")]),
    ]
    answers = [stub.ShouldRateLimit(rls_pb2.RateLimitRequest(domain="api", descriptors=descriptors)) for _ in range(5)]
    codes = [answer.overall_code for answer in answers]
    assert codes == [rls_pb2.RateLimitResponse.OK] * 3 + [rls_pb2.RateLimitResponse.OVER_LIMIT] * 2  # once per call
    over = answers[-1]
    assert len(over.statuses) == 2 and all(s.code == rls_pb2.RateLimitResponse.OVER_LIMIT for s in over.statuses)
    assert 0 < over.statuses[0].duration_until_reset.seconds <= 60
    assert over.statuses[0].current_limit.requests_per_unit == 3
    assert over.statuses[0].current_limit.unit == rls_pb2.RateLimitResponse.RateLimit.MINUTE
    sent = {header.key: header.value for header in over.response_headers_to_add}
    assert sent["ratelimit"].startswith('"per-key";r=0;t=') and "ratelimit-policy" in sent
    # hits_addend is the request's cost: one call of cost 3 uses a fresh key's whole quota.
    fresh = [
        ratelimit_pb2.RateLimitDescriptor(
            entries=[entry(key="api_key", value="sk-4"), entry(key="account_created_at", value=established)]
        )
    ]
    heavy = rls_pb2.RateLimitRequest(domain="api", descriptors=fresh, hits_addend=3)
    assert stub.ShouldRateLimit(heavy).overall_code == rls_pb2.RateLimitResponse.OK
    assert stub.ShouldRateLimit(heavy).overall_code == rls_pb2.RateLimitResponse.OVER_LIMIT


def test_a_bearer_token_is_required_when_configured():
    limiter, facts = Limiter(secret=SECRET), GatewayFacts()
    config = GrpcConfig(token=TOKEN, token_required=True)
    with running(limiter, facts, config) as port, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = external_auth_pb2_grpc.AuthorizationStub(channel)
        for metadata in ((), (("authorization", "Bearer wrong"),)):
            with pytest.raises(grpc.RpcError) as caught:
                stub.Check(_check(), metadata=metadata)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert stub.Check(_check(), metadata=(("authorization", f"Bearer {TOKEN}"),)).status.code == 0
        rls = rls_pb2_grpc.RateLimitServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            rls.ShouldRateLimit(rls_pb2.RateLimitRequest(domain="api"))
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_port_in_use_and_bad_settings_are_clear_errors():
    limiter, facts = Limiter(secret=SECRET), GatewayFacts()
    with (
        running(limiter, facts) as port,
        pytest.raises(ConfigurationError, match="cannot serve gRPC"),
        running(limiter, facts, GrpcConfig(port=port)),
    ):
        pass
    with pytest.raises(ConfigurationError, match="trusted_proxies"):
        GatewayFacts(trusted_proxies=("not a network",))
    with pytest.raises(ConfigurationError, match="json_fields"):
        GatewayFacts(json_fields=("messages[",))


def test_the_nginx_endpoint_uses_the_same_mapping():
    limiter = Limiter(secret=SECRET)
    limiter.deny(
        account=GatewayFacts(digest_key=b"k").descriptor_request([("api_key", "sk-five")]).account, duration=60
    )
    app = build_app(limiter, SidecarConfig(digest_key=b"k"))

    async def go() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sidecar") as client:
            denied = await client.get("/v1/auth", headers={"x-api-key": "sk-five", "x-original-uri": "/v1/messages"})
            other = await client.get("/v1/auth", headers={"x-api-key": "sk-six", "x-original-uri": "/v1/messages"})
            return denied.status_code, other.status_code

    import asyncio

    assert asyncio.run(go()) == (403, 204)


def _listeners(port: int) -> int:
    """Sockets listening on ``port`` (state 0A in /proc/net/tcp and tcp6)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                count += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_serve_with_workers_serves_grpc_from_each_worker_on_one_port():
    from tests.sidecar.test_serve import sidecar

    grpc_port = free_port()
    with sidecar("--grpc-port", str(grpc_port), "--workers", "2"):
        deadline = time.monotonic() + 60
        while _listeners(grpc_port) < 2 and time.monotonic() < deadline:  # the second worker may still be starting
            time.sleep(0.2)
        assert _listeners(grpc_port) == 2
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            assert external_auth_pb2_grpc.AuthorizationStub(channel).Check(_check(), timeout=30).status.code == 0

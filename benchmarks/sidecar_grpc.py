"""Decisions per second and latency of the sidecar's Envoy services on loopback, next to in-process ``check()``:

    python -m benchmarks.sidecar_grpc [requests] [concurrency]

Starts ``patternlimit serve --grpc-port`` (one worker, ``memory://``) in a subprocess and drives it with a
``grpc.aio`` client keeping ``concurrency`` calls in flight: first ext_authz ``Check`` with the prompt in the body
(as Envoy sends it with ``with_request_body``), then ``ShouldRateLimit`` with the descriptors of
docs/deploy/envoy.md (the prompt as the ``text`` entry). The same requests then go through ``Limiter.check()`` in
this process. Reports decisions/s, p50 and p99 of each, and the protocol's overhead as the ratio of throughputs.
The traffic is a campaign, a CI harness and new users, as in the tests; every service sees fresh accounts.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

from patternlimit import Limiter, Request
from patternlimit._testing import traffic
from patternlimit._testing.web_servers import ROOT, free_port

SECRET = "sidecar benchmark secret, 32 bytes"


def workload(requests: int, tag: str) -> list[Request]:
    """About ``requests`` requests, ages kept as of now, accounts renamed by ``tag`` so each run counts anew."""
    accounts = max(40, requests // 12)
    stream = (
        traffic.campaign(seed=21, accounts=accounts, per_account=6)
        + traffic.ci_harness(requests // 4)
        + traffic.flash_crowd(accounts=max(10, requests // 12), per_account=3)
    )
    stream.sort(key=lambda pair: pair[0])
    offset = time.time() - traffic.START - 7200
    out = []
    for _, request in stream[:requests]:
        created = None if request.account_created_at is None else request.account_created_at + offset
        out.append(replace(request, account=f"{tag}-{request.account}", account_created_at=created))
    return out


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1e3, cuts[98] * 1e3


def _check_message(messages: Any, request: Request) -> Any:
    check = messages.CheckRequest()
    http = check.attributes.request.http
    http.method, http.path = "POST", request.route or "/v1/messages"
    headers = {"x-api-key": f"sk-{request.account}", "user-agent": request.client or "python-httpx/0.27"}
    headers["content-type"] = "application/json"
    if request.account_created_at is not None:
        headers["x-account-created-at"] = f"{request.account_created_at:.0f}"
    for name, value in headers.items():
        http.header_map.headers.add(key=name, raw_value=value.encode())
    text = request.text if isinstance(request.text, str) else request.text.decode("latin-1")
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]}).encode()
    http.raw_body, http.size = body, len(body)
    check.attributes.source.address.socket_address.address = request.ip
    return check


def _rls_message(messages: Any, descriptors: Any, request: Request) -> Any:
    entry = descriptors.RateLimitDescriptor.Entry
    text = request.text if isinstance(request.text, str) else request.text.decode("latin-1")
    entries = [
        entry(key="api_key", value=f"sk-{request.account}"),
        entry(key="remote_address", value=request.ip),
        entry(key="path", value=request.route or "/v1/complete"),
        entry(key="user_agent", value=request.client or "python-httpx/0.27"),
        entry(key="text", value=text),
    ]
    if request.account_created_at is not None:
        entries.append(entry(key="account_created_at", value=f"{request.account_created_at:.0f}"))
    return messages.RateLimitRequest(domain="api", descriptors=[descriptors.RateLimitDescriptor(entries=entries)])


async def _drive(call: Any, messages: list[Any], concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(messages)

    async def worker() -> None:
        for message in queue:
            began = time.perf_counter()
            await call(message, timeout=30)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began, latencies


async def _grpc(port: int, requests: int, concurrency: int) -> dict[str, tuple[float, float, float]]:
    import grpc
    from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
    from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
    from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc

    results = {}
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        authz = external_auth_pb2_grpc.AuthorizationStub(channel)
        rls = rls_pb2_grpc.RateLimitServiceStub(channel)
        await authz.Check(_check_message(external_auth_pb2, workload(1, "warm")[0]), timeout=60)
        checks = [_check_message(external_auth_pb2, r) for r in workload(requests, "authz")]
        elapsed, latencies = await _drive(authz.Check, checks, concurrency)
        results["ext_authz Check"] = (len(checks) / elapsed, *_percentiles(latencies))
        limits = [_rls_message(rls_pb2, ratelimit_pb2, r) for r in workload(requests, "rls")]
        elapsed, latencies = await _drive(rls.ShouldRateLimit, limits, concurrency)
        results["RLS ShouldRateLimit"] = (len(limits) / elapsed, *_percentiles(latencies))
    return results


def _in_process(requests: int) -> tuple[float, float, float]:
    limiter = Limiter(secret=SECRET)
    limiter.check(workload(1, "warm")[0])
    latencies = []
    items = workload(requests, "local")
    began = time.perf_counter()
    for request in items:
        start = time.perf_counter()
        limiter.check(request)
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - began
    limiter.close()
    return (len(items) / elapsed, *_percentiles(latencies))


def run(requests: int = 4000, concurrency: int = 16) -> dict[str, tuple[float, float, float]]:
    import httpx

    http_port, grpc_port = free_port(), free_port()
    command = [sys.executable, "-m", "patternlimit.cli", "serve", "--port", str(http_port),
               "--grpc-port", str(grpc_port), "--json-field", "messages[*].content"]  # fmt: skip
    environment = dict(os.environ, PATTERNLIMIT_SECRET=SECRET, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("patternlimit serve did not start")
            time.sleep(0.1)
        results = asyncio.run(_grpc(grpc_port, requests, concurrency))
    finally:
        process.terminate()
        process.wait(timeout=15)
    results["in-process check()"] = _in_process(requests)
    return results


def main() -> int:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    results = run(requests, concurrency)
    local = results["in-process check()"][0]
    print(f"{requests} requests, {concurrency} calls in flight, loopback, one sidecar worker on memory://")
    print(f"{'':22} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'x in-process':>13}")
    for name, (rate, p50, p99) in results.items():
        print(f"{name:22} {rate:12,.0f} {p50:8.3f} {p99:8.3f} {local / rate:13.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

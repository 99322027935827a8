"""Requests per second of a trivial ASGI app under uvicorn: bare, behind a floor middleware that only reads,
parses and replays the JSON body (what any middleware fingerprinting the body must do: the least overhead possible
on this stack), behind the ASGI middleware with a limiter that allows everything at once (the integration's own
cost), and behind the middleware with the real limiter. Then against its peer: one trivial Starlette app plain,
behind the middleware with the real limiter, and with slowapi (one per-key limit on ``memory://``, what a FastAPI
or Starlette user would otherwise add); each limiter's cost is ``1 - rps / plain_rps`` within a round, and the
ratio of patternlimit's to slowapi's is given per round (and the same for the server CPU each adds per request).

The seven servers run at once (one uvicorn process each, h11 and the asyncio loop: what ``pip install -e
".[test]"`` gives); the load generator is raw asyncio sockets with keep-alive on loopback, so its own cost per
request stays small next to the server's. Rounds rotate through the servers so drift hits all. Each request is an
LLM-style JSON POST (~300 bytes) from one of 2,000 established API keys, behind a trusted proxy whose
X-Forwarded-For names one of 2,000 clients, with a varied natural-language prompt: every request is fingerprinted,
counted and allowed. ``extra_info`` has requests/s and ``overhead = 1 - rps / bare_rps`` for each, and the peer
figures per round.

Run: ``pytest benchmarks/test_middleware.py -s`` (about four minutes on a busy 2-core VM; prints the figures). Under
``--benchmark-disable`` it sends a few hundred requests per server only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from patternlimit._testing import traffic
from patternlimit._testing.web_servers import Server, serve

CONNECTIONS = 8
WARMUP = 500


def payloads(count: int, seed: int = 1) -> list[bytes]:
    """``count`` raw HTTP/1.1 keep-alive requests."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": traffic.organic_prompt(rng)}]})
        client = rng.randrange(2000)
        head = (
            "POST /v1/messages HTTP/1.1\r\nhost: bench\r\nuser-agent: bench/1.0\r\n"
            f"x-api-key: key-{rng.randrange(2000)}\r\ncontent-type: application/json\r\n"
            f"x-forwarded-for: 203.0.{client // 250}.{client % 250 + 1}\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body.encode())
    return out


async def _connection(host: str, port: int, requests: list[bytes], statuses: Counter[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            statuses[int(head[9:12])] += 1
            lowered = head.lower()
            start = lowered.index(b"content-length:") + 15
            await reader.readexactly(int(lowered[start : lowered.index(b"\r\n", start)]))
    finally:
        writer.close()
        await writer.wait_closed()


def load(server: Server, requests: list[bytes]) -> tuple[float, float, Counter[int]]:
    """Send ``requests`` over ``CONNECTIONS`` keep-alive connections: requests per second, the server process's
    CPU microseconds per request (steadier than throughput on a shared machine), and status counts."""
    parts = urlsplit(server.url)
    statuses: Counter[int] = Counter()

    async def run() -> None:
        share = [requests[index::CONNECTIONS] for index in range(CONNECTIONS)]
        await asyncio.gather(*(_connection(parts.hostname or "", parts.port or 80, s, statuses) for s in share))

    cpu = _cpu_seconds(server.process.pid)
    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    cpu_us = (_cpu_seconds(server.process.pid) - cpu) / len(requests) * 1e6
    return len(requests) / elapsed, cpu_us, statuses


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


APPS = ("bare", "floor", "integration_only", "limited", "starlette", "starlette_patternlimit", "starlette_slowapi")
PEERS = ("starlette_patternlimit", "starlette_slowapi")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Server]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(serve(name, "uvicorn", f"benchmarks.web_apps:{name}")) for name in APPS}


def test_middleware_throughput(benchmark, servers, request):  # type: ignore[no-untyped-def]
    quick = request.config.getoption("benchmark_disable")
    per_round, rounds = (300, 1) if quick else (10_000, 5)
    for server in servers.values():
        load(server, payloads(100 if quick else WARMUP, seed=99))  # JIT caches, connections, first-call paths
    rates: dict[str, list[float]] = {name: [] for name in APPS}
    cpu: dict[str, list[float]] = {name: [] for name in APPS}
    statuses: dict[str, Counter[int]] = {name: Counter() for name in APPS}
    for index in range(rounds):
        batch = payloads(per_round, seed=index)
        for name in APPS[index % len(APPS) :] + APPS[: index % len(APPS)]:
            rate, cpu_us, seen = load(servers[name], batch)
            rates[name].append(rate)
            cpu[name].append(cpu_us)
            statuses[name].update(seen)
    median = {name: statistics.median(rates[name]) for name in APPS}
    overhead = {name: 1 - median[name] / median["bare"] for name in APPS[1:4]}
    cpu_us = {name: statistics.median(cpu[name]) for name in APPS}
    peer = peer_costs(rates, cpu)
    benchmark.extra_info.update(
        {
            "bare_rps": round(median["bare"]),
            "floor_rps": round(median["floor"]),
            "integration_only_rps": round(median["integration_only"]),
            "limited_rps": round(median["limited"]),
            "overhead_floor": round(overhead["floor"], 4),
            "overhead_integration_only": round(overhead["integration_only"], 4),
            "overhead_limited": round(overhead["limited"], 4),
            "server_cpu_us_per_request": {name: round(cpu_us[name], 1) for name in APPS},
            "rounds": {name: [round(rate) for rate in rates[name]] for name in APPS},
            **peer,
        }
    )
    extra = benchmark.extra_info
    print(
        f"\nbare {median['bare']:,.0f} req/s; floor (read, parse, replay the body) {median['floor']:,.0f}"
        f" ({overhead['floor']:.1%} overhead); middleware with an allow-all limiter {median['integration_only']:,.0f}"
        f" ({overhead['integration_only']:.1%} overhead); with the real limiter {median['limited']:,.0f}"
        f" ({overhead['limited']:.1%} overhead); server CPU us/request {extra['server_cpu_us_per_request']}"
        f"; rounds {extra['rounds']}"
    )
    print(
        f"peer, on one Starlette app ({median['starlette']:,.0f} req/s plain): patternlimit costs"
        f" {_span(peer['cost_patternlimit'], '.1%')} of its throughput, slowapi {_span(peer['cost_slowapi'], '.1%')};"
        f" ratio {_span(peer['cost_ratio'], '.2f')}x (per round: {peer['cost_ratio']});"
        f" added server CPU us/request patternlimit {_span(peer['cpu_added_patternlimit_us'], '.1f')},"
        f" slowapi {_span(peer['cpu_added_slowapi_us'], '.1f')}, ratio {_span(peer['cpu_ratio'], '.2f')}x"
    )
    for name in APPS:  # varied, established traffic: nothing throttled
        assert statuses[name] == Counter({200: per_round * rounds}), (name, statuses[name])
    # what pytest-benchmark times: one small batch through the middleware and the real limiter
    benchmark.pedantic(load, args=(servers["limited"], payloads(200, seed=7)), rounds=1, iterations=1)


def peer_costs(rates: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per round (the three Starlette servers all measured within it): each limiter's throughput cost
    ``1 - rps / plain_rps`` and the server CPU it adds per request, and patternlimit's over slowapi's for both."""
    out: dict[str, list[float]] = {}
    for label, name in (("patternlimit", PEERS[0]), ("slowapi", PEERS[1])):
        out[f"cost_{label}"] = [1 - r / plain for r, plain in zip(rates[name], rates["starlette"], strict=True)]
        out[f"cpu_added_{label}_us"] = [c - plain for c, plain in zip(cpu[name], cpu["starlette"], strict=True)]
    for ratio, figure in (("cost_ratio", "cost_{}"), ("cpu_ratio", "cpu_added_{}_us")):
        pairs = zip(out[figure.format("patternlimit")], out[figure.format("slowapi")], strict=True)
        out[ratio] = [a / b if b > 0 else float("inf") for a, b in pairs]
    return {key: [round(value, 4) for value in values] for key, values in out.items()}


def _span(values: list[float], spec: str) -> str:
    """``median (min-max)`` of per-round figures."""
    low, middle, high = min(values), statistics.median(values), max(values)
    return f"{middle:{spec}} ({low:{spec}}-{high:{spec}})"

"""The sidecar over HTTP: ``patternlimit serve`` in a real subprocess on loopback, ``POST /v1/check`` decisions per
second and latency percentiles under a concurrent load, next to ``check()`` in this process on the same requests;
then ``serve --workers N`` for N = 1 and 2 on one real Redis (eventual mode, the default).

Usage: ``python -m benchmarks.sidecar_http [ROUNDS]`` from the repository root (ROUNDS defaults to 4; about two
minutes with a warm numba cache; ``--quick`` sends one round of 200 requests to each server, to check that it
runs). Needs the ``test`` extra (uvicorn, starlette; a Redis or valkey server from
``patternlimit._testing.redis_server``).

The load generator is raw asyncio sockets with keep-alive (``CONNECTIONS`` connections, one request in flight on
each), so its own cost per request stays small next to the server's; each request's latency is from writing it to
reading the whole answer. Requests are the middleware benchmark's shape: chat-sized natural-language prompts from
2,000 established accounts behind 2,000 clients, every one allowed. Rounds alternate the sidecar and the in-process
loop (and, for the workers, N = 1 and N = 2), so that other load on a shared machine falls on both; each figure is
given as the median and the range over rounds. The protocol overhead is in-process decisions/s over the sidecar's
(one worker: one core serves, as ``check()`` in process uses one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from patternlimit._testing import traffic
from patternlimit._testing.web_servers import free_port, patternlimit_serve

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark secret, not for production"
CONNECTIONS = 16
PER_ROUND = 6000
CREATED = 1.7e9 - 400 * 86400.0


def facts(count: int, seed: int) -> list[dict[str, object]]:
    """``count`` check requests as the sidecar's JSON facts."""
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for _ in range(count):
        client = rng.randrange(2000)
        out.append(
            {
                "account": f"key-{rng.randrange(2000)}",
                "ip": f"203.0.{client // 250}.{client % 250 + 1}",
                "text": traffic.organic_prompt(rng),
                "route": "/v1/messages",
                "client": "bench/1.0",
                "account_created_at": CREATED - rng.uniform(0, 900) * 86400,
            }
        )
    return out


def http_requests(batch: list[dict[str, object]]) -> list[bytes]:
    out = []
    for item in batch:
        body = json.dumps(item).encode()
        head = (
            "POST /v1/check HTTP/1.1\r\nhost: sidecar\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


async def _connection(port: int, requests: list[bytes], latencies: list[float], allowed: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lowered = head.lower()
            start = lowered.index(b"content-length:") + 15
            body = await reader.readexactly(int(lowered[start : lowered.index(b"\r\n", start)]))
            latencies.append(time.perf_counter() - started)
            if head[9:12] != b"200":
                raise RuntimeError(f"the sidecar answered {head[:12]!r}: {body[:300]!r}")
            allowed[0] += b'"allowed":true' in body
    finally:
        writer.close()
        await writer.wait_closed()


def load(server: Sidecar, requests: list[bytes], connections: int = CONNECTIONS) -> Measured:
    """Send ``requests`` over ``connections`` keep-alive connections."""
    latencies: list[float] = []
    allowed = [0]

    async def run() -> None:
        shares = [requests[index::connections] for index in range(connections)]
        await asyncio.gather(*(_connection(server.port, share, latencies, allowed) for share in shares))

    cpu = server.cpu_seconds()
    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    cpu_us = (server.cpu_seconds() - cpu) / len(requests) * 1e6
    return Measured(len(requests) / elapsed, latencies, cpu_us, allowed[0])


@dataclass(frozen=True)
class Measured:
    rate: float
    """decisions per second"""
    latencies: list[float]
    cpu_us: float
    """the server's CPU microseconds per decision (all its processes), or the loop's own in process"""
    allowed: int


@dataclass(frozen=True)
class Sidecar:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its worker processes, from /proc."""
        total = 0.0
        for pid in (self.pid, *_children(self.pid)):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def in_process(limiter: object, batch: list[dict[str, object]]) -> Measured:
    """``check()`` on the same facts, one after another."""
    from patternlimit import Request

    requests = [Request(**item) for item in batch]  # type: ignore[arg-type]
    check = limiter.check  # type: ignore[attr-defined]
    latencies = []
    allowed = 0
    cpu = time.process_time()
    started = time.perf_counter()
    for request in requests:
        begun = time.perf_counter()
        allowed += check(request).allowed
        latencies.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    cpu_us = (time.process_time() - cpu) / len(requests) * 1e6
    return Measured(len(requests) / elapsed, latencies, cpu_us, allowed)


@contextlib.contextmanager
def sidecar(*arguments: str) -> Iterator[Sidecar]:
    """``patternlimit serve`` on a free loopback port, once /healthz answers."""
    port = free_port()
    with patternlimit_serve(*arguments, env={"PATTERNLIMIT_SECRET": SECRET}, port=port) as (_, process, _):
        yield Sidecar(port, process.pid)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def span(values: list[float], spec: str = ",.0f") -> str:
    """``median (min-max)`` over rounds."""
    return f"{statistics.median(values):{spec}} ({min(values):{spec}}-{max(values):{spec}})"


def protocol(rounds: int, per_round: int) -> None:
    from patternlimit import Limiter

    limiter = Limiter(secret=SECRET.encode())
    warm = facts(min(1000, per_round), seed=99)
    runs: dict[str, list[Measured]] = {"sidecar": [], "in_process": []}
    with sidecar() as server:
        load(server, http_requests(warm))
        in_process(limiter, warm)
        for index in range(rounds):
            batch = facts(per_round, seed=index)
            wire = http_requests(batch)
            for name in ("sidecar", "in_process") if index % 2 == 0 else ("in_process", "sidecar"):
                measured = load(server, wire) if name == "sidecar" else in_process(limiter, batch)
                if measured.allowed != len(batch):
                    raise RuntimeError(f"{name}: {len(batch) - measured.allowed} decisions were not allow")
                runs[name].append(measured)
    print(f"sidecar, one worker, memory://, {CONNECTIONS} connections, {rounds} rounds of {per_round:,} checks:")
    for name, label in (("sidecar", "POST /v1/check"), ("in_process", "check() in process")):
        print(f"  {label:18s} {describe(runs[name])}")
    ratios = [a.rate / b.rate for a, b in zip(runs["in_process"], runs["sidecar"], strict=True)]
    cpu = [b.cpu_us / a.cpu_us for a, b in zip(runs["in_process"], runs["sidecar"], strict=True)]
    print(f"  protocol overhead: in-process / sidecar decisions/s {span(ratios, '.1f')}x;"
          f" sidecar / in-process CPU per decision {span(cpu, '.1f')}x")  # fmt: skip


def describe(runs: list[Measured]) -> str:
    rates = [run.rate for run in runs]
    p50 = [percentile(run.latencies, 0.50) * 1e6 for run in runs]
    p99 = [percentile(run.latencies, 0.99) * 1e6 for run in runs]
    cpu = [run.cpu_us for run in runs]
    return (
        f"{span(rates)} decisions/s, p50 {span(p50, ',.1f')} us, p99 {span(p99, ',.1f')} us,"
        f" CPU {span(cpu, ',.1f')} us per decision"
    )


def workers(rounds: int, per_round: int) -> None:
    from patternlimit._testing.redis_server import redis_url

    runs: dict[int, list[Measured]] = {1: [], 2: []}
    with redis_url() as url, contextlib.ExitStack() as stack:
        separator = "&" if "?" in url else "?"
        servers = {
            count: stack.enter_context(
                sidecar("--workers", str(count), "--storage", f"{url}{separator}namespace=bench-{uuid.uuid4().hex[:8]}")
            )
            for count in (1, 2)
        }
        for server in servers.values():
            load(server, http_requests(facts(min(1000, per_round), seed=99)))
        for index in range(rounds):
            wire = http_requests(facts(per_round, seed=100 + index))
            for count in (1, 2) if index % 2 == 0 else (2, 1):
                runs[count].append(load(servers[count], wire))
    scale = [b.rate / a.rate for a, b in zip(runs[1], runs[2], strict=True)]
    print(f"serve --workers N on one Redis (eventual mode), {CONNECTIONS} connections, {rounds} rounds:")
    for count in (1, 2):
        print(f"  N={count}: {describe(runs[count])}")
    print(f"  N=2 / N=1 decisions/s: {span(scale, '.2f')}x")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv  # one short round of each: the test suite's check that the benchmark still runs
    numbers = [argument for argument in argv if not argument.startswith("--")]
    rounds = 1 if quick else int(numbers[0]) if numbers else 4
    per_round = 200 if quick else PER_ROUND
    protocol(rounds, per_round)
    workers(rounds, per_round)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

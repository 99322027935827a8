"""``patternlimit serve`` for real: sidecar processes under uvicorn on free loopback ports, driven over HTTP by
httpx, two replicas sharing one real Redis server."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from patternlimit._testing import traffic
from patternlimit._testing.redis_server import redis_url
from patternlimit._testing.web_servers import free_port, patternlimit_serve

SECRET = "a sidecar test secret of 32 bytes"


@contextlib.contextmanager
def sidecar(*arguments: str, env: dict[str, str] | None = None) -> Iterator[str]:
    with patternlimit_serve(*arguments, env={"PATTERNLIMIT_SECRET": SECRET, **(env or {})}) as (url, _, _):
        yield url


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    with redis_url() as url:
        yield url


def _facts(now: float, request: object) -> dict[str, object]:
    fields = ("account", "ip", "text", "route", "client", "account_created_at", "cost")
    return {**{name: getattr(request, name) for name in fields}, "now": now}


def test_two_replicas_on_one_redis_stop_a_fan_out_split_between_them_and_agree(redis):
    storage = f"{redis}?mode=strict&namespace=sidecar-{uuid.uuid4().hex[:8]}"
    with sidecar("--storage", storage) as first, sidecar("--storage", storage) as second:
        replicas = [httpx.Client(base_url=first, timeout=60), httpx.Client(base_url=second, timeout=60)]
        try:
            _fan_out(replicas)
        finally:
            for client in replicas:
                client.close()


def _fan_out(replicas: list[httpx.Client]) -> None:
    answers = [
        replicas[index % 2].post("/v1/check", json=_facts(now, request)).json()
        for index, (now, request) in enumerate(traffic.campaign(accounts=150, per_account=8))
    ]
    throttled = [index for index, answer in enumerate(answers) if answer["action"] == "throttle"]
    assert len(throttled) > 0.5 * len(answers)
    assert {index % 2 for index in throttled} == {0, 1}  # both replicas throttle: they share one view
    harness = [
        replicas[index % 2].post("/v1/check", json=_facts(now, request)).json()["allowed"]
        for index, (now, request) in enumerate(traffic.ci_harness(200))
    ]
    assert all(harness)


def test_serving_beyond_loopback_needs_a_secret_and_a_token():
    command = [sys.executable, "-m", "patternlimit.cli", "serve", "--host", "0.0.0.0", "--port", str(free_port())]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PATTERNLIMIT_")}
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "needs a secret" in done.stderr
    done = subprocess.run(
        command, env={**environment, "PATTERNLIMIT_SECRET": SECRET}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "admin token" in done.stderr

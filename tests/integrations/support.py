"""Shared pieces of the web tests: HTTP traffic shaped like the limiter tests' scenarios, and tiny echo apps."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterator

from patternlimit._testing import traffic
from patternlimit.integrations import AccountContext, RequestInfo

SECRET = b"test secret for the web integration tests"
DAY = 86400.0
TEMPLATE_KEYS = 64


def campaign_body(rng: random.Random) -> bytes:
    """An LLM API request whose one user message is the campaign's coding template with varied fillers."""
    return json.dumps(
        {"model": "m", "max_tokens": 512, "messages": [{"role": "user", "content": traffic.campaign_prompt(rng)}]}
    ).encode()


def organic_body(rng: random.Random) -> bytes:
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": traffic.organic_prompt(rng)}]}).encode()


def fan_out(accounts: int = TEMPLATE_KEYS, rounds: int = 3, seed: int = 1) -> Iterator[tuple[int, str, bytes]]:
    """``(round, api_key, body)``: every young key sends one templated request per round, round after round (so
    the pattern is flagged during round 0 and each account's later requests meet the persistence threshold)."""
    rng = random.Random(seed)
    for round_ in range(rounds):
        for index in range(accounts):
            yield round_, f"young-{seed}-{index}", campaign_body(rng)


def lookup(api_key: str | None) -> AccountContext | None:
    """The test apps' user store: ``ci-harness`` and ``old-*`` keys are 400 days old, ``young-*`` keys new."""
    if api_key is None:
        return None
    if api_key == "ci-harness" or api_key.startswith("old-"):
        return AccountContext(created_at=time.time() - 400 * DAY, plan="enterprise")
    if api_key.startswith("young-"):
        return AccountContext(created_at=time.time(), plan="free")
    return None


def account_context(account: str, info: RequestInfo) -> AccountContext | None:
    return lookup(info.header("x-api-key"))


def headers_for(key: str) -> dict[str, str]:
    return {"x-api-key": key, "content-type": "application/json", "user-agent": "python-httpx/0.28.1"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- echo apps: consume the body chunk by chunk and answer its hash, length and the number of chunks ---------------


async def asgi_echo(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    digest, size, chunks, more = hashlib.sha256(), 0, 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        digest.update(message.get("body", b""))
        size += len(message.get("body", b""))
        chunks += 1
        more = message.get("more_body", False)
    body = json.dumps({"sha256": digest.hexdigest(), "bytes": size, "chunks": chunks}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def wsgi_echo(environ, start_response):  # type: ignore[no-untyped-def]
    stream = environ["wsgi.input"]
    digest, size = hashlib.sha256(), 0
    length = environ.get("CONTENT_LENGTH")
    remaining = int(length) if length else None
    if remaining is None and not environ.get("wsgi.input_terminated"):
        remaining = 0
    while remaining is None or remaining > 0:
        chunk = stream.read(65536 if remaining is None else min(65536, remaining))
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        if remaining is not None:
            remaining -= len(chunk)
    body = json.dumps({"sha256": digest.hexdigest(), "bytes": size, "content_length": length}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def json_loads(data: bytes) -> dict:  # type: ignore[type-arg]
    return json.loads(data)  # type: ignore[no-any-return]


PROBLEM = "https://iana.org/assignments/http-problem-types#"
DEFAULT_POLICY_FIELD = [("account-rate", {"q": 600, "w": 60})]
"""RateLimit-Policy of the default preset, parsed: its one exact limit rule, the same on every response."""


def sf_list(value: str) -> list:  # type: ignore[type-arg]
    """A Structured Field List as ``[(value, {parameter: value})]``, parsed by http-sf (RFC 9651), not by us."""
    import http_sf

    return [(item, dict(parameters)) for item, parameters in http_sf.parse(value.encode("ascii"), tltype="list")]

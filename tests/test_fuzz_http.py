"""Hypothesis over the HTTP input surfaces: the ASGI middleware (any headers, path, peer and body) and the
sidecar's endpoints (any JSON or bytes in a body, any headers to ``/v1/auth``). Every input gets a response among
the documented statuses, and neither raises. Called as ASGI apps in process, so that tens of thousands of cases
run in minutes (the real-server tests are in tests/integrations and tests/sidecar).

``PATTERNLIMIT_FUZZ_EXAMPLES`` sets the examples per test (default 60, so CI stays fast)."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patternlimit import Limiter
from patternlimit.integrations.asgi import PatternLimitMiddleware
from patternlimit.sidecar.app import SidecarConfig, build_app

FUZZ = settings(
    max_examples=int(os.environ.get("PATTERNLIMIT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SECRET = b"fuzz test secret, thirty-two B!!"
TOKEN = "a fuzzing admin token, long enough"
LIMITER = Limiter(secret=SECRET)
LOOP = asyncio.new_event_loop()

header_names = st.one_of(
    st.sampled_from([b"authorization", b"x-api-key", b"x-forwarded-for", b"forwarded", b"content-length",
                     b"content-type", b"user-agent", b"x-real-ip", b"x-original-uri", b"x-account-created-at",
                     b"x-patternlimit-text", b"cookie"]),
    st.binary(min_size=1, max_size=20),
)  # fmt: skip
headers = st.lists(st.tuples(header_names, st.binary(max_size=200)), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=6),
    max_leaves=20,
)
check_fields = st.fixed_dictionaries(
    {},
    optional={
        "account": json_values,
        "ip": json_values,
        "text": json_values,
        "route": json_values,
        "client": json_values,
        "account_created_at": json_values,
        "cost": json_values,
        "attributes": json_values,
        "now": json_values,
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    check_fields.map(lambda fields: json.dumps(fields).encode()),
    st.lists(check_fields, max_size=4).map(lambda items: json.dumps({"requests": items}).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
)


def call(app: Any, method: str, path: bytes, given_headers: list[tuple[bytes, bytes]], body: bytes,
         client: tuple[str, int] | None) -> list[dict[str, Any]]:  # fmt: skip
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path.decode("latin-1"), "raw_path": path, "query_string": b"", "root_path": "",
        "headers": [(name.lower(), value) for name, value in given_headers], "client": client,
        "server": ("127.0.0.1", 8111),
    }  # fmt: skip
    chunks = [body[: len(body) // 2], body[len(body) // 2 :]]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    LOOP.run_until_complete(app(scope, receive, send))
    return sent


async def hello(scope: Any, receive: Any, send: Any) -> None:
    while (await receive())["type"] == "http.request":
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


MIDDLEWARE = PatternLimitMiddleware(hello, limiter=LIMITER, json_fields=["messages[*].content"],
                                    trusted_proxies=["10.0.0.0/8"])  # fmt: skip
SIDECAR = build_app(LIMITER, SidecarConfig(token=TOKEN, digest_key=SECRET))
clients = st.one_of(st.none(), st.tuples(st.sampled_from(["10.1.2.3", "198.51.100.7", "::1", "", "not an ip"]),
                                          st.integers(0, 65535)))  # fmt: skip


def status(sent: list[dict[str, Any]]) -> int:
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    for name, value in starts[0].get("headers", []):
        assert b"\r" not in value and b"\n" not in value and b"\r" not in name and b"\n" not in name
    return int(starts[0]["status"])


@FUZZ
@given(headers, st.binary(max_size=60).map(lambda path: b"/v1/" + path), bodies, clients)
def test_the_middleware_answers_any_request_with_the_app_or_a_refusal(given_headers, path, body, client):
    code = status(call(MIDDLEWARE, "POST", path, given_headers, body, client))
    assert code in (200, 403, 413, 429)


@FUZZ
@given(st.sampled_from([b"/v1/check", b"/v1/check/batch", b"/admin/overrides", b"/admin/reload"]), bodies,
       st.booleans(), headers)  # fmt: skip
def test_the_sidecar_answers_any_body_with_a_decision_or_a_named_error(path, body, with_token, given_headers):
    extra = [(b"authorization", f"Bearer {TOKEN}".encode())] if with_token else []
    sent = call(SIDECAR, "POST", path, [*given_headers, *extra], body, ("127.0.0.1", 50000))
    code = status(sent)
    assert code in (200, 400, 401, 403, 413), (code, sent)
    if code == 400:
        payload = json.loads(b"".join(message.get("body", b"") for message in sent[1:]))
        assert payload["error"]


@FUZZ
@given(headers, clients)
def test_the_sidecar_answers_any_auth_subrequest_with_a_verdict(given_headers, client):
    code = status(call(SIDECAR, "GET", b"/v1/auth", given_headers, b"", client))
    assert code in (204, 403, 429)

"""The ASGI middleware in-process, through httpx's ASGI transport and hand-driven receive/send."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading

import httpx
import pytest

from patternlimit import Action, Decision, Limiter, RateLimitExceeded, StorageError
from patternlimit.integrations import RequestInfo
from patternlimit.integrations.asgi import PatternLimitMiddleware
from patternlimit.policy.models import LimitRule, Policy
from patternlimit.policy.presets import DISTILLATION_DEFENSE
from tests.integrations import support

PROBLEM = support.PROBLEM


class Spy:
    """A limiter that records the requests it is asked about (and answers like the real one)."""

    def __init__(self, limiter: Limiter, fail: bool = False) -> None:
        self.limiter = limiter
        self.policy = limiter.policy
        self.requests: list = []  # type: ignore[type-arg]
        self.fail = fail

    def check(self, request):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        if self.fail:
            raise StorageError("redis is down")
        return self.limiter.check(request)

    async def acheck(self, request):  # type: ignore[no-untyped-def]
        return self.check(request)


def make_app(limiter=None, app=support.asgi_echo, **options):  # type: ignore[no-untyped-def]
    limiter = limiter or Limiter(secret=support.SECRET)
    options.setdefault("account_context", support.account_context)
    options.setdefault("json_fields", ("messages[*].content",))
    options.setdefault("account_key", b"a fixed account key for the tests")
    return PatternLimitMiddleware(app, limiter=limiter, **options)


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


async def post_many(app, items, client=("127.0.0.1", 123)):  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        return [
            (key, body, await http.post("/v1/messages", content=body, headers={**support.headers_for(key), **extra}))
            for key, body, extra in items
        ]


def test_a_templated_fan_out_across_young_keys_is_answered_429_with_headers_and_a_problem_body():
    app = make_app()
    items = [(key, body, {}) for _, key, body in support.fan_out()]
    results = run(post_many(app, items))
    statuses = [response.status_code for _, _, response in results]
    first_round = statuses[: support.TEMPLATE_KEYS]
    later = statuses[support.TEMPLATE_KEYS :]
    # persistence: an account's first request on the flagged pattern is only logged, its next ones are throttled
    assert set(first_round) == {200}
    assert later.count(429) > 0.6 * len(later) and set(statuses[-support.TEMPLATE_KEYS :]) == {429}
    throttled = next(response for _, _, response in results if response.status_code == 429)
    # The policy field is the policy's, not the decision's: one value on every 429 (a pattern throttle's retry
    # and a penalty's differ, and once made the policy's window change from 900 to 21600).
    rejected = [response for _, _, response in results if response.status_code == 429]
    assert {response.headers["ratelimit-policy"] for response in rejected} == {throttled.headers["ratelimit-policy"]}
    assert len({response.headers["retry-after"] for response in rejected}) > 1  # while the state does change
    assert throttled.headers["content-type"] == "application/problem+json"
    retry = throttled.headers["retry-after"]
    assert retry.isdigit() and 1 <= int(retry) <= 6 * 3600
    assert support.sf_list(throttled.headers["ratelimit-policy"]) == support.DEFAULT_POLICY_FIELD
    assert support.sf_list(throttled.headers["ratelimit"]) == [("pattern", {"r": 0, "t": int(retry)})]
    problem = throttled.json()
    assert problem["type"] == PROBLEM + "abnormal-usage-detected"
    assert problem["status"] == 429 and problem["retry_after"] == int(retry)
    assert "young" not in problem["detail"] and "rule" not in problem["detail"]  # the reason stays in the logs


def test_a_ci_harness_key_and_varied_traffic_are_served_before_and_after_a_campaign():
    app = make_app()
    rng = random.Random(7)
    varied = [(f"young-varied-{index}", support.organic_body(rng), {}) for index in range(80)]
    harness = [("ci-harness", support.campaign_body(rng), {}) for _ in range(150)]
    campaign = [(key, body, {}) for _, key, body in support.fan_out()]
    results = run(post_many(app, varied + harness[:75] + campaign + harness[75:]))
    by_key: dict[str, list[int]] = {}
    for key, _, response in results:
        group = "ci-harness" if key == "ci-harness" else key.rsplit("-", 1)[0]
        by_key.setdefault(group, []).append(response.status_code)
    assert set(by_key["young-varied"]) == {200}
    assert set(by_key["ci-harness"]) == {200}
    assert 429 in by_key["young-1"]


def test_the_app_receives_every_body_byte_identical_in_the_same_chunks():
    app = make_app(max_body_bytes=1024)
    rng = random.Random(3)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            for size, chunk in [(0, 1), (10, 10), (1024, 1024), (1025, 1025), (5000, 333), (300_000, 4096)]:
                body = rng.randbytes(size)
                pieces = [body[start : start + chunk] for start in range(0, size, chunk)]

                async def stream(pieces=pieces):  # type: ignore[no-untyped-def]
                    for piece in pieces:
                        yield piece

                response = await http.post("/upload", content=stream(), headers=support.headers_for("old-1"))
                assert response.status_code == 200
                echoed = response.json()
                assert echoed["sha256"] == support.sha(body) and echoed["bytes"] == size
                assert echoed["chunks"] == len(pieces) + 1  # the transport's empty final message included

    run(go())


def test_the_middleware_holds_at_most_the_cap_and_one_chunk_before_the_app_runs():
    cap, chunk, chunks = 4096, 1000, 50
    pulled = []

    async def receive():  # type: ignore[no-untyped-def]
        index = len(pulled)
        pulled.append(index)
        return {"type": "http.request", "body": b"x" * chunk, "more_body": index < chunks - 1}

    seen_at_start = []

    async def app(scope, receive_, send):  # type: ignore[no-untyped-def]
        seen_at_start.append(len(pulled))
        total = 0
        while True:
            message = await receive_()
            total += len(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(total).encode()})

    sent = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    spy = Spy(Limiter(secret=support.SECRET))
    middleware = PatternLimitMiddleware(app, limiter=spy, max_body_bytes=cap)
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "client": ("10.0.0.1", 5)}
    run(middleware(scope, receive, send))
    assert seen_at_start == [cap // chunk + 1]  # 5 chunks: 5000 bytes, the first past 4096
    assert sent[0]["status"] == 200 and sent[1]["body"] == str(chunk * chunks).encode()
    assert spy.requests[0].text == b"x" * cap  # fingerprinted on the prefix only


def test_oversized_bodies_are_rejected_with_413_when_configured():
    app = make_app(max_body_bytes=100, reject_oversized=True)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:

            async def stream():  # type: ignore[no-untyped-def]
                yield b"a" * 60
                yield b"b" * 60

            return [
                await http.post("/", content=b"x" * 101),
                await http.post("/", content=stream()),
                await http.post("/", content=b"x" * 100),
            ]

    declared, chunked, fits = run(go())
    assert declared.status_code == 413 and chunked.status_code == 413
    assert declared.json()["type"] == "about:blank"
    assert fits.status_code == 200 and fits.json()["bytes"] == 100


def test_json_fields_select_the_text_and_malformed_or_non_utf8_bodies_fall_back_to_raw_bytes():
    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, json_fields=("messages[*].content", "system"))
    bodies = [
        json.dumps({"system": "be terse", "messages": [{"role": "user", "content": "hi"}, {"content": ["a", "b"]}]}),
        '{"messages": [{"content": "unterminated',
        b"\xff\xfe not utf-8 \x80",
        json.dumps({"other": "field"}),
    ]
    items = [("old-1", body.encode() if isinstance(body, str) else body, {}) for body in bodies]
    results = run(post_many(app, items))
    assert [response.status_code for *_, response in results] == [200] * 4
    assert [response.json()["sha256"] for *_, response in results] == [support.sha(body) for _, body, _ in items]
    texts = [request.text for request in spy.requests]
    assert texts[0] == "hi\x1ea\x1eb\x1ebe terse"  # turns joined by the record separator
    assert texts[1] == items[1][1] and texts[2] == items[2][1] and texts[3] == items[3][1]


def test_forwarded_addresses_count_only_from_a_trusted_proxy():
    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, trusted_proxies=("10.0.0.0/8",), client_header="x-ja4")
    spoof = {"x-forwarded-for": "1.2.3.4", "x-ja4": "t13d1516h2_8daaf6152771_e5627efa2ab1"}
    run(post_many(app, [("old-1", b"{}", spoof)], client=("203.0.113.9", 4000)))  # untrusted peer
    chain = {"x-forwarded-for": "9.9.9.9, 198.51.100.7, 10.1.1.1", "x-ja4": spoof["x-ja4"]}
    run(post_many(app, [("old-1", b"{}", chain)], client=("10.0.0.2", 4000)))  # via two of our proxies
    untrusted, trusted = spy.requests
    assert untrusted.ip == "203.0.113.9" and untrusted.client.startswith("hdr:")
    assert trusted.ip == "198.51.100.7"  # right to left: the first hop that is not ours; 9.9.9.9 is the client's claim
    assert trusted.client == "tls:" + spoof["x-ja4"]


def test_the_account_is_a_keyed_digest_of_the_api_key_never_the_key():
    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, account_key=b"k" * 32)
    other = make_app(spy, account_key=b"j" * 32)
    run(post_many(app, [("sk-live-secret", b"{}", {}), ("sk-live-secret", b"{}", {"authorization": "Bearer x"})]))
    run(post_many(other, [("sk-live-secret", b"{}", {})]))
    from_key, from_bearer, other_deployment = (request.account for request in spy.requests)
    assert from_key.startswith("key:") and len(from_key) == 28 and "secret" not in from_key
    assert from_bearer != from_key  # Authorization wins over X-API-Key
    assert other_deployment != from_key


def test_account_context_comes_from_a_sync_or_async_hook_and_is_cached():
    calls: list[str] = []

    async def hook(account, info):  # type: ignore[no-untyped-def]
        calls.append(account)
        await asyncio.sleep(0)
        return {"created_at": 1_000.0, "plan": "pro"}

    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, account_context=hook)
    run(post_many(app, [("a", b"{}", {}), ("a", b"{}", {}), ("b", b"{}", {})]))
    assert len(calls) == 2
    assert spy.requests[0].account_created_at == 1_000.0 and spy.requests[0].attributes == {"plan": "pro"}


def test_a_failing_limiter_or_context_hook_serves_the_request_and_logs(caplog):
    def broken(account, info):  # type: ignore[no-untyped-def]
        raise RuntimeError("user store down")

    app = make_app(Spy(Limiter(secret=support.SECRET), fail=True), account_context=broken)
    with caplog.at_level(logging.WARNING, logger="patternlimit.integrations"):
        results = run(post_many(app, [("young-x", b'{"a": 1}', {})]))
    assert results[0][2].status_code == 200 and results[0][2].json()["sha256"] == support.sha(b'{"a": 1}')
    messages = [record.getMessage() for record in caplog.records]
    assert any("account_context failed" in message for message in messages)
    assert any("limiter failed" in message for message in messages)


def test_log_mode_never_changes_the_response(caplog):
    shadow = Limiter(DISTILLATION_DEFENSE.model_copy(update={"shadow": True}), secret=support.SECRET)
    app = make_app(shadow)
    items = [(key, body, {}) for _, key, body in support.fan_out()]
    with caplog.at_level(logging.INFO, logger="patternlimit.integrations"):
        results = run(post_many(app, items))
    assert {response.status_code for *_, response in results} == {200}
    assert any("would throttle" in record.getMessage() for record in caplog.records)


def test_exact_limit_rules_answer_rate_limit_exceeded_and_blocks_answer_the_block_status(caplog):
    policy = Policy(
        rules=[
            LimitRule(name="per-key", limit="3/minute", per="account", weighted=False),
            LimitRule(name="hard", limit="5/minute", per="account", weighted=False, action="block"),
        ]
    )
    app = make_app(Limiter(policy, secret=support.SECRET), block_status=451, expose_reason=True)
    with caplog.at_level(logging.WARNING, logger="patternlimit.integrations"):
        results = run(post_many(app, [("old-1", b"{}", {})] * 7))
    statuses = [response.status_code for *_, response in results]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses and statuses[-1] == 451
    throttled = next(response for *_, response in results if response.status_code == 429)
    assert support.sf_list(throttled.headers["ratelimit-policy"]) == [
        ("per-key", {"q": 3, "w": 60}),
        ("hard", {"q": 5, "w": 60}),
    ]
    [(name, state)] = support.sf_list(throttled.headers["ratelimit"])
    assert name == "per-key" and state["r"] == 0 and 1 <= state["t"] <= 60
    assert throttled.json()["violated-policies"] == ["per-key"]
    assert throttled.json()["type"] == PROBLEM + "quota-exceeded"
    assert "over its limit of 3" in throttled.json()["detail"]  # expose_reason
    assert any("rule=per-key" in record.getMessage() for record in caplog.records)


def test_headers_can_be_disabled_but_a_429_keeps_retry_after():
    policy = Policy(rules=[LimitRule(name="per-key", limit="1/minute", weighted=False)])
    app = make_app(Limiter(policy, secret=support.SECRET), headers_enabled=False)
    results = run(post_many(app, [("old-1", b"{}", {})] * 2))
    throttled = results[1][2]
    assert throttled.status_code == 429 and throttled.headers["retry-after"].isdigit()
    assert "ratelimit" not in throttled.headers and "ratelimit-policy" not in throttled.headers


def test_exempt_requests_skip_the_limiter_and_other_scopes_pass_through():
    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, exempt=lambda info: info.path == "/health")

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            assert (await http.get("/health")).status_code == 200
            assert (await http.get("/other")).status_code == 200

    run(go())
    assert [request.route for request in spy.requests] == ["/other"]

    passed = []

    async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
        passed.append((scope["type"], receive, send))

    middleware = PatternLimitMiddleware(inner, limiter=spy)

    async def receive():  # type: ignore[no-untyped-def]
        return {}

    async def send(message):  # type: ignore[no-untyped-def]
        return None

    for kind in ("lifespan", "websocket"):
        run(middleware({"type": kind}, receive, send))
    assert passed == [("lifespan", receive, send), ("websocket", receive, send)]
    assert len(spy.requests) == 1


def test_rate_limit_exceeded_raised_by_the_app_becomes_a_429():
    decision = Decision(Action.THROTTLE, rule="template-fan-out", reason="r", retry_after=12.2)

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        raise RateLimitExceeded(decision)

    middleware = PatternLimitMiddleware(app, limiter=Limiter(secret=support.SECRET))
    results = run(post_many(middleware, [("old-1", b"{}", {})]))
    response = results[0][2]
    assert response.status_code == 429 and response.headers["retry-after"] == "13"


def test_bad_options_are_configuration_errors():
    from patternlimit import ConfigurationError

    limiter = Limiter(secret=support.SECRET)
    for options in (
        {"trusted_proxies": ("not-an-ip",)},
        {"json_fields": ("messages[x",)},
        {"json_fields": "prompt"},
        {"max_body_bytes": -1},
        {"block_status": 200},
        {"no_such_option": 1},
    ):
        with pytest.raises(ConfigurationError):
            PatternLimitMiddleware(support.asgi_echo, limiter=limiter, **options)


# -- the raw-header fast path decides on the request the RequestInfo path builds -------------------------------------

_UA = (b"user-agent", b"python-httpx/0.28.1")
_HEADER_LISTS = {
    "usual": [(b"host", b"api"), _UA, (b"x-api-key", b"old-1"), (b"x-forwarded-for", b"1.2.3.4")],
    "repeated lines": [
        (b"x-forwarded-for", b"9.9.9.9"),
        (b"x-api-key", b"old-1"),
        (b"x-forwarded-for", b"198.51.100.7, 10.1.1.1"),
        _UA,
        (b"user-agent", b"curl/8.0"),
        (b"x-api-key", b"old-2"),
    ],
    "upper-case names": [(b"Host", b"api"), (b"User-Agent", b"curl/8.0"), (b"X-Api-Key", b"old-1")],
    "ja4 and bearer": [(b"authorization", b"Bearer sk-1"), (b"x-api-key", b"old-1"), (b"x-ja4", b"t13d1516h2_8d")],
    "blank ja4": [(b"x-ja4", b"  "), _UA, (b"x-forwarded-for", b"garbage")],
    "latin-1 values": [(b"x-api-key", b"\xa0old-1\xa0"), (b"user-agent", b"caf\xe9/1.0 (\xff)")],
    "none": [],
}


@pytest.mark.parametrize("forwarded_header", ["x-forwarded-for", "forwarded"])
@pytest.mark.parametrize("peer", [("10.0.0.2", 4000), ("203.0.113.9", 4000), None])
@pytest.mark.parametrize("name", list(_HEADER_LISTS))
def test_the_raw_header_path_builds_the_request_the_request_info_path_builds(name, peer, forwarded_header):
    from patternlimit.integrations.accounts import NO_ACCOUNT_FIELDS
    from patternlimit.integrations.extract import account_of, build_request
    from patternlimit.integrations.guard import make_config
    from patternlimit.integrations.http import headers_from_asgi

    headers = list(_HEADER_LISTS[name])
    if forwarded_header == "forwarded":
        headers = [
            (b"forwarded", b"for=" + value) if key == b"x-forwarded-for" else (key, value) for key, value in headers
        ]
    options = {
        "json_fields": ("prompt",),
        "trusted_proxies": ("10.0.0.0/8",),
        "client_header": "x-ja4",
        "forwarded_header": forwarded_header,
        "account_key": b"a fixed account key for the tests",
    }
    spy = Spy(Limiter(secret=support.SECRET))
    middleware = PatternLimitMiddleware(support.asgi_echo, limiter=spy, **options)
    body = b'{"prompt": "write a poem"}'

    async def go() -> None:
        async def receive():  # type: ignore[no-untyped-def]
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):  # type: ignore[no-untyped-def]
            return None

        scope = {"type": "http", "method": "POST", "path": "/v1", "headers": iter(headers), "client": peer}
        await middleware(scope, receive, send)  # headers as a one-shot iterable: read once

    run(go())
    info = RequestInfo("POST", "/v1", headers_from_asgi(headers), peer[0] if peer else "")
    config = make_config(None, options)
    expected = build_request(info, config, account_of(info, config), NO_ACCOUNT_FIELDS, body, True)
    assert spy.requests == [expected]


@pytest.mark.parametrize("kind", ["function", "callable object"])
def test_a_sync_account_context_hook_runs_in_a_worker_thread_not_on_the_event_loop(kind):
    release = threading.Event()
    threads: list[int] = []

    def lookup(account, info):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        # Blocks until a coroutine on the event loop sets the event: on the loop itself it would wait in vain.
        return {"created_at": 5.0} if release.wait(2.0) else None

    class Lookup:
        def __call__(self, account, info):  # type: ignore[no-untyped-def]
            return lookup(account, info)

    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, account_context=lookup if kind == "function" else Lookup())

    async def go() -> int:
        async def unblock() -> None:
            await asyncio.sleep(0.05)
            release.set()

        results, _ = await asyncio.gather(post_many(app, [("old-1", b"{}", {})]), unblock())
        assert results[0][2].status_code == 200
        return threading.get_ident()

    loop_thread = run(go())
    assert threads and threads[0] != loop_thread
    assert spy.requests[0].account_created_at == 5.0


def test_an_async_account_context_hook_is_awaited_on_the_event_loop():
    threads: list[int] = []

    class Lookup:
        async def __call__(self, account, info):  # type: ignore[no-untyped-def]
            threads.append(threading.get_ident())
            return {"created_at": 7.0}

    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, account_context=Lookup())

    async def go() -> int:
        await post_many(app, [("old-1", b"{}", {})])
        return threading.get_ident()

    assert threads == [run(go())] and spy.requests[0].account_created_at == 7.0

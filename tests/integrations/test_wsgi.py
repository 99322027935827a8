"""The WSGI middleware in-process: httpx's WSGI transport, and hand-built environs for chunked input."""

from __future__ import annotations

import io
import random
import sys

import httpx
import pytest

from patternlimit import Action, Decision, Limiter, RateLimitExceeded
from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware, ReplayInput
from tests.integrations import support
from tests.integrations.test_asgi import PROBLEM, Spy


def make_app(limiter=None, app=support.wsgi_echo, **options):  # type: ignore[no-untyped-def]
    options.setdefault("account_context", support.account_context)
    options.setdefault("json_fields", ("messages[*].content",))
    options.setdefault("account_key", b"a fixed account key for the tests")
    return PatternLimitWSGIMiddleware(app, limiter=limiter or Limiter(secret=support.SECRET), **options)


def call(app, body: bytes, environ_extra=None, chunked=False):  # type: ignore[no-untyped-def]
    """Call a WSGI app directly; ``chunked`` leaves CONTENT_LENGTH out and sets wsgi.input_terminated, as gunicorn
    does for a chunked upload. The stream has trailing bytes that must never be read."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/v1/messages",
        "REMOTE_ADDR": "192.0.2.1",
        "HTTP_X_API_KEY": "old-1",
        "wsgi.input": io.BytesIO(body + (b"" if chunked else b"TRAILING GARBAGE")),
        "wsgi.errors": sys.stderr,
    }
    if chunked:
        environ["wsgi.input_terminated"] = True
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(environ_extra or {})
    status = []
    result = app(environ, lambda line, headers, exc_info=None: status.append((line, headers)))
    return status[0][0], dict(status[0][1]), b"".join(result), environ


def test_a_templated_fan_out_is_answered_429_and_a_ci_harness_and_varied_traffic_pass():
    app = make_app()
    rng = random.Random(5)
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://api.test") as http:
        varied = [
            http.post("/v1/messages", content=support.organic_body(rng), headers=support.headers_for(f"young-v{i}"))
            for i in range(60)
        ]
        campaign = [
            http.post("/v1/messages", content=body, headers=support.headers_for(key))
            for _, key, body in support.fan_out()
        ]
        harness = [
            http.post("/v1/messages", content=support.campaign_body(rng), headers=support.headers_for("ci-harness"))
            for _ in range(100)
        ]
    assert {response.status_code for response in varied + harness} == {200}
    statuses = [response.status_code for response in campaign]
    assert set(statuses[-support.TEMPLATE_KEYS :]) == {429}
    throttled = next(response for response in campaign if response.status_code == 429)
    retry = throttled.headers["retry-after"]
    assert retry.isdigit()
    assert support.sf_list(throttled.headers["ratelimit"]) == [("pattern", {"r": 0, "t": int(retry)})]
    assert support.sf_list(throttled.headers["ratelimit-policy"]) == support.DEFAULT_POLICY_FIELD
    assert throttled.headers["content-type"] == "application/problem+json"
    assert throttled.json()["type"] == PROBLEM + "abnormal-usage-detected"


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("size", [0, 7, 100, 101, 5000])
def test_the_app_reads_the_body_byte_identical_and_never_past_its_end(size, chunked):
    spy = Spy(Limiter(secret=support.SECRET))
    body = random.Random(size).randbytes(size)
    status, _, out, _ = call(make_app(spy, max_body_bytes=100), body, chunked=chunked)
    assert status.startswith("200")
    echoed = support.json_loads(out)
    assert echoed["sha256"] == support.sha(body) and echoed["bytes"] == size
    assert spy.requests[0].text == body[:100]
    if chunked:
        # a chunked body that fits the cap gets a CONTENT_LENGTH, for frameworks that ignore input_terminated
        assert echoed["content_length"] == (str(size) if size <= 100 else None)


def test_chunked_input_without_input_terminated_is_not_read():
    spy = Spy(Limiter(secret=support.SECRET))
    _, _, out, _ = call(make_app(spy), b"abc", chunked=True, environ_extra={"wsgi.input_terminated": False})
    assert spy.requests[0].text == b"" and support.json_loads(out)["bytes"] == 0


def test_replay_input_reads_lines_and_sizes_across_the_prefix_boundary():
    stream = io.BytesIO(b"ef\ngh\nij" + b"NOT THIS")
    replay = ReplayInput(b"ab\ncd", stream, remaining=8)
    assert replay.readline() == b"ab\n"
    assert replay.read(1) == b"c"
    assert replay.readline() == b"def\n"
    assert list(replay) == [b"gh\n", b"ij"]
    assert replay.read() == b""
    whole = ReplayInput(b"12", io.BytesIO(b"345"), remaining=None)
    assert whole.read() == b"12345"
    into = ReplayInput(b"xy", io.BytesIO(b"z"), remaining=1)
    assert io.BufferedReader(into).read() == b"xyz"


def test_oversized_bodies_are_rejected_with_413_when_configured():
    app = make_app(max_body_bytes=10, reject_oversized=True)
    declared = call(app, b"x" * 11)
    chunked = call(app, b"x" * 11, chunked=True)
    fits = call(app, b"x" * 10, chunked=True)
    assert declared[0].startswith("413") and chunked[0].startswith("413") and fits[0].startswith("200")
    assert support.json_loads(declared[2])["type"] == "about:blank"


def test_forwarded_for_counts_only_from_a_trusted_remote_addr():
    spy = Spy(Limiter(secret=support.SECRET))
    app = make_app(spy, trusted_proxies=("192.0.2.0/24", "2001:db8::/32"), forwarded_header="forwarded")
    forwarded = {"HTTP_FORWARDED": 'for=203.0.113.60;proto=https, for="[2001:db8:cafe::17]:4711"'}
    call(app, b"{}", forwarded)  # the peer 192.0.2.1 is ours; so is 2001:db8:cafe::17: the client is 203.0.113.60
    call(app, b"{}", {**forwarded, "REMOTE_ADDR": "198.51.100.1"})
    call(app, b"{}", {"HTTP_X_FORWARDED_FOR": "203.0.113.99"})  # only the configured header is read
    assert [request.ip for request in spy.requests] == ["203.0.113.60", "198.51.100.1", "192.0.2.1"]


def test_a_failing_limiter_serves_the_request():
    app = make_app(Spy(Limiter(secret=support.SECRET), fail=True))
    status, _, out, _ = call(app, b"payload")
    assert status.startswith("200") and support.json_loads(out)["sha256"] == support.sha(b"payload")


def test_rate_limit_exceeded_raised_by_the_app_becomes_the_block_status():
    decision = Decision(Action.BLOCK, rule="r", reason="why")

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [])
        raise RateLimitExceeded(decision)

    calls = []

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        calls.append((status, exc_info is not None))

    middleware = PatternLimitWSGIMiddleware(app, limiter=Limiter(secret=support.SECRET))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO(), "REMOTE_ADDR": "1.1.1.1"}
    body = b"".join(middleware(environ, start_response))
    assert calls == [("200 OK", False), ("403 Forbidden", True)]
    assert support.json_loads(body)["status"] == 403

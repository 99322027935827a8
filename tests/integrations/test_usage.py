"""Token usage read from responses and charged after them: the meter on OpenAI- and Anthropic-style JSON and
server-sent events however they are cut, and the middlewares under real servers stopping an account by tokens."""

from __future__ import annotations

import asyncio
import itertools
import json
import tracemalloc

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit import Limiter, Request
from patternlimit._testing import llm_responses
from patternlimit._testing.web_servers import serve
from patternlimit.errors import ConfigurationError
from patternlimit.integrations.asgi import PatternLimitMiddleware
from patternlimit.integrations.usage import MAX_JSON_BYTES, MAX_TOKENS, UsageMeter
from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware
from tests.integrations import support, usage_app

SSE = "text/event-stream; charset=utf-8"
STYLES = [("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)]


def _read(content_type: str, chunks: list[bytes], encoding: str = "") -> int | None:
    meter = UsageMeter(content_type, encoding)
    for chunk in chunks:
        meter.feed(chunk)
    return meter.tokens()


@pytest.mark.parametrize(("style", "stream"), STYLES)
def test_each_style_reports_its_tokens_whole_and_in_seven_byte_pieces(style, stream):
    data = llm_responses.body_for(style, stream, 4321)
    content_type = SSE if stream else "application/json"
    assert _read(content_type, [data]) == 4321
    assert _read(content_type, list(llm_responses.pieces(data))) == 4321


@settings(max_examples=60, deadline=None)
@given(
    style=st.sampled_from(["openai", "anthropic"]),
    tokens=st.integers(0, 10**7),
    newline=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    cuts=st.lists(st.integers(0, 4000), max_size=40),
)
def test_any_cut_of_any_line_ending_reads_the_same_usage(style, tokens, newline, cuts):
    data = llm_responses.body_for(style, True, tokens).replace(b"\n", newline)
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    chunks = [data[start:end] for start, end in itertools.pairwise(bounds)]
    assert _read(SSE, chunks) == tokens


def test_the_latest_count_wins_and_nothing_else_is_read():
    # Anthropic's message_delta counts are cumulative: the last one is the output.
    events = (
        b"event: message_start\n"
        b'data: {"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":5}}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":30}}\n\n'
    )
    assert _read(SSE, [events]) == 40
    # The Responses API's final event.
    usage = b'{"input_tokens":3,"output_tokens":4,"total_tokens":7}'
    completed = b'data: {"type":"response.completed","response":{"usage":' + usage + b"}}\n\n"
    assert _read(SSE, [completed]) == 7
    assert _read(SSE, [b'data: {"choices":[],"usage":null}\n\ndata: [DONE]\n\n']) is None
    assert _read("application/json", [b'{"usage": {"total_tokens": true}}']) is None
    assert _read("application/json", [b'{"usage": {"total_tokens": 1e30}}']) == MAX_TOKENS
    assert _read("application/json", [b"not json"]) is None
    assert _read("application/problem+json", [b'{"usage": {"total_tokens": 9}}']) == 9
    assert _read("text/html", [llm_responses.openai_json(50)]) is None
    assert not UsageMeter("application/json", "gzip").reading
    assert not UsageMeter("text/event-stream-ish").reading


def test_a_json_body_over_the_cap_is_read_from_its_tail():
    padding = "x" * (MAX_JSON_BYTES + 10)
    document = {"content": [{"type": "tool_use", "input": {"usage": {"total_tokens": 1}}}], "text": padding}
    document["usage"] = {"input_tokens": 100, "output_tokens": 23}
    data = json.dumps(document).encode()
    assert _read("application/json", list(llm_responses.pieces(data, 65536))) == 123


def test_a_long_stream_is_scanned_without_being_held():
    meter = UsageMeter(SSE)
    delta = b'data: {"choices":[{"delta":{"content":"' + b"y" * 200 + b'"}}],"usage":null}\n\n'
    head, tail = delta[:100], delta[100:]
    long_line = [b"data: ", *([b"z" * 65536] * 48)]  # a 3 MiB line, too long to read: skipped
    tracemalloc.start()
    try:
        for _ in range(20_000):  # 4.5 MB of events, in chunks that cut them anywhere
            meter.feed(head)
            meter.feed(tail)
        for piece in long_line:
            meter.feed(piece)
        meter.feed(b'\n\ndata: {"usage":{"total_tokens":77}}\n\n')
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert meter.tokens() == 77
    assert peak < 1.5 * 1024 * 1024  # one line at most (the long one is dropped as it grows past 1 MiB)


def _http_asgi(app, bodies):  # type: ignore[no-untyped-def]
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [await http.post("/v1/llm", json=body, headers={"x-api-key": key}) for key, body in bodies]

    return asyncio.run(go())


def test_in_process_asgi_and_wsgi_charge_usage_and_send_the_remaining_quota():
    asgi = usage_app.asgi_app
    wsgi = usage_app.wsgi_app
    asked = [("k", {"style": "anthropic", "stream": True, "tokens": 4000})] * 4
    responses = _http_asgi(asgi, asked)
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://api.test") as http:
        responses += [http.post("/v1/llm", json=body, headers={"x-api-key": key}) for key, body in asked]
    assert [response.status_code for response in responses] == [200, 200, 200, 429] * 2
    for first, second, third in (responses[0:3], responses[4:7]):
        assert support.sf_list(first.headers["ratelimit"]) == [
            ("requests", {"r": 599, "t": 60}),
            ("tokens", {"r": 9999, "t": 3600}),  # the check counts each request once on every limit rule
        ]
        assert dict(support.sf_list(second.headers["ratelimit"]))["tokens"]["r"] == 10000 - 4001 - 1
        assert dict(support.sf_list(third.headers["ratelimit"]))["tokens"]["r"] == 10000 - 2 * 4001 - 1
        assert first.headers["ratelimit-policy"] == second.headers["ratelimit-policy"]
    assert responses[3].json()["violated-policies"] == ["tokens"]


def test_usage_names_limit_rules_of_the_policy():
    limiter = Limiter(usage_app.POLICY, secret=support.SECRET)
    with pytest.raises(ConfigurationError, match="usage: rules: 'tokenz' not among"):
        PatternLimitMiddleware(support.asgi_echo, limiter=limiter, usage=("tokenz",))
    with pytest.raises(ConfigurationError, match=r"use \('tokens',\)"):
        PatternLimitWSGIMiddleware(support.wsgi_echo, limiter=limiter, usage="tokens")


def test_an_app_without_usage_is_charged_nothing():
    limiter = Limiter(usage_app.POLICY, secret=support.SECRET)
    app = PatternLimitMiddleware(
        support.asgi_echo, limiter=limiter, usage=("tokens",), account=lambda info: info.header("x-api-key")
    )
    responses = _http_asgi(app, [("k", {"tokens": 50_000})] * 3)
    assert [response.status_code for response in responses] == [200] * 3
    [tokens] = [state for state in limiter.limit_state(Request(account="k")) if state.rule == "tokens"]
    assert tokens.remaining == usage_app.TOKENS_PER_HOUR - 3  # the checks' one per request, no usage


SERVERS = {"fastapi-uvicorn": ("uvicorn", "tests.integrations.usage_app:asgi_app"),
           "flask-gunicorn": ("gunicorn", "tests.integrations.usage_app:wsgi_app")}  # fmt: skip


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request):  # type: ignore[no-untyped-def]
    kind, target = SERVERS[request.param]
    with serve(request.param, kind, target) as running:
        yield running


@pytest.mark.parametrize(("style", "stream"), STYLES)
def test_a_real_server_stops_an_account_after_a_few_large_responses(server, style, stream):
    key = f"{server.name}-{style}-{stream}"
    body = {"style": style, "stream": stream, "tokens": 4000}
    statuses = []
    with httpx.Client(base_url=server.url, timeout=30.0) as http:
        for _ in range(5):
            if stream:
                with http.stream("POST", "/v1/llm", json=body, headers={"x-api-key": key}) as response:
                    text = b"".join(response.iter_raw())
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        assert text == llm_responses.body_for(style, stream, 4000)
            else:
                statuses.append(http.post("/v1/llm", json=body, headers={"x-api-key": key}).status_code)
        other = http.post("/v1/llm", json=body, headers={"x-api-key": key + "-other"})
    # 4000 + 4000 + 4000 tokens: the third response takes the account past 10,000 an hour.
    assert statuses == [200, 200, 200, 429, 429]
    assert other.status_code == 200

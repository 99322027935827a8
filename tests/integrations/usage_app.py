"""Stand-ins for an LLM API that report token usage as OpenAI and Anthropic do, as JSON or as server-sent events,
behind patternlimit's middlewares with ``usage=("tokens",)``: a FastAPI app (:data:`asgi_app`, under uvicorn) and
a Flask app (:data:`wsgi_app`, under gunicorn).

A request's JSON body names the ``style`` (``"openai"`` or ``"anthropic"``), ``stream`` and the ``tokens`` the
response reports in all (a quarter of them input, the rest output). Streamed bodies go out in small pieces that
cut events, lines and the usage JSON itself apart, so the middleware must scan across chunk boundaries.

No ``from __future__ import annotations`` here: FastAPI reads the handler's annotations, and ``Request`` is imported
inside the function that builds the app.
"""

import json
from collections.abc import Iterator

from patternlimit import Limiter
from patternlimit.policy.models import LimitRule, Policy

TOKENS_PER_HOUR = 10_000
POLICY = Policy(
    rules=[
        LimitRule(name="requests", limit="600/minute", weighted=False),
        LimitRule(name="tokens", limit=f"{TOKENS_PER_HOUR}/hour", strategy="fixed-window", weighted=False),
    ]
)
PIECE = 7
"""Bytes per streamed chunk: small enough to split every line and the usage object."""


def split(tokens: int) -> tuple[int, int]:
    """``(input, output)`` tokens of a response reporting ``tokens`` in all."""
    given = tokens // 4
    return given, tokens - given


def openai_json(tokens: int) -> bytes:
    given, produced = split(tokens)
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": given, "completion_tokens": produced, "total_tokens": tokens},
        }
    ).encode()


def anthropic_json(tokens: int) -> bytes:
    given, produced = split(tokens)
    return json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "Hello!"}],
            "model": "claude-test",
            "stop_reason": "end_turn",
            "usage": {"input_tokens": given, "output_tokens": produced},
        }
    ).encode()


def openai_events(tokens: int, words: int = 5) -> bytes:
    """A chat completion stream with ``stream_options.include_usage``: ``usage`` null on every chunk but the
    last, which has no choices."""
    given, produced = split(tokens)
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-test"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"content": f"word{i} "}}], "usage": None} for i in range(words)
    ]
    chunks.append(
        {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": given, "completion_tokens": produced, "total_tokens": tokens},
        }
    )
    return b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks) + b"data: [DONE]\n\n"


def anthropic_events(tokens: int, words: int = 5) -> bytes:
    """A Messages stream: input tokens in ``message_start``, the cumulative output tokens in ``message_delta``."""
    given, produced = split(tokens)
    events: list[tuple[str, object]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-test",
                    "usage": {"input_tokens": given, "output_tokens": 1},
                },
            },
        ),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
        ("ping", {"type": "ping"}),
    ]
    events += [
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"text": f"word{i} "}})
        for i in range(words)
    ]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": produced}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


def body_for(style: str, stream: bool, tokens: int) -> bytes:
    if stream:
        return openai_events(tokens) if style == "openai" else anthropic_events(tokens)
    return openai_json(tokens) if style == "openai" else anthropic_json(tokens)


def pieces(data: bytes, size: int = PIECE) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _asgi_app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI, Request
    from fastapi.responses import Response, StreamingResponse

    from patternlimit.integrations.asgi import PatternLimitMiddleware

    app = FastAPI()
    limiter = Limiter(POLICY)
    app.add_middleware(PatternLimitMiddleware, limiter=limiter, usage=("tokens",), headers_on_allowed=True)

    @app.post("/v1/llm")
    async def llm(request: Request) -> Response:
        asked = await request.json()
        data = body_for(asked["style"], asked["stream"], asked["tokens"])
        if not asked["stream"]:
            return Response(data, media_type="application/json")

        async def events():  # type: ignore[no-untyped-def]
            for piece in pieces(data):
                yield piece

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def _wsgi_app():  # type: ignore[no-untyped-def]
    from flask import Flask, Response, request

    from patternlimit.integrations.wsgi import PatternLimitWSGIMiddleware

    app = Flask(__name__)

    @app.post("/v1/llm")
    def llm() -> Response:
        asked = request.get_json()
        data = body_for(asked["style"], asked["stream"], asked["tokens"])
        if not asked["stream"]:
            return Response(data, mimetype="application/json")
        return Response(pieces(data), mimetype="text/event-stream")

    limiter = Limiter(POLICY)
    app.wsgi_app = PatternLimitWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, limiter=limiter, usage=("tokens",), headers_on_allowed=True
    )
    return app


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # Each app is built only when its server imports it: the unit tests import the payloads alone.
    if name == "asgi_app":
        return _asgi_app()
    if name == "wsgi_app":
        return _wsgi_app()
    raise AttributeError(name)

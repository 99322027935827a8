"""LLM API responses that report token usage as OpenAI and Anthropic do, as JSON bodies or as server-sent event
streams, for the usage tests and benchmarks. A response reporting ``tokens`` in all has a quarter of them as input
and the rest as output."""

from __future__ import annotations

import json
from collections.abc import Iterator

PIECE = 7
"""Bytes per streamed chunk by default: small enough to split every line and the usage object."""


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
    chunks: list[dict[str, object]] = [
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

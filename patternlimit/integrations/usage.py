"""The token usage of an LLM API response, read as its body passes through the middleware.

:class:`UsageMeter` is fed the response's chunks as they are sent and, at the end, gives the tokens the response
reports, or None. It reads two shapes:

- **JSON** (``application/json``, ``*+json``): the top-level ``usage`` of an OpenAI-style body
  (``usage.total_tokens``, else ``prompt_tokens + completion_tokens``) or an Anthropic-style one
  (``usage.input_tokens + usage.output_tokens``). The body is held until it ends, up to :data:`MAX_JSON_BYTES`;
  past that only its last :data:`TAIL_BYTES` are kept and the last ``"usage"`` object in them is read (both APIs
  put ``usage`` at the end of the body).
- **Server-sent events** (``text/event-stream``), scanned line by line and never held: only the line being
  read (and the ``data`` of the event being read, up to :data:`MAX_EVENT_BYTES`) is kept, and an event is parsed
  only if its data holds ``"usage"``. OpenAI's final chunk carries ``usage`` (with
  ``stream_options={"include_usage": true}``), its Responses API's ``response.completed`` event
  ``response.usage``; Anthropic's ``message_start`` carries ``message.usage.input_tokens`` and its
  ``message_delta`` the cumulative ``usage.output_tokens``. The latest value of each count wins.

A compressed body (any ``Content-Encoding`` but ``identity``) is not read: compress outside the middleware.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_BYTES = 1024 * 1024
"""A JSON body up to this size is parsed whole (and held until it ends); a longer one is read from its tail."""

TAIL_BYTES = 64 * 1024
"""The end of a longer JSON body kept to find its ``usage`` in."""

MAX_EVENT_BYTES = 1024 * 1024
"""The longest server-sent event line or event data read; a longer one is skipped (no usage event is that long)."""

MAX_TOKENS = (1 << 32) - 1
"""Counts above this (the limiter's largest cost) are read as this."""

_LINES = re.compile(rb"\r\n|\r|\n")
_USAGE = b'"usage"'
_JSON = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;|$)", re.ASCII)
_SSE = re.compile(r"^text/event-stream\s*(?:;|$)", re.ASCII)


class UsageMeter:
    """Reads one response's usage; see the module docstring. Not thread-safe: one per response."""

    __slots__ = ("_after_cr", "_data", "_input", "_json", "_kind", "_line", "_output", "_over", "_skipping", "_total")

    def __init__(self, content_type: str, content_encoding: str = "") -> None:
        media = content_type.strip().lower()
        encoding = content_encoding.strip().lower()
        kind = None
        if encoding in ("", "identity"):
            kind = "sse" if _SSE.match(media) else "json" if _JSON.match(media) else None
        self._kind = kind
        self._json = bytearray()
        self._over = False
        self._line = bytearray()
        self._skipping = False
        self._after_cr = False
        self._data: bytearray | None = None
        self._total: int | None = None
        self._input: int | None = None
        self._output: int | None = None

    @property
    def reading(self) -> bool:
        """Whether this response is one whose usage can be read (JSON or server-sent events, uncompressed)."""
        return self._kind is not None

    def feed(self, chunk: bytes) -> None:
        """One more piece of the body, as it is sent."""
        if not chunk or self._kind is None:
            return
        if self._kind == "sse":
            self._scan(chunk)
            return
        body = self._json
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            self._over = True
            del body[: len(body) - TAIL_BYTES]

    def tokens(self) -> int | None:
        """At the end of the body: the tokens it reports, or None when it reports none."""
        if self._kind == "json":
            self._read_json()
        elif self._kind == "sse":
            if self._line and not self._skipping:
                self._event_line(bytes(self._line))
            self._dispatch()
        if self._total is not None:
            return self._total
        if self._input is None and self._output is None:
            return None
        return min(MAX_TOKENS, (self._input or 0) + (self._output or 0))

    def _read_json(self) -> None:
        body = bytes(self._json)
        self._json = bytearray()
        if not self._over:
            try:
                document = json.loads(body)
            except (ValueError, RecursionError):
                return
            self._observe(document)
            return
        # The tail of a long body: the last "usage" key whose value parses as an object.
        decoder = json.JSONDecoder()
        text = body.decode("utf-8", "replace")
        end = len(text)
        while (at := text.rfind('"usage"', 0, end)) >= 0:
            end = at
            rest = text[at + len('"usage"') :].lstrip()
            if not rest.startswith(":"):
                continue
            try:
                usage, _ = decoder.raw_decode(rest[1:].lstrip())
            except (ValueError, RecursionError):
                continue
            if isinstance(usage, dict):
                self._take(usage)
                return

    def _scan(self, chunk: bytes) -> None:
        """Split server-sent events into lines (ended by CR, LF or CRLF), keeping only the unfinished one."""
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split between two chunks
        self._after_cr = chunk.endswith(b"\r")
        line = self._line
        start = 0
        for end in _LINES.finditer(chunk):
            piece = chunk[start : end.start()]
            start = end.end()
            if self._skipping:  # the end of a line too long to read
                self._skipping = False
                continue
            if line:
                line += piece
                piece = bytes(line)
                line.clear()
            self._event_line(piece)
        if self._skipping:
            return
        line += chunk[start:]
        if len(line) > MAX_EVENT_BYTES:
            line.clear()
            self._skipping = True

    def _event_line(self, line: bytes) -> None:
        if not line:
            self._dispatch()
            return
        if not line.startswith(b"data:"):
            return  # event:, id:, retry: and comments say nothing about usage
        value = line[6:] if line.startswith(b"data: ") else line[5:]
        if self._data is None:
            self._data = bytearray(value)
        elif len(self._data) + len(value) < MAX_EVENT_BYTES:
            self._data += b"\n"
            self._data += value
        else:
            self._data = bytearray()  # too long to be a usage event: read no more of it

    def _dispatch(self) -> None:
        data, self._data = self._data, None
        if data is None or _USAGE not in data:
            return
        try:
            document = json.loads(bytes(data))
        except (ValueError, RecursionError):
            return
        self._observe(document)

    def _observe(self, document: Any) -> None:
        if not isinstance(document, dict):
            return
        for holder in (document, document.get("message"), document.get("response")):
            if isinstance(holder, dict):
                usage = holder.get("usage")
                if isinstance(usage, dict):
                    self._take(usage)

    def _take(self, usage: dict[str, Any]) -> None:
        total = _count(usage.get("total_tokens"))
        if total is None:
            prompt, completion = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
            if prompt is not None or completion is not None:
                total = min(MAX_TOKENS, (prompt or 0) + (completion or 0))
        if total is not None:
            self._total = total
            return
        given, produced = _count(usage.get("input_tokens")), _count(usage.get("output_tokens"))
        if given is not None:
            self._input = given
        if produced is not None:
            self._output = produced


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        return None
    return min(MAX_TOKENS, int(value))

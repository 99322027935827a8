"""nginx and Apache access logs: the Combined Log Format, and whatever fields a ``log_format`` appends to it.

A line is ``remote_addr - remote_user [time_local] "request" status bytes "referer" "user_agent"`` followed by any
extra fields, quoted or bare, named ``extra1``, ``extra2``... (the Common Log Format, without referer and user
agent, is read too). By default ``ip`` is ``remote_addr``, ``account`` is ``remote_user``, ``route`` is the request
line's path (without its query), ``client`` is ``user_agent`` and ``timestamp`` is ``time_local``; the prompt is an
extra field (``--body-field N`` is ``--columns text=extraN``): the request body (nginx ``$request_body``), a
prefix of it, or a digest the application logs (a digest is an exact-copy key: templates and near-duplicates need
the text). ``--log-regex`` reads any other line format: its named groups are the columns.

Both servers escape ``"``, ``\\`` and non-printable bytes (``\\xHH``); values are unescaped before use, so a UTF-8
body logged by nginx is read back as the text the client sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from patternlimit.errors import ConfigurationError
from patternlimit.replay.columns import row_builder, shape_of
from patternlimit.replay.records import BadLines, LineError, Record

_QUOTED = rb'"([^"\\]*(?:\\.[^"\\]*)*)"'
"""A quoted field with backslash escapes, as an unrolled loop (no alternation per character: prompts are long)."""

_COMBINED = re.compile(
    rb"^(\S+) \S+ (\S+) \[([^\]]*)\] " + _QUOTED + rb" (\S+) (\S+)(?: " + _QUOTED + rb" " + _QUOTED + rb")?(.*?)\r?$"
)
_EXTRA = re.compile(rb"\s*(?:" + _QUOTED + rb"|(\S+))")
_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|.)")
_SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b'"': b'"', b"\\": b"\\"}

STANDARD = ("remote_addr", "remote_user", "time_local", "request", "method", "path", "status", "bytes")
DEFAULTS = {
    "ip": "remote_addr",
    "account": "remote_user",
    "timestamp": "time_local",
    "route": "path",
    "client": "user_agent",
}
MAX_EXTRAS = 32


def read_combined(
    stream: BinaryIO,
    source: str,
    bad: BadLines,
    mapping: Mapping[str, str],
    *,
    pattern: str | None = None,
) -> Iterator[Record]:
    """The records of an access log, in file order; lines that do not match the format go to ``bad``."""
    if pattern is not None:
        yield from _read_custom(stream, source, bad, mapping, pattern)
        return
    columns = [*STANDARD, "referer", "user_agent", *(f"extra{index}" for index in range(1, MAX_EXTRAS + 1))]
    build = row_builder(shape_of(columns, mapping, DEFAULTS), dash_is_empty=True)
    match_line = _COMBINED.match
    for number, line in enumerate(stream, 1):
        found = match_line(line)
        if found is None:
            if line.strip():
                bad.add(source, number, "not a Common or Combined Log Format line")
            continue
        address, user, moment, request, status, size, referer, agent, rest = found.groups()
        method, path = _split_request(request)
        row = [
            _text(address),
            _text(user),
            _text(moment),
            _text(request),
            method,
            path,
            _text(status),
            _text(size),
            _text(referer or b""),
            _text(agent or b""),
        ]
        if rest:
            for quoted, bare in _EXTRA.findall(rest):
                row.append(_text(quoted if quoted or not bare else bare))
        try:
            record = build(row)
        except LineError as exc:
            bad.add(source, number, str(exc))
            continue
        record.line, record.source = number, source
        yield record


def _read_custom(
    stream: BinaryIO, source: str, bad: BadLines, mapping: Mapping[str, str], pattern: str
) -> Iterator[Record]:
    try:
        compiled = re.compile(pattern.encode("utf-8"))
    except re.error as exc:
        raise ConfigurationError(f"--log-regex is not a valid regular expression: {exc}") from exc
    names = sorted(compiled.groupindex, key=compiled.groupindex.__getitem__)
    if not names:
        raise ConfigurationError("--log-regex needs named groups, e.g. (?P<timestamp>\\S+) (?P<text>.*)")
    derive = "request" in names and "path" not in names
    columns = [*names, "method", "path"] if derive else names
    build = row_builder(shape_of(columns, mapping, DEFAULTS), dash_is_empty=True)
    for number, line in enumerate(stream, 1):
        found = compiled.match(line.rstrip(b"\r\n"))
        if found is None:
            if line.strip():
                bad.add(source, number, "does not match --log-regex")
            continue
        row = [_text(value or b"") for value in found.groups()[: len(names)]]
        if derive:
            row.extend(_split_request(found["request"] or b""))
        try:
            record = build(row)
        except LineError as exc:
            bad.add(source, number, str(exc))
            continue
        record.line, record.source = number, source
        yield record


def _split_request(request: bytes) -> tuple[str, str]:
    """``POST /v1/messages?beta=1 HTTP/1.1`` -> (``POST``, ``/v1/messages``)."""
    parts = request.split(b" ")
    if len(parts) < 2:
        return "", ""
    path = parts[1].split(b"?", 1)[0]
    return _text(parts[0]), _text(path)


def _text(raw: bytes) -> str:
    if b"\\" in raw:
        raw = _ESCAPE.sub(_unescape_one, raw)
    return raw.decode("utf-8", "replace")


def _unescape_one(found: re.Match[bytes]) -> bytes:
    escape = found.group(1)
    if len(escape) == 3 and escape[:1] == b"x":
        return bytes((int(escape[1:], 16),))
    return _SIMPLE_ESCAPES.get(escape, found.group(0))

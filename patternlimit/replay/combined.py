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
    rb"(\S+) \S+ (\S+) \[([^\]]*)\] " + _QUOTED + rb" (\S+) (\S+)(?: " + _QUOTED + rb" " + _QUOTED + rb")?(.*)"
)
"""A lazy tail (``(.*?)\\r?$``) costs about 100 us on a line with a 1 KB body, a greedy one 4 us."""
_BLANKS = frozenset(b" \t")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
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
    shape = shape_of(columns, mapping, DEFAULTS)
    build = row_builder(shape, dash_is_empty=True)
    # Only the fields the mapping reads are unescaped and decoded: a line has a dozen, a request needs five.
    needed = frozenset(shape.indices.values()) | frozenset(shape.attributes.values())
    wants = [index in needed for index in range(len(STANDARD) + 2)]
    wants_request = wants[3] or wants[4] or wants[5]
    wants_extras = any(index >= len(STANDARD) + 2 for index in needed)
    match_line = _COMBINED.match
    for number, line in enumerate(stream, 1):
        found = match_line(line)
        if found is None:
            if line.strip():
                bad.add(source, number, "not a Common or Combined Log Format line")
            continue
        values = found.groups()
        method, path = _split_request(values[3]) if wants_request else ("", "")
        row = [
            _text(values[0]) if wants[0] else "",
            _text(values[1]) if wants[1] else "",
            _text(values[2]) if wants[2] else "",
            _text(values[3]) if wants[3] else "",
            method,
            path,
            _text(values[4]) if wants[6] else "",
            _text(values[5]) if wants[7] else "",
            _text(values[6] or b"") if wants[8] else "",
            _text(values[7] or b"") if wants[9] else "",
        ]
        rest = values[8]
        if rest and wants_extras:
            row.extend(_text(value) for value in extras(rest.rstrip(b"\r")))
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


def extras(rest: bytes) -> list[bytes]:
    """The fields after the standard ones: quoted (with backslash escapes) or bare, separated by spaces.

    Quotes are found with ``bytes.find`` (memchr): a regex character class walks a 1 KB body at about 17 ns a byte,
    four times the cost of the rest of the line."""
    fields: list[bytes] = []
    position, end = 0, len(rest)
    while True:
        while position < end and rest[position] in _BLANKS:
            position += 1
        if position >= end:
            return fields
        if rest[position] == _QUOTE:
            close = rest.find(b'"', position + 1)
            while close != -1 and _escaped(rest, close):
                close = rest.find(b'"', close + 1)
            if close == -1:  # an unterminated field (a truncated line) keeps what it has
                fields.append(rest[position + 1 :])
                return fields
            fields.append(rest[position + 1 : close])
            position = close + 1
        else:
            space = rest.find(b" ", position)
            space = end if space == -1 else space
            fields.append(rest[position:space])
            position = space


def _escaped(data: bytes, index: int) -> bool:
    """Whether the byte at ``index`` follows an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and data[index - count - 1] == _BACKSLASH:
        count += 1
    return count % 2 == 1


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

"""The frame tokens of a text in plain Python: the masking rules of :mod:`patternlimit._kernels.text`, read
byte by byte.

:meth:`patternlimit.fingerprint.TextFingerprinter.label` shows these tokens, so a label shows exactly the tokens
its key was made from; the kernel's tests hash them as the kernel does and require the same keys, bit for bit.
Plain Python, about 1 ms per KiB: for labels and tests, not for the request path.
"""

from __future__ import annotations

import itertools

from patternlimit._kernels.text import (
    KIND_CODE,
    KIND_IDENTIFIER,
    KIND_NONE,
    KIND_NUMBER,
    KIND_STRING,
    KIND_URL,
    KIND_WORD,
)
from patternlimit._kernels.text_scan import MAX_QUOTE_BYTES

_QUOTES = frozenset(b"\"'`")
_URL_STOPS = frozenset(b" \t\r\x0b\x0c\n\"'`<>")
_IDENTIFIER_CONNECTORS = frozenset(b"/\\@")


def _is_lower(value: int) -> bool:
    return 97 <= value <= 122


def _is_upper(value: int) -> bool:
    return 65 <= value <= 90


def _is_digit(value: int) -> bool:
    return 48 <= value <= 57


def _is_letter(value: int) -> bool:
    return value >= 0x80 or _is_lower(value) or _is_upper(value)


def _is_word_byte(value: int) -> bool:
    return _is_letter(value) or _is_digit(value) or value == 95


def _is_space(value: int) -> bool:
    return value in b" \t\r\x0b\x0c\n"


def _joins(data: bytes, pos: int) -> bool:
    """Whether the connector at ``pos`` (inside a run, after a word byte) continues the run."""
    if pos + 1 >= len(data) or not _is_word_byte(data[pos + 1]):
        return False
    before, connector, after = data[pos - 1], data[pos], data[pos + 1]
    if connector == ord(","):
        return _is_digit(before) and _is_digit(after)
    if connector == ord("'"):
        return _is_letter(before) and _is_letter(after)
    return connector == ord(".") or connector in _IDENTIFIER_CONNECTORS


def _classify(run: bytes) -> int:
    """The kind of a word run (word bytes and the connectors that joined them)."""
    has_letter = any(_is_letter(value) for value in run)
    has_digit = any(_is_digit(value) for value in run)
    camel = any(_is_lower(first) and _is_upper(second) for first, second in itertools.pairwise(run))
    dotted = any(
        value == ord(".") and not (_is_digit(run[index - 1]) and _is_digit(run[index + 1]))
        for index, value in enumerate(run)
    )
    marked = camel or dotted or b"_" in run or any(value in _IDENTIFIER_CONNECTORS for value in run)
    if has_letter and not has_digit and not marked:
        return KIND_WORD
    if not has_letter and not marked:
        return KIND_NUMBER
    return KIND_IDENTIFIER


def _url_length(data: bytes, pos: int) -> int:
    """Length of the URL starting at ``pos``, or 0 if none does."""
    head = data[pos : pos + 8].lower()
    if pos + 7 > len(data):
        return 0
    if head.startswith(b"https://"):
        end = pos + 8
    elif head.startswith(b"http://"):
        end = pos + 7
    else:
        return 0
    while end < len(data) and data[end] not in _URL_STOPS:
        end += 1
    return end - pos


def _quote_end(data: bytes, pos: int) -> int:
    """Index just past the closing quote of the quote at ``pos``, or 0 if it does not close."""
    index = pos + 1
    while index < min(len(data), pos + 1 + MAX_QUOTE_BYTES):
        if data[index] == data[pos]:
            return index + 1
        if data[index] == ord("\n"):
            return 0
        index += 2 if data[index] == ord("\\") else 1
    return 0


def _code_line_end(data: bytes, pos: int) -> int:
    """``pos`` is at a line start: the end (the newline's index) of the line if it is an indented code line, else
    -1. Also returns where the indentation ends, so the caller can skip it."""
    columns = 0
    index = pos
    while index < len(data) and data[index] in b" \t":
        columns += 4 if data[index] == ord("\t") else 1
        index += 1
    if columns < 4 or index >= len(data) or _is_space(data[index]) or data.startswith(b"```", index):
        return -1
    newline = data.find(b"\n", index)
    return len(data) if newline < 0 else newline


def tokenize(data: bytes) -> list[tuple[int, bytes]]:
    """The frame tokens of ``data`` in order, as ``(kind, text)``, with one ``(KIND_CODE, b"")`` per payload run.

    ``text`` is the folded bytes of a word and the raw bytes of a placeholder. Collapsed placeholders are left out,
    exactly as the kernel drops them.
    """
    tokens: list[tuple[int, bytes]] = []
    last_frame_kind = KIND_NONE

    def payload() -> None:
        if not tokens or tokens[-1][0] != KIND_CODE:
            tokens.append((KIND_CODE, b""))

    def frame(kind: int, text: bytes) -> None:
        nonlocal last_frame_kind
        if kind != KIND_WORD and kind == last_frame_kind:
            return
        last_frame_kind = kind
        tokens.append((kind, text))

    size = len(data)
    pos = 0
    at_line_start = True
    while pos < size:
        if at_line_start:
            at_line_start = False
            line_end = _code_line_end(data, pos)
            if line_end >= 0:
                payload()
                pos = line_end
            else:
                while pos < size and data[pos] in b" \t":
                    pos += 1
            continue
        value = data[pos]
        if value == ord("\n"):
            at_line_start = True
            pos += 1
        elif data.startswith(b"```", pos):
            payload()
            pos += 3
            while pos < size and data[pos] == ord("`"):
                pos += 1
            closing = data.find(b"```", pos)
            if closing < 0:
                pos = size
            else:
                pos = closing + 3
                while pos < size and data[pos] == ord("`"):
                    pos += 1
        elif value in _QUOTES and (pos == 0 or not _is_word_byte(data[pos - 1])) and _quote_end(data, pos):
            end = _quote_end(data, pos)
            frame(KIND_STRING, data[pos:end])
            pos = end
        elif _is_word_byte(value) and _url_length(data, pos):
            end = pos + _url_length(data, pos)
            frame(KIND_URL, data[pos:end])
            pos = end
        elif _is_word_byte(value):
            end = pos + 1
            while end < size and (_is_word_byte(data[end]) or _joins(data, end)):
                end += 1
            run = data[pos:end]
            kind = _classify(run)
            frame(kind, run.lower() if kind == KIND_WORD else run)
            pos = end
        else:
            pos += 1
    return tokens

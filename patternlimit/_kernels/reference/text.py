"""Twin of :mod:`patternlimit._kernels.text`, and the tokenizer behind ``TextFingerprinter.label``.

:func:`tokenize` states the masking rules as plain Python over the bytes and returns the frame tokens (with the
payload runs marked) as text; :func:`text_fingerprint` hashes them exactly as the kernel does, with a plain list
for the template's edge tokens and 64 ordinary counters for the SimHash where the kernel uses a ring and bit planes.
The tests require both to fill ``out`` with the same words, bit for bit.
"""

from __future__ import annotations

import itertools

import numpy as np

from patternlimit._kernels.hashing import MASK64, mix64_py
from patternlimit._kernels.text import (
    CLOSING_SALT,
    CODE_SALT,
    KIND_CODE,
    KIND_IDENTIFIER,
    KIND_NONE,
    KIND_NUMBER,
    KIND_STRING,
    KIND_URL,
    KIND_WORD,
    MAX_CODE_RUNS,
    MAX_QUOTE_BYTES,
    OPENING_SALT,
    OUT_BANDS,
    OUT_CLOSING,
    OUT_CODE_RUNS,
    OUT_FRAME_TOKENS,
    OUT_OPENING,
    OUT_SIMHASH,
    OUT_TEMPLATE,
    PLACEHOLDER_SALT,
    PLANES,
    SEED_BAND,
    SEED_SHINGLE,
    SEED_TEMPLATE,
    SEED_TOKEN,
    SHINGLE_MUL,
)

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


def word_hash(text: bytes, token_seed: int) -> int:
    """The keyed hash of a word's folded bytes: the token seed chained through each full 8-byte chunk
    (little-endian) with ``mix64``, then one more ``mix64`` over the last ``len % 8`` bytes (zero above them) with
    the length in the top byte, where the last chunk's bytes never reach."""
    state = token_seed
    full = len(text) - len(text) % 8
    for start in range(0, full, 8):
        state = mix64_py(state ^ int.from_bytes(text[start : start + 8], "little"))
    tail = int.from_bytes(text[full:], "little")
    return mix64_py(state ^ tail ^ ((len(text) & 0xFF) << 56))


def token_hash(kind: int, text: bytes, token_seed: int) -> int:
    """The 64-bit hash of one frame token: :func:`word_hash` of a word's folded bytes, or the placeholder's
    constant."""
    if kind == KIND_WORD:
        return word_hash(text, token_seed)
    return mix64_py(token_seed ^ ((kind * int(PLACEHOLDER_SALT)) & MASK64))


def simhash(features: list[int]) -> int:
    """Majority SimHash of 64-bit feature hashes: bit ``b`` is 1 when more than half of them have it."""
    counters = [0] * 64
    for feature in features:
        for bit in range(64):
            counters[bit] += (feature >> bit) & 1
    return sum(1 << bit for bit in range(64) if 2 * counters[bit] > len(features))


def band_keys(value: int, band_seed: int, bands: int) -> list[int]:
    """The band keys of SimHash ``value``: ``bands`` blocks of ``64 // bands`` bits, each keyed with its index."""
    width = 64 // bands
    blocks = [(value >> (band * width)) & ((1 << width) - 1) for band in range(bands)]
    return [mix64_py((block | (band << 58)) ^ band_seed) >> 1 for band, block in enumerate(blocks)]


def text_fingerprint(data: bytes, seeds: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:
    token_seed, template_seed, shingle_seed, band_seed = (
        int(seeds[SEED_TOKEN]),
        int(seeds[SEED_TEMPLATE]),
        int(seeds[SEED_SHINGLE]),
        int(seeds[SEED_BAND]),
    )
    edge_tokens = len(scratch) - PLANES
    bands = len(out) - OUT_BANDS
    tokens = tokenize(bytes(data))
    hashes = [token_hash(kind, text, token_seed) for kind, text in tokens if kind != KIND_CODE]
    code_runs = sum(1 for kind, _ in tokens if kind == KIND_CODE)
    count = len(hashes)

    template = 0
    if count:
        state = template_seed
        for value in hashes[:edge_tokens] + hashes[max(edge_tokens, count - edge_tokens) :]:
            state = mix64_py(state ^ value)
        template = mix64_py(state ^ (((min(code_runs, MAX_CODE_RUNS) + 1) * int(CODE_SALT)) & MASK64)) >> 1
        template = template or 1

    opening = closing = 0
    if count > 2 * edge_tokens:
        state = template_seed
        for value in hashes[:edge_tokens]:
            state = mix64_py(state ^ value)
        opening = (mix64_py(state ^ int(OPENING_SALT)) >> 1) or 1
        state = mix64_py(template_seed ^ int(CLOSING_SALT))
        for value in hashes[count - edge_tokens :]:
            state = mix64_py(state ^ value)
        closing = (state >> 1) or 1

    shingles = [
        mix64_py((((first * int(SHINGLE_MUL)) + second) & MASK64) ^ shingle_seed)
        for first, second in itertools.pairwise(hashes)
    ]
    value = simhash(shingles) if shingles else 0
    keys = band_keys(value, band_seed, bands) if shingles and bands else [0] * bands

    out[OUT_TEMPLATE] = template
    out[OUT_OPENING] = opening
    out[OUT_CLOSING] = closing
    out[OUT_SIMHASH] = value
    out[OUT_FRAME_TOKENS] = count
    out[OUT_CODE_RUNS] = code_runs
    out[OUT_BANDS:] = keys


def text_fingerprint_many(
    data: bytes, offsets: np.ndarray, seeds: np.ndarray, out: np.ndarray, scratch: np.ndarray
) -> None:
    """Row ``i`` of ``out`` is :func:`text_fingerprint` of ``data[offsets[i]:offsets[i + 1]]`` alone."""
    for index in range(out.shape[0]):
        text_fingerprint(data[int(offsets[index]) : int(offsets[index + 1])], seeds, out[index], scratch)

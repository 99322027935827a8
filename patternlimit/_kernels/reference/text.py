"""Twin of :mod:`patternlimit._kernels.text`: the frame tokens from the plain-Python tokenizer, hashed as the
kernel hashes them.

:func:`~patternlimit.fingerprint.tokens.tokenize` (package code, which ``TextFingerprinter.label`` uses too) states
the masking rules byte by byte; :func:`text_fingerprint` hashes its tokens with a plain list for the template's
edge tokens and the SimHash twin's 64 ordinary counters where the kernel uses a ring and bit planes. The tests
require both to fill ``out`` with the same words, bit for bit.
"""

from __future__ import annotations

import itertools

import numpy as np

from patternlimit._kernels.hashing import MASK64, mix64_py
from patternlimit._kernels.reference.simhash import band_keys, simhash
from patternlimit._kernels.simhash import PLANES
from patternlimit._kernels.text import (
    CLOSING_SALT,
    CODE_SALT,
    KIND_CODE,
    KIND_WORD,
    MAX_CODE_RUNS,
    OPENING_SALT,
    OUT_BANDS,
    OUT_CLOSING,
    OUT_CODE_RUNS,
    OUT_FRAME_TOKENS,
    OUT_OPENING,
    OUT_SIMHASH,
    OUT_TEMPLATE,
    PLACEHOLDER_SALT,
    SEED_BAND,
    SEED_SHINGLE,
    SEED_TEMPLATE,
    SEED_TOKEN,
    SHINGLE_MUL,
)
from patternlimit.fingerprint.tokens import tokenize


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

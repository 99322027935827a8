"""Candidate part sentences of a normalised text, found in one pass over its UTF-8 bytes.

:class:`patternlimit.fingerprint.parts.PartFingerprinter` keys a prompt's instruction sentences wherever they sit.
Cutting them in Python (four ``str.replace``, a split, then a ``split`` and a check per word of every sentence)
cost about 45 us for 2 KB, most of the attack path's extra cost; this kernel does the cutting and the checks, and
leaves Python only the keyed hash of each accepted sentence.

The rules, byte for byte those of the twin (:mod:`patternlimit._kernels.reference.parts`):

- a space right after ``.``, ``?``, ``!`` or ``;`` ends a sentence, as a newline does;
- a piece shorter than ``min_chars`` characters (UTF-8 continuation bytes are not characters) or starting with a
  space or a tab is skipped;
- a piece of fewer than ``min_words`` or more than ``max_words`` whitespace-separated tokens is skipped (ASCII
  whitespace only: :func:`~patternlimit.fingerprint.normalise.normalise` folds every Unicode space into ASCII);
- every other piece is *examined*, at most ``max_parts`` of them; an examined piece is accepted when each token,
  stripped of trailing ``,.;:!?)'"``, is a non-empty run of letters.

Output, per examined piece ``i`` (in text order): ``spans[i] = (start, end, status)``. Status ``ACCEPTED``: the
piece's words joined by single spaces are ``canon[start:end]``. Status ``REJECTED``: a token is not a word. Status
``UNICODE``: every ASCII byte of the piece passes but it has non-ASCII bytes, whose letterhood is Unicode's to
decide; ``data[start:end]`` is the piece, for the caller to check with ``str.isalpha``. Returns the number of
examined pieces. Never raises; ``canon`` must be at least ``len(data)`` bytes and ``spans`` ``(max_parts, 3)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

REJECTED = 0
ACCEPTED = 1
UNICODE = 2

_NEWLINE = 10
_SPACE = 32
_TAB = 9


@njit(cache=True, nogil=True, inline="always")
def _is_space(byte: int) -> bool:  # pragma: no cover - compiled
    # str.split()'s ASCII whitespace: \t \n \v \f \r, the four separators \x1c-\x1f, and the space.
    return byte == 32 or 9 <= byte <= 13 or 28 <= byte <= 31


@njit(cache=True, nogil=True, inline="always")
def _is_trailing(byte: int) -> bool:  # pragma: no cover - compiled
    # , . ; : ! ? ) ' "
    return byte in (44, 46, 59, 58, 33, 63, 41, 39, 34)


@njit(cache=True, nogil=True, inline="always")
def _ends_sentence(byte: int) -> bool:  # pragma: no cover - compiled
    return byte == 46 or byte == 63 or byte == 33 or byte == 59  # . ? ! ;


@njit(cache=True, nogil=True)
def part_candidates(
    data: bytes, canon: np.ndarray, spans: np.ndarray, max_parts: int, min_words: int, max_words: int, min_chars: int
) -> int:  # pragma: no cover - compiled
    """The examined pieces of ``data``; see the module docstring."""
    size = len(data)
    pos = 0
    examined = 0
    written = 0
    while pos < size and examined < max_parts:
        start = pos
        end = pos
        chars = 0
        while end < size:
            byte = data[end]
            if byte == _NEWLINE or (byte == _SPACE and end > 0 and _ends_sentence(data[end - 1])):
                break
            if byte < 0x80 or byte >= 0xC0:
                chars += 1
            end += 1
        pos = end + 1
        if chars < min_chars or end == start or data[start] == _SPACE or data[start] == _TAB:
            continue
        # Count the tokens first (a piece that is not examined costs no more than this scan).
        tokens = 0
        inside = False
        for index in range(start, end):
            if _is_space(data[index]):
                inside = False
            elif not inside:
                inside = True
                tokens += 1
                if tokens > max_words:
                    break
        if tokens < min_words or tokens > max_words:
            continue
        status = ACCEPTED
        out_start = written
        index = start
        while index < end and status != REJECTED:
            while index < end and _is_space(data[index]):
                index += 1
            if index >= end:
                break
            token_end = index
            while token_end < end and not _is_space(data[token_end]):
                token_end += 1
            word_end = token_end
            while word_end > index and _is_trailing(data[word_end - 1]):
                word_end -= 1
            if word_end == index:
                status = REJECTED
                break
            if written > out_start:
                canon[written] = _SPACE
                written += 1
            for at in range(index, word_end):
                byte = data[at]
                if byte >= 0x80:
                    status = UNICODE
                elif not (97 <= byte <= 122 or 65 <= byte <= 90):
                    status = REJECTED
                    break
                canon[written] = byte
                written += 1
            index = token_end
        if status == UNICODE:
            spans[examined, 0] = start
            spans[examined, 1] = end
            written = out_start
        else:
            spans[examined, 0] = out_start
            spans[examined, 1] = written
            if status == REJECTED:
                written = out_start
        spans[examined, 2] = status
        examined += 1
    return examined

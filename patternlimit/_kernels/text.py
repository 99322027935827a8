"""Text fingerprint in one pass over the UTF-8 bytes: template key, opening and closing keys, SimHash, band keys.

:func:`text_fingerprint` tokenizes the bytes, masks the variable parts, and hashes what is left (the *frame*). The
byte classes and searches it uses are in :mod:`patternlimit._kernels.text_scan`, the SimHash counters and band keys
in :mod:`patternlimit._kernels.simhash`; :mod:`patternlimit.fingerprint.tokens` states the same token rules in plain
Python, and the tests hold the two equal.

* **Word bytes** (:data:`~patternlimit._kernels.text_scan.BYTE_CLASS`): ASCII letters (folded to lower case),
  digits, ``_``, and every byte ``>= 0x80``; invalid UTF-8 is just more letters, so nothing can fail. Whitespace
  is space, tab, CR, VT, FF and LF; every other byte is punctuation and is dropped.
* **Payload** (one ``{code}`` per run, not a frame token): a fenced block from a run of three or more backticks to
  the next such run or the end of the text, and an *indented line* (indentation of four columns or more, a tab
  counting four, followed by something other than whitespace or a fence) up to its newline. Payload runs separated
  only by whitespace or punctuation count once.
* **Frame tokens**, each with a 64-bit hash:

  - ``{str}``: a quote (``"``, ``'`` or a backtick) not preceded by a word byte, closed by the same quote on the same
    line within ``MAX_QUOTE_BYTES`` (a backslash skips the byte after it); an unclosed quote is punctuation.
  - ``{url}``: a word starting ``http://`` or ``https://`` (any case), up to whitespace or one of ``"'`<>``.
  - a *word run*: word bytes joined by connectors that sit between two word bytes: ``.`` ``/`` ``\\`` ``@``
    (identifier connectors), ``,`` and ``.`` between two digits (number separators), ``'`` between two letters
    (an apostrophe, part of the word). A run with letters and no digit, ``_``, identifier connector or camelCase
    step (a lower-case ASCII letter followed by an upper-case one) is a *word*; a run of digits and number
    separators is ``{n}``; anything else (``a.b``, ``v2``, ``foo_bar``, ``getUser``, ``src/x.py``) is ``{id}``.

  A placeholder equal to the previous frame token is dropped (consecutive identical placeholders collapse), so a
  list of numbers or identifiers is one token whatever its length. Words never collapse.

**Token hashes** are keyed from the first byte. A word's folded bytes are taken 8 at a time as little-endian
``uint64`` chunks; each full chunk is one step ``state = mix64(state ^ chunk)`` from ``state = token_seed``, and the
token is ``mix64(state ^ tail ^ length << 56)``, where ``tail`` holds the last ``length % 8`` bytes (zero above
them, so it never reaches the top byte, which carries the length modulo 256). A word of up to 7 bytes, most words
of prose, costs one ``mix64``, and as ``mix64`` is a bijection no two such words collide under any seed; a collision
that involves a longer word needs a difference that survives ``mix64`` of a state the secret decides, so one found
for one deployment says nothing of another. An unkeyed hash of the bytes finished with the seed would not do: its
collisions could be searched for offline once and would hold under every secret. Nor would a cheaper step per
chunk, one multiply and xor-shift: a difference in the top bit of a chunk passes through a multiply unchanged
whatever the state, so the next chunk could cancel it under every seed. A placeholder is
``mix64(token_seed ^ kind * PLACEHOLDER_SALT)``; ``kind * PLACEHOLDER_SALT`` has a top byte of 8 or more for every
kind, so no word of up to 7 bytes hashes like a placeholder.

**Template key**: with ``E`` edge tokens and ``count`` frame tokens, the *edge tokens* are those at positions
``< E`` and ``>= max(E, count - E)``: the first ``E`` and the last ``E``, or all of them when ``count <= 2 E``.
The key chains ``state = mix64(state ^ token)`` over the edge tokens in order, starting from the template seed,
then ``mix64(state ^ (min(code_runs, 3) + 1) * CODE_SALT) >> 1``; it is 0 exactly when there are no frame tokens
(a key that would be 0 becomes 1). The last ``E`` token hashes wait in a ring in ``scratch``.

**Opening and closing keys**: when the frame is longer than ``2 E`` tokens, the first ``E`` and the last ``E``
tokens are also keyed on their own: ``opening = mix64(head ^ OPENING_SALT) >> 1`` (``head`` being the chain over
the first ``E`` tokens) and ``closing`` = the same chain over the last ``E`` tokens from
``mix64(template_seed ^ CLOSING_SALT)``, ``>> 1``. A short template whose filler sits near one end still has its
other end fixed (``"Implement {task} in Rust with tests. Explain each step."``: the closing is fixed). Both are 0
for frames of ``2 E`` tokens or fewer, where the template key already covers the whole frame.

**SimHash**: one feature per pair of consecutive frame tokens (a word bigram shingle), hashed as
``mix64((previous * SHINGLE_MUL + token) ^ shingle_seed)``, counted in bit-sliced counters and cut into band keys
as :mod:`patternlimit._kernels.simhash` describes. With no shingle (fewer than two frame tokens), the SimHash and
band keys are 0.

**Word fast path** (same tokens, fewer branches): a word run's length is what a byte loop mispredicts, once per
word, and on text it has not seen before (each request's prompt) that is most of the cost. So where 8 bytes are
left, a run of ASCII letters is read 8 bytes at a time (one unaligned load): bit tricks on the 64-bit word ("SWAR")
mark its letters, the first non-letter ends the run, camelCase is one shift and mask, and the word hash takes each
full 8 bytes as one chunk and the last partial word masked to the run's bytes (``8 * length <= 56``, so the shift
is defined) with no branch on its length. Anything else at the run's end (a digit, ``_``, a non-ASCII byte, a
connector followed by a word byte, a camelCase step, a run that may be ``http``) hands the run back, from its first
byte, to the byte loop, which states the rules and gathers the same chunks a byte at a time, so both give a word
the same hash. Fence and newline searches inside payload also step 8 bytes at a time.

Cost: one pass over the bytes; per frame token two ``mix64`` (and one more per full 8 bytes of a word of 8 bytes or
more) and a carry-save add. ``python -m benchmarks.text_kernel`` times the kernel alone, one call per text from
Python (numba's dispatch, about 0.4 us, included) and one :func:`text_fingerprint_many` call for many texts (the
dispatch paid once); ``--against REVISION`` times another revision's kernel beside it. The wrapper
(:class:`patternlimit.fingerprint.TextFingerprinter`) caps the bytes at ``max_bytes``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from patternlimit._kernels.hashing import mix64
from patternlimit._kernels.simhash import PLANES, add_planes, simhash_band_keys, simhash_majority
from patternlimit._kernels.text_scan import (
    AT_SIGN,
    BACKSLASH,
    BACKTICK,
    BYTE_CLASS,
    CASE_BIT,
    CLASS_DIGIT,
    CLASS_LOWER,
    CLASS_NEWLINE,
    CLASS_OTHER,
    CLASS_SPACE,
    CLASS_UNDERSCORE,
    CLASS_UPPER,
    COMMA,
    DOT,
    DOUBLE_QUOTE,
    HIGH_BITS,
    LOW_BITS,
    LOWER_H,
    NEWLINE,
    SINGLE_QUOTE,
    SLASH,
    SPACE,
    TAB,
    byte_at,
    closing_quote,
    fence_at,
    fence_end,
    find_byte,
    is_letter_class,
    load64,
    trailing_zeros,
    url_end_at,
)

# Slots of ``out``.
OUT_TEMPLATE = 0
OUT_SIMHASH = 1
OUT_FRAME_TOKENS = 2
OUT_CODE_RUNS = 3
OUT_OPENING = 4
OUT_CLOSING = 5
OUT_BANDS = 6

# Slots of ``seeds``.
SEED_TOKEN = 0
SEED_TEMPLATE = 1
SEED_SHINGLE = 2
SEED_BAND = 3
SEEDS = 4

MAX_CODE_RUNS = 3
"""The template key distinguishes 0, 1, 2 and "3 or more" payload runs."""

# Token kinds. ``KIND_CODE`` marks payload in the plain-Python tokenizer; it is never a frame token.
KIND_WORD = 0
KIND_NUMBER = 1
KIND_IDENTIFIER = 2
KIND_STRING = 3
KIND_URL = 4
KIND_CODE = 5
KIND_NONE = 6

PLACEHOLDER_SALT = np.uint64(0xD6E8FEB86659FD93)
CODE_SALT = np.uint64(0xA0761D6478BD642F)
OPENING_SALT = np.uint64(0x4F50454E494E4721)  # "OPENING!"
CLOSING_SALT = np.uint64(0x434C4F53494E4721)  # "CLOSING!"
SHINGLE_MUL = np.uint64(0x9E3779B97F4A7C15)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)

# The word fast path's masks over the 8 bytes of a ``uint64``.
_CASE_BITS = np.uint64(0x2020202020202020)
_PLUS_LOWER_A = np.uint64(0x1F1F1F1F1F1F1F1F)
_PLUS_PAST_LOWER_Z = np.uint64(0x0505050505050505)
_HTTP = np.uint64(int.from_bytes(b"http", "little"))
_LOW_32 = np.uint64(0xFFFFFFFF)
_BYTE = np.uint64(0xFF)
_U2 = np.uint64(2)
_U3 = np.uint64(3)
_U7 = np.uint64(7)
_U8 = np.uint64(8)
_U56 = np.uint64(56)


@njit(cache=True, nogil=True, inline="always")
def _word_token(state: np.uint64, tail: np.uint64, length: int) -> np.uint64:  # pragma: no cover - compiled
    """A word's token hash: ``state`` (the token seed chained through the word's full 8-byte chunks), ``tail``
    (its last ``length % 8`` folded bytes, little-endian, zero above) and its length in the top byte."""
    return mix64(state ^ tail ^ (np.uint64(length) << _U56))


@njit(cache=True, nogil=True)
def text_fingerprint(data: bytes, seeds: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:  # pragma: no cover
    """Fingerprint ``data`` (``bytes``, read-only; numba reads a ``bytes`` object in place) in one pass.

    ``seeds uint64[4]``: token, template, shingle and band seeds (slots ``SEED_*``).
    ``out uint64[6 + bands]`` receives the template key, the SimHash, the number of frame tokens, the number of
    payload runs, the opening and closing keys, then the ``bands`` band keys (slots ``OUT_*``); ``bands`` (which
    must divide 64) is read from its length. ``scratch uint64[PLANES + edge_tokens]`` holds the SimHash bit planes
    and the ring of the last ``edge_tokens`` (at least 1) token hashes; its contents on entry and on return are
    unspecified.
    Mutates ``out`` and ``scratch`` only; never raises, allocates nothing.
    """
    _fingerprint_span(data, 0, len(data), seeds, out, scratch)


@njit(cache=True, nogil=True)
def text_fingerprint_many(
    data: bytes, offsets: np.ndarray, seeds: np.ndarray, out: np.ndarray, scratch: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Fingerprint many texts concatenated in ``data``: text ``i`` is ``data[offsets[i]:offsets[i + 1]]``.

    ``offsets int64[texts + 1]`` ascending from 0 to ``len(data)``; ``out uint64[texts, 6 + bands]`` receives row
    ``i`` exactly as :func:`text_fingerprint` fills ``out`` for text ``i`` alone (a text never sees its
    neighbours' bytes); ``seeds`` and ``scratch`` as there. One call for a whole batch: the dispatch from Python
    (about 0.4 us) is paid once. Mutates ``out`` and ``scratch`` only; never raises, allocates nothing.
    """
    for index in range(out.shape[0]):
        _fingerprint_span(data, offsets[index], offsets[index + 1], seeds, out[index], scratch)


@njit(cache=True, nogil=True)
def _fingerprint_span(
    data: bytes, first: int, size: int, seeds: np.ndarray, out: np.ndarray, scratch: np.ndarray
) -> None:  # pragma: no cover - compiled
    """:func:`text_fingerprint` of ``data[first:size]``: no byte outside that span is read."""
    edge_tokens = scratch.shape[0] - PLANES
    token_seed = seeds[SEED_TOKEN]
    shingle_seed = seeds[SEED_SHINGLE]
    for plane in range(PLANES):
        scratch[plane] = _ZERO

    head = seeds[SEED_TEMPLATE]
    first_edges = head
    count = 0
    shingles = 0
    code_runs = 0
    in_code = False
    last_kind = KIND_NONE
    previous = _ZERO
    ring_slot = 0
    low0 = _ZERO
    low1 = _ZERO
    low2 = _ZERO
    pending = 0
    pos = first
    line_start = True
    while pos < size:
        if not line_start and BYTE_CLASS[byte_at(data, pos)] == CLASS_SPACE:
            # Spaces between words are most of the non-word bytes: skip them before any other test.
            pos += 1
            continue
        kind = KIND_NONE
        if line_start:
            line_start = False
            indent = 0
            scan = pos
            while scan < size:
                value = byte_at(data, scan)
                if value == SPACE:
                    indent += 1
                elif value == TAB:
                    indent += 4
                else:
                    break
                scan += 1
            pos = scan
            if indent >= 4 and scan < size:
                byte_class = BYTE_CLASS[byte_at(data, scan)]
                if byte_class != CLASS_SPACE and byte_class != CLASS_NEWLINE and not fence_at(data, scan, size):
                    # An indented line is payload up to (not including) its newline.
                    if not in_code:
                        code_runs += 1
                        in_code = True
                    pos = find_byte(data, pos, size, NEWLINE)
            continue

        value = byte_at(data, pos)
        byte_class = BYTE_CLASS[value]
        if byte_class < CLASS_LOWER:
            if value == NEWLINE:
                line_start = True
                pos += 1
                continue
            if value == BACKTICK and fence_at(data, pos, size):
                if not in_code:
                    code_runs += 1
                    in_code = True
                pos = fence_end(data, pos, size)
                continue
            if value in (DOUBLE_QUOTE, SINGLE_QUOTE, BACKTICK) and (
                pos == first or BYTE_CLASS[byte_at(data, pos - 1)] < CLASS_LOWER
            ):
                closing = closing_quote(data, pos, size)
                if closing >= 0:
                    kind = KIND_STRING
                    pos = closing + 1
            if kind == KIND_NONE:
                pos += 1
                continue
        else:
            if pos + 8 <= size:
                # Fast path for a run of ASCII letters ended by a byte that ends it for sure: 8 bytes at a time.
                word_start = pos
                carry_lower = _ZERO
                state = token_seed
                word = load64(data, pos)
                if ((word | _CASE_BITS) & _LOW_32) != _HTTP:
                    while True:
                        folded = word | _CASE_BITS
                        seven = folded & LOW_BITS
                        letters = (seven + _PLUS_LOWER_A) & ~(seven + _PLUS_PAST_LOWER_Z) & ~word & HIGH_BITS
                        stop = ~letters & HIGH_BITS
                        lower_bits = word & _CASE_BITS
                        camel = ((lower_bits << _U8) | carry_lower) & ~word & (letters >> _U2)
                        if stop == _ZERO:
                            if camel != _ZERO:
                                break
                            state = mix64(state ^ folded)
                            carry_lower = lower_bits >> _U56
                            pos += 8
                            if pos + 8 > size:
                                break
                            word = load64(data, pos)
                            continue
                        zeros = trailing_zeros(stop)
                        length = int(zeros >> _U3)
                        if camel & ((_ONE << zeros) - _ONE) != _ZERO or (length == 0 and pos == word_start):
                            break
                        end = pos + length
                        terminator = (word >> (zeros - np.uint64(7))) & _BYTE
                        if BYTE_CLASS[terminator] >= CLASS_LOWER:
                            break
                        if (
                            terminator in (DOT, SINGLE_QUOTE, SLASH, BACKSLASH, AT_SIGN)
                            and end + 1 < size
                            and BYTE_CLASS[byte_at(data, end + 1)] >= CLASS_LOWER
                        ):
                            break  # a connector that joins the run to more of it
                        # ``zeros - 7`` is ``8 * length`` <= 56: the mask of the run's bytes in this word.
                        token = _word_token(state, folded & ((_ONE << (zeros - _U7)) - _ONE), end - word_start)
                        pos = end + 1 if terminator == SPACE else end
                        kind = KIND_WORD
                        break
                if kind == KIND_NONE:
                    pos = word_start
        if kind == KIND_NONE and byte_class >= CLASS_LOWER:
            url_end = url_end_at(data, pos, size) if (value | CASE_BIT) == LOWER_H else -1
            if url_end >= 0:
                kind = KIND_URL
                pos = url_end
            else:
                has_letter = False
                has_digit = False
                marked = False
                previous_class = CLASS_OTHER
                # The word hash over the run's bytes, as in the fast path: 8 bytes gather in ``chunk``, then chain.
                run_start = pos
                state = token_seed
                chunk = _ZERO
                while pos < size:
                    value = byte_at(data, pos)
                    byte_class = BYTE_CLASS[value]
                    if byte_class == CLASS_LOWER:  # the common case first: it saves a few branches per byte
                        has_letter = True
                    elif byte_class >= CLASS_LOWER:
                        if byte_class == CLASS_DIGIT:
                            has_digit = True
                        elif byte_class == CLASS_UNDERSCORE:
                            marked = True
                        else:
                            has_letter = True
                            if byte_class == CLASS_UPPER:
                                if previous_class == CLASS_LOWER:
                                    marked = True
                                value |= CASE_BIT
                    else:
                        # A connector joins the run only between two word bytes.
                        if pos + 1 >= size:
                            break
                        next_class = BYTE_CLASS[byte_at(data, pos + 1)]
                        if next_class < CLASS_LOWER:
                            break
                        if value in (DOT, COMMA):
                            if not (previous_class == CLASS_DIGIT and next_class == CLASS_DIGIT):
                                if value == COMMA:
                                    break
                                marked = True
                        elif value == SINGLE_QUOTE:
                            if not (is_letter_class(previous_class) and is_letter_class(next_class)):
                                break
                        elif value in (SLASH, BACKSLASH, AT_SIGN):
                            marked = True
                        else:
                            break
                    filled = (pos - run_start) & 7
                    chunk |= np.uint64(value) << np.uint64(8 * filled)
                    if filled == 7:
                        state = mix64(state ^ chunk)
                        chunk = _ZERO
                    previous_class = byte_class
                    pos += 1
                if has_letter and not has_digit and not marked:
                    kind = KIND_WORD
                    token = _word_token(state, chunk, pos - run_start)
                elif not has_letter and not marked:
                    kind = KIND_NUMBER
                else:
                    kind = KIND_IDENTIFIER

        if kind != KIND_WORD:
            if kind == last_kind:
                continue
            token = mix64(token_seed ^ (np.uint64(kind) * PLACEHOLDER_SALT))
        last_kind = kind
        in_code = False
        if count < edge_tokens:
            head = mix64(head ^ token)
            if count == edge_tokens - 1:
                first_edges = head
        scratch[np.uintp(PLANES + ring_slot)] = token
        ring_slot += 1
        if ring_slot == edge_tokens:
            ring_slot = 0
        if count > 0:
            # Count the shingle hash's bits into three bit planes held in registers (a 3-bit counter per lane);
            # every 7 shingles, before they can overflow, add them into the 32 planes in ``scratch``.
            shingle = mix64((previous * SHINGLE_MUL + token) ^ shingle_seed)
            carry = low0 & shingle
            low0 ^= shingle
            low1 ^= carry
            low2 ^= carry & ~low1
            pending += 1
            if pending == 7:
                add_planes(scratch, low0, low1, low2)
                low0 = _ZERO
                low1 = _ZERO
                low2 = _ZERO
                pending = 0
            shingles += 1
        previous = token
        count += 1

    add_planes(scratch, low0, low1, low2)
    if count == 0:
        template = _ZERO
    else:
        for index in range(max(edge_tokens, count - edge_tokens), count):
            head = mix64(head ^ scratch[PLANES + index % edge_tokens])
        template = mix64(head ^ (np.uint64(min(code_runs, MAX_CODE_RUNS) + 1) * CODE_SALT)) >> _ONE
        if template == _ZERO:
            template = _ONE
    out[OUT_TEMPLATE] = template
    opening_key = _ZERO
    closing_key = _ZERO
    if count > 2 * edge_tokens:
        # The opening chain was saved when its last token arrived (``first_edges``); the closing chain is rebuilt
        # from the ring, which holds the last ``edge_tokens`` token hashes.
        opening_key = mix64(first_edges ^ OPENING_SALT) >> _ONE
        tail = mix64(seeds[SEED_TEMPLATE] ^ CLOSING_SALT)
        for index in range(count - edge_tokens, count):
            tail = mix64(tail ^ scratch[PLANES + index % edge_tokens])
        closing_key = tail >> _ONE
        if opening_key == _ZERO:
            opening_key = _ONE
        if closing_key == _ZERO:
            closing_key = _ONE
    out[OUT_OPENING] = opening_key
    out[OUT_CLOSING] = closing_key
    out[OUT_FRAME_TOKENS] = np.uint64(count)
    out[OUT_CODE_RUNS] = np.uint64(code_runs)
    if shingles == 0:
        out[OUT_SIMHASH] = _ZERO
        for band in range(OUT_BANDS, out.shape[0]):
            out[band] = _ZERO
    else:
        simhash = simhash_majority(scratch, shingles)
        out[OUT_SIMHASH] = simhash
        simhash_band_keys(simhash, seeds[SEED_BAND], out[OUT_BANDS:])

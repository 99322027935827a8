"""Text fingerprint in one pass over the UTF-8 bytes: template key, SimHash, band keys.

:func:`text_fingerprint` tokenizes the bytes, masks the variable parts, and hashes what is left (the *frame*):

* **Byte classes** (:data:`BYTE_CLASS`): ASCII letters (folded to lower case), digits, ``_``, and every byte
  ``>= 0x80`` are *word bytes*; non-ASCII bytes count as letters, so invalid UTF-8 is just more letters and nothing
  can fail. Whitespace is space, tab, CR, VT, FF and LF; every other byte is punctuation and is dropped.
* **Payload** (one ``{code}`` per run, not a frame token): a fenced block from a run of three or more backticks to
  the next such run or the end of the text, and an *indented line* (indentation of four columns or more, a tab
  counting four, followed by something other than whitespace or a fence) up to its newline. Payload runs separated
  only by whitespace or punctuation count once.
* **Frame tokens**, each with a 64-bit hash:

  - ``{str}``: a quote (``"``, ``'`` or a backtick) not preceded by a word byte, closed by the same quote on the same
    line within :data:`MAX_QUOTE_BYTES` (a backslash skips the byte after it); an unclosed quote is punctuation.
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
for one deployment says nothing of another. (The hash this replaces, an unkeyed FNV-1a over the bytes finished with
``mix64(fnv ^ token_seed)``, let collisions be searched for offline once and hold under every secret.) A cheaper
step per chunk, one multiply and xor-shift, was not taken: a difference in the top bit of a chunk passes through a
multiply unchanged whatever the state, so the next chunk could cancel it under every seed. A placeholder is
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

**SimHash** (Charikar, STOC 2002; Manku, Jain & Das Sarma, WWW 2007): one feature per pair of consecutive frame
tokens (a word bigram shingle), hashed as ``mix64((previous * SHINGLE_MUL + token) ^ shingle_seed)``. Bit ``b`` of
the SimHash is 1 when more than half of the shingle hashes have bit ``b`` set (the sign of the usual +1/-1 sum).
The 64 counters are *bit-sliced* ("vertical counters"): plane ``k`` holds bit ``k`` of all 64 counters, so adding
one shingle hash to all 64 counters is a carry-save add of one word, not 64 increments. The three low planes live
in registers and take a shingle in five word operations (``carry = low0 & hash; low0 ^= hash; low1 ^= carry;
low2 ^= carry & ~low1``); every 7 shingles, before those 3-bit counters can overflow, they are added into the
``PLANES = 32`` planes in ``scratch`` (enough for ``2**32 - 1`` shingles) with a ripple carry that stops when the
carry is zero. A plain ripple into memory for every shingle (about seven dependent read-modify-writes) cost 0.4 us
more on 2 KB and 2.2 times as much on 64 KiB. The final majority is a bit-sliced comparison of the 64 counters
with ``shingles // 2`` (32 word steps).

**Band keys**: the SimHash is cut into ``bands`` blocks of ``64 / bands`` bits; band ``i``'s key is
``mix64((block_i | i << 58) ^ band_seed) >> 1`` (the index sits above the block, so equal blocks of different
bands differ). With no shingle (fewer than two frame tokens), the SimHash and band keys are 0.

**Word fast path** (same tokens, fewer branches): a word run's length is what a byte loop mispredicts, once per
word, and on text it has not seen before (each request's prompt) that is most of the cost. So where 8 bytes are
left, a run of ASCII letters is read 8 bytes at a time: bit tricks on the 64-bit word ("SWAR") mark its letters, the
first non-letter ends the run, camelCase is one shift and mask, and the word hash takes each full 8 bytes as one
chunk and the last partial word masked to the run's bytes (``8 * length <= 56``, so the shift is defined) with no
branch on its length. The 8 bytes are one unaligned load (``_load_unaligned``; LLVM does not merge eight byte loads
here). Anything else at the run's end (a digit, ``_``, a non-ASCII byte, a connector followed by a word byte, a
camelCase step, a run that may be ``http``) hands the run back, from its first byte, to the byte loop, which states
the rules and gathers the same chunks a byte at a time, so both give a word the same hash. Fence and newline
searches inside payload also step 8 bytes at a time.

Cost: one pass over the bytes; per frame token two ``mix64`` (and one more per full 8 bytes of a word of 8 bytes or
more) and a carry-save add. Measured on this project's 2-core EPYC with ``python -m benchmarks.text_kernel --against
5d7ba44`` (the kernel alone, one ``text_fingerprint`` call per text from Python, numba's dispatch of about 0.4 us
included; the ``min`` of 200 runs with the two kernels interleaved, the lowest of three such runs): 4.6 us for 2 KB
of prose when each call sees a different text (6.6 us with the FNV-1a word hash and byte-by-byte 8-byte loads before
it), 3.8 us when one text is repeated (5.7 us), 4.4 us for 2 KB of ``tests/traffic.py`` prompts (6.0 us), 0.93 us
for a 2 KB coding prompt (1.05 us), 1.6 ns per byte on 64 KB of prose (2.5 ns). :func:`text_fingerprint_many` runs
the same pass over many texts in one call: 4.2 us a text for the 2 KB prose (6.2 us), the dispatch paid once. The
wrapper (:class:`patternlimit.fingerprint.TextFingerprinter`) caps the bytes at ``max_bytes``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from llvmlite import ir
from numba import config as numba_config
from numba import njit, types
from numba.core.typing.templates import Signature
from numba.extending import intrinsic

from patternlimit._kernels.hashing import mix64

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

PLANES = 32
"""Bit planes of the SimHash counters at the start of ``scratch``: enough for ``2**32 - 1`` shingles."""

MAX_QUOTE_BYTES = 512
"""A quoted string closes within this many bytes of its opening quote, or it is not a string."""

MAX_CODE_RUNS = 3
"""The template key distinguishes 0, 1, 2 and "3 or more" payload runs."""

# Token kinds. ``KIND_CODE`` marks payload in the reference tokenizer; it is never a frame token.
KIND_WORD = 0
KIND_NUMBER = 1
KIND_IDENTIFIER = 2
KIND_STRING = 3
KIND_URL = 4
KIND_CODE = 5
KIND_NONE = 6

# Byte classes; every class from CLASS_LOWER up is a word byte.
CLASS_OTHER = 0
CLASS_SPACE = 1
CLASS_NEWLINE = 2
CLASS_LOWER = 3
CLASS_UPPER = 4
CLASS_DIGIT = 5
CLASS_UNDERSCORE = 6
CLASS_HIGH = 7

PLACEHOLDER_SALT = np.uint64(0xD6E8FEB86659FD93)
CODE_SALT = np.uint64(0xA0761D6478BD642F)
OPENING_SALT = np.uint64(0x4F50454E494E4721)  # "OPENING!"
CLOSING_SALT = np.uint64(0x434C4F53494E4721)  # "CLOSING!"
SHINGLE_MUL = np.uint64(0x9E3779B97F4A7C15)
ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_BAND_INDEX_SHIFT = np.uint64(58)

# Byte values the rules name (module constants are folded into the compiled code).
NEWLINE = ord("\n")
SPACE = ord(" ")
TAB = ord("\t")
BACKTICK = ord("`")
BACKSLASH = ord("\\")
DOUBLE_QUOTE = ord('"')
SINGLE_QUOTE = ord("'")
LESS_THAN = ord("<")
GREATER_THAN = ord(">")
COLON = ord(":")
SLASH = ord("/")
DOT = ord(".")
COMMA = ord(",")
AT_SIGN = ord("@")
LOWER_H, LOWER_T, LOWER_P, LOWER_S = b"htps"
CASE_BIT = 0x20
"""``byte | CASE_BIT`` folds an ASCII letter to lower case and maps no other byte onto a lower-case letter."""


def _byte_classes() -> np.ndarray:
    classes = np.full(256, CLASS_OTHER, dtype=np.uint8)
    classes[0x80:] = CLASS_HIGH
    for value in b" \t\r\x0b\x0c":
        classes[value] = CLASS_SPACE
    classes[NEWLINE] = CLASS_NEWLINE
    classes[ord("a") : ord("z") + 1] = CLASS_LOWER
    classes[ord("A") : ord("Z") + 1] = CLASS_UPPER
    classes[ord("0") : ord("9") + 1] = CLASS_DIGIT
    classes[ord("_")] = CLASS_UNDERSCORE
    return classes


BYTE_CLASS = _byte_classes()
"""``uint8[256]``: the class of each byte value (a constant folded into the compiled kernels)."""


_HIGH_BITS = np.uint64(0x8080808080808080)
_LOW_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)
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


@intrinsic
def _count_trailing_zeros(typingctx: object, value: types.Type) -> tuple[Signature, Callable[..., Any]]:
    """LLVM's ``cttz`` on a ``uint64`` (one ``tzcnt`` instruction); numba has no public spelling of it."""

    def codegen(context: Any, builder: Any, signature: Signature, args: list[Any]) -> Any:
        return builder.cttz(args[0], context.get_constant(types.boolean, False))

    return types.uint64(types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def _trailing_zeros(value: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """The number of zero bits below the lowest set bit of ``value`` (64 for 0)."""
    return _count_trailing_zeros(value)  # type: ignore[call-arg]


@intrinsic
def _load_unaligned(typingctx: object, data: types.Type, pos: types.Type) -> tuple[Signature, Callable[..., Any]]:
    """The 8 bytes of ``data`` from ``pos`` as a little-endian ``uint64``: one unaligned load, no bounds check.

    LLVM does not merge eight byte loads into one here (it keeps a 4-byte load and four 1-byte loads and the shifts
    that join them), so the load is spelt out; a big-endian host would swap the bytes.
    """

    def codegen(context: Any, builder: Any, signature: Signature, args: list[Any]) -> Any:
        buffer = context.make_array(signature.args[0])(context, builder, args[0])
        address = builder.bitcast(builder.gep(buffer.data, [args[1]]), ir.IntType(64).as_pointer())
        value = builder.load(address, align=1)
        return builder.bswap(value) if sys.byteorder == "big" else value

    return types.uint64(data, pos), codegen


if numba_config.BOUNDSCHECK:  # type: ignore[attr-defined]  # numba sets it from NUMBA_BOUNDSCHECK at import

    @njit(cache=True, nogil=True, inline="always")
    def _load64(data: bytes, pos: int) -> np.uint64:  # pragma: no cover - compiled
        """Under ``NUMBA_BOUNDSCHECK=1``, byte by byte, so that the bounds check sees each of the 8 bytes read."""
        value = _ZERO
        for offset in range(8):
            value |= np.uint64(data[np.uintp(pos + offset)]) << np.uint64(8 * offset)
        return value

else:

    @njit(cache=True, nogil=True, inline="always")
    def _load64(data: bytes, pos: int) -> np.uint64:  # pragma: no cover - compiled
        """The 8 bytes of ``data`` from ``pos`` (``pos + 8 <= len(data)``) as a little-endian ``uint64``."""
        return _load_unaligned(data, np.uintp(pos))  # type: ignore[call-arg, arg-type]


@njit(cache=True, nogil=True, inline="always")
def _byte_at(data: bytes, pos: int) -> int:  # pragma: no cover - compiled
    """``data[pos]`` for ``0 <= pos < len(data)``: an unsigned index spares the negative-index wrap-around."""
    return data[np.uintp(pos)]


_EVERY_BYTE = np.uint64(0x0101010101010101)


@njit(cache=True, nogil=True, inline="always")
def _find_byte(data: bytes, pos: int, size: int, value: int) -> int:  # pragma: no cover - compiled
    """The index of the first byte equal to ``value`` at or after ``pos``, or ``size``; 8 bytes a step."""
    pattern = _EVERY_BYTE * np.uint64(value)
    while pos + 8 <= size:
        difference = _load64(data, pos) ^ pattern
        # A byte of ``difference`` is zero exactly when its high bit is clear both in it and in it plus 0x7F
        # (taken over its low seven bits, so no carry crosses into the next byte).
        equal = ~(((difference & _LOW_BITS) + _LOW_BITS) | difference) & _HIGH_BITS
        if equal != _ZERO:
            return pos + int(_trailing_zeros(equal) >> _U3)
        pos += 8
    while pos < size and data[pos] != value:
        pos += 1
    return pos


@njit(cache=True, nogil=True, inline="always")
def _fence_at(data: bytes, pos: int, size: int) -> bool:  # pragma: no cover - compiled
    return pos + 2 < size and data[pos] == BACKTICK and data[pos + 1] == BACKTICK and data[pos + 2] == BACKTICK


@njit(cache=True, nogil=True)
def _fence_end(data: bytes, pos: int, size: int) -> int:  # pragma: no cover - compiled
    """``pos`` is at an opening fence: the index just after the closing fence's backticks, or ``size``."""
    pos += 3
    while pos < size and data[pos] == BACKTICK:
        pos += 1
    while True:
        pos = _find_byte(data, pos, size, BACKTICK)
        if pos + 2 >= size:
            return size
        if data[pos + 1] == BACKTICK and data[pos + 2] == BACKTICK:
            pos += 3
            while pos < size and data[pos] == BACKTICK:
                pos += 1
            return pos
        pos += 1


@njit(cache=True, nogil=True)
def _closing_quote(data: bytes, pos: int, size: int) -> int:  # pragma: no cover - compiled
    """``pos`` is at a quote: the index of its closing quote on the same line within the bound, or -1."""
    quote = data[pos]
    limit = min(size, pos + 1 + MAX_QUOTE_BYTES)
    scan = pos + 1
    while scan < limit:
        value = data[scan]
        if value == quote:
            return scan
        if value == NEWLINE:
            return -1
        scan += 2 if value == BACKSLASH else 1
    return -1


@njit(cache=True, nogil=True)
def _url_end(data: bytes, pos: int, size: int) -> int:  # pragma: no cover - compiled
    """If ``http://`` or ``https://`` (any case) starts at ``pos``, the index where the URL ends; else -1."""
    if pos + 7 > size:
        return -1
    if (data[pos] | CASE_BIT) != LOWER_H or (data[pos + 1] | CASE_BIT) != LOWER_T:
        return -1
    if (data[pos + 2] | CASE_BIT) != LOWER_T or (data[pos + 3] | CASE_BIT) != LOWER_P:
        return -1
    scan = pos + 4
    if (data[scan] | CASE_BIT) == LOWER_S:
        scan += 1
    if scan + 3 > size or data[scan] != COLON or data[scan + 1] != SLASH or data[scan + 2] != SLASH:
        return -1
    scan += 3
    while scan < size:
        value = data[scan]
        if BYTE_CLASS[value] in (CLASS_SPACE, CLASS_NEWLINE):
            break
        if value in (DOUBLE_QUOTE, SINGLE_QUOTE, BACKTICK, LESS_THAN, GREATER_THAN):
            break
        scan += 1
    return scan


@njit(cache=True, nogil=True, inline="always")
def _is_letter_class(byte_class: int) -> bool:  # pragma: no cover - compiled
    return byte_class in (CLASS_LOWER, CLASS_UPPER, CLASS_HIGH)


@njit(cache=True, nogil=True, inline="always")
def _word_token(state: np.uint64, tail: np.uint64, length: int) -> np.uint64:  # pragma: no cover - compiled
    """A word's token hash: ``state`` (the token seed chained through the word's full 8-byte chunks), ``tail``
    (its last ``length % 8`` folded bytes, little-endian, zero above) and its length in the top byte."""
    return mix64(state ^ tail ^ (np.uint64(length) << _U56))


@njit(cache=True, nogil=True, inline="always")
def _add_planes(planes: np.ndarray, low0: np.uint64, low1: np.uint64, low2: np.uint64) -> None:  # pragma: no cover
    """Add the bit-sliced 3-bit lane counters ``(low0, low1, low2)`` into the counters in ``planes[:PLANES]``."""
    bits = planes[0]
    planes[0] = bits ^ low0
    carry = bits & low0
    bits = planes[1]
    partial = bits ^ low1
    planes[1] = partial ^ carry
    carry = (bits & low1) | (partial & carry)
    bits = planes[2]
    partial = bits ^ low2
    planes[2] = partial ^ carry
    carry = (bits & low2) | (partial & carry)
    plane = 3
    while carry != _ZERO:
        bits = planes[plane]
        planes[plane] = bits ^ carry
        carry &= bits
        plane += 1


@njit(cache=True, nogil=True)
def simhash_majority(planes: np.ndarray, shingles: int) -> np.uint64:  # pragma: no cover - compiled
    """Bit ``b`` set where counter ``b`` (bit-sliced over ``planes uint64[PLANES]``) exceeds ``shingles // 2``.

    A bit-sliced unsigned comparison from the top plane down: ``equal`` holds the lanes whose high bits equal the
    threshold's so far; a lane becomes ``greater`` at the first plane where it has a 1 and the threshold a 0.
    """
    threshold = shingles >> 1
    greater = _ZERO
    equal = ALL_ONES
    for plane in range(PLANES - 1, -1, -1):
        bits = planes[plane]
        if (threshold >> plane) & 1:
            equal &= bits
        else:
            greater |= equal & bits
            equal &= ~bits
    return greater


@njit(cache=True, nogil=True)
def simhash_band_keys(simhash: np.uint64, band_seed: np.uint64, out: np.ndarray) -> None:  # pragma: no cover
    """Band keys of a SimHash into ``out uint64[bands]`` (``bands`` divides 64); mutates ``out`` only."""
    bands = out.shape[0]
    if bands == 0:
        return
    width = 64 // bands
    mask = ALL_ONES if width == 64 else (_ONE << np.uint64(width)) - _ONE
    for band in range(bands):
        block = (simhash >> np.uint64(band * width)) & mask
        out[band] = mix64((block | (np.uint64(band) << _BAND_INDEX_SHIFT)) ^ band_seed) >> _ONE


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
        if not line_start and BYTE_CLASS[_byte_at(data, pos)] == CLASS_SPACE:
            # Spaces between words are most of the non-word bytes: skip them before any other test.
            pos += 1
            continue
        kind = KIND_NONE
        if line_start:
            line_start = False
            indent = 0
            scan = pos
            while scan < size:
                value = _byte_at(data, scan)
                if value == SPACE:
                    indent += 1
                elif value == TAB:
                    indent += 4
                else:
                    break
                scan += 1
            pos = scan
            if indent >= 4 and scan < size:
                byte_class = BYTE_CLASS[_byte_at(data, scan)]
                if byte_class != CLASS_SPACE and byte_class != CLASS_NEWLINE and not _fence_at(data, scan, size):
                    # An indented line is payload up to (not including) its newline.
                    if not in_code:
                        code_runs += 1
                        in_code = True
                    pos = _find_byte(data, pos, size, NEWLINE)
            continue

        value = _byte_at(data, pos)
        byte_class = BYTE_CLASS[value]
        if byte_class < CLASS_LOWER:
            if value == NEWLINE:
                line_start = True
                pos += 1
                continue
            if value == BACKTICK and _fence_at(data, pos, size):
                if not in_code:
                    code_runs += 1
                    in_code = True
                pos = _fence_end(data, pos, size)
                continue
            if value in (DOUBLE_QUOTE, SINGLE_QUOTE, BACKTICK) and (
                pos == first or BYTE_CLASS[_byte_at(data, pos - 1)] < CLASS_LOWER
            ):
                closing = _closing_quote(data, pos, size)
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
                word = _load64(data, pos)
                if ((word | _CASE_BITS) & _LOW_32) != _HTTP:
                    while True:
                        folded = word | _CASE_BITS
                        seven = folded & _LOW_BITS
                        letters = (seven + _PLUS_LOWER_A) & ~(seven + _PLUS_PAST_LOWER_Z) & ~word & _HIGH_BITS
                        stop = ~letters & _HIGH_BITS
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
                            word = _load64(data, pos)
                            continue
                        zeros = _trailing_zeros(stop)
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
                            and BYTE_CLASS[_byte_at(data, end + 1)] >= CLASS_LOWER
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
            url_end = _url_end(data, pos, size) if (value | CASE_BIT) == LOWER_H else -1
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
                    value = _byte_at(data, pos)
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
                        next_class = BYTE_CLASS[_byte_at(data, pos + 1)]
                        if next_class < CLASS_LOWER:
                            break
                        if value in (DOT, COMMA):
                            if not (previous_class == CLASS_DIGIT and next_class == CLASS_DIGIT):
                                if value == COMMA:
                                    break
                                marked = True
                        elif value == SINGLE_QUOTE:
                            if not (_is_letter_class(previous_class) and _is_letter_class(next_class)):
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
                _add_planes(scratch, low0, low1, low2)
                low0 = _ZERO
                low1 = _ZERO
                low2 = _ZERO
                pending = 0
            shingles += 1
        previous = token
        count += 1

    _add_planes(scratch, low0, low1, low2)
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

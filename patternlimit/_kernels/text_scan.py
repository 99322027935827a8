"""Byte-level scanning for the text fingerprint (:mod:`patternlimit._kernels.text`): byte classes, 8-byte loads,
and the searches for a byte, a code fence, a closing quote and the end of a URL.

* **Byte classes** (:data:`BYTE_CLASS`): ASCII letters, digits, ``_``, and every byte ``>= 0x80`` are *word bytes*;
  non-ASCII bytes count as letters, so invalid UTF-8 is just more letters and nothing can fail. Whitespace is space,
  tab, CR, VT, FF and LF; every other byte is punctuation.
* **8 bytes at a time**: :func:`load64` reads 8 bytes as one little-endian ``uint64``, one unaligned load (LLVM does
  not merge eight byte loads here); :func:`find_byte` tests the 8 bytes of a word at once with the usual zero-byte
  bit trick ("SWAR"), for the fence and newline searches inside payload.

Every function takes the text as ``bytes`` (numba reads a ``bytes`` object in place, read-only) with an exclusive
end ``size``, reads nothing at or past ``size``, mutates nothing and never raises.
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

MAX_QUOTE_BYTES = 512
"""A quoted string closes within this many bytes of its opening quote, or it is not a string."""

# Byte classes; every class from CLASS_LOWER up is a word byte.
CLASS_OTHER = 0
CLASS_SPACE = 1
CLASS_NEWLINE = 2
CLASS_LOWER = 3
CLASS_UPPER = 4
CLASS_DIGIT = 5
CLASS_UNDERSCORE = 6
CLASS_HIGH = 7

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


HIGH_BITS = np.uint64(0x8080808080808080)
"""The high bit of each of the 8 bytes of a ``uint64``."""
LOW_BITS = np.uint64(0x7F7F7F7F7F7F7F7F)
"""The low seven bits of each of the 8 bytes of a ``uint64``."""
_EVERY_BYTE = np.uint64(0x0101010101010101)
_ZERO = np.uint64(0)
_U3 = np.uint64(3)


@intrinsic
def _count_trailing_zeros(typingctx: object, value: types.Type) -> tuple[Signature, Callable[..., Any]]:
    """LLVM's ``cttz`` on a ``uint64`` (one ``tzcnt`` instruction); numba has no public spelling of it."""

    def codegen(context: Any, builder: Any, signature: Signature, args: list[Any]) -> Any:
        return builder.cttz(args[0], context.get_constant(types.boolean, False))

    return types.uint64(types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def trailing_zeros(value: np.uint64) -> np.uint64:  # pragma: no cover - compiled
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
    def load64(data: bytes, pos: int) -> np.uint64:  # pragma: no cover - compiled
        """Under ``NUMBA_BOUNDSCHECK=1``, byte by byte, so that the bounds check sees each of the 8 bytes read."""
        value = _ZERO
        for offset in range(8):
            value |= np.uint64(data[np.uintp(pos + offset)]) << np.uint64(8 * offset)
        return value

else:

    @njit(cache=True, nogil=True, inline="always")
    def load64(data: bytes, pos: int) -> np.uint64:  # pragma: no cover - compiled
        """The 8 bytes of ``data`` from ``pos`` (``pos + 8 <= len(data)``) as a little-endian ``uint64``."""
        return _load_unaligned(data, np.uintp(pos))  # type: ignore[call-arg, arg-type]


@njit(cache=True, nogil=True, inline="always")
def byte_at(data: bytes, pos: int) -> int:  # pragma: no cover - compiled
    """``data[pos]`` for ``0 <= pos < len(data)``: an unsigned index spares the negative-index wrap-around."""
    return data[np.uintp(pos)]


@njit(cache=True, nogil=True, inline="always")
def find_byte(data: bytes, pos: int, size: int, value: int) -> int:  # pragma: no cover - compiled
    """The index of the first byte equal to ``value`` at or after ``pos``, or ``size``; 8 bytes a step."""
    pattern = _EVERY_BYTE * np.uint64(value)
    while pos + 8 <= size:
        difference = load64(data, pos) ^ pattern
        # A byte of ``difference`` is zero exactly when its high bit is clear both in it and in it plus 0x7F
        # (taken over its low seven bits, so no carry crosses into the next byte).
        equal = ~(((difference & LOW_BITS) + LOW_BITS) | difference) & HIGH_BITS
        if equal != _ZERO:
            return pos + int(trailing_zeros(equal) >> _U3)
        pos += 8
    while pos < size and data[pos] != value:
        pos += 1
    return pos


@njit(cache=True, nogil=True, inline="always")
def fence_at(data: bytes, pos: int, size: int) -> bool:  # pragma: no cover - compiled
    """Whether a code fence (three backticks) starts at ``pos``."""
    return pos + 2 < size and data[pos] == BACKTICK and data[pos + 1] == BACKTICK and data[pos + 2] == BACKTICK


@njit(cache=True, nogil=True)
def fence_end(data: bytes, pos: int, size: int) -> int:  # pragma: no cover - compiled
    """``pos`` is at an opening fence: the index just after the closing fence's backticks, or ``size``."""
    pos += 3
    while pos < size and data[pos] == BACKTICK:
        pos += 1
    while True:
        pos = find_byte(data, pos, size, BACKTICK)
        if pos + 2 >= size:
            return size
        if data[pos + 1] == BACKTICK and data[pos + 2] == BACKTICK:
            pos += 3
            while pos < size and data[pos] == BACKTICK:
                pos += 1
            return pos
        pos += 1


@njit(cache=True, nogil=True)
def closing_quote(data: bytes, pos: int, size: int) -> int:  # pragma: no cover - compiled
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
def url_end_at(data: bytes, pos: int, size: int) -> int:  # pragma: no cover - compiled
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
def is_letter_class(byte_class: int) -> bool:  # pragma: no cover - compiled
    """Whether ``byte_class`` is a letter's: an ASCII letter of either case, or a byte ``>= 0x80``."""
    return byte_class in (CLASS_LOWER, CLASS_UPPER, CLASS_HIGH)

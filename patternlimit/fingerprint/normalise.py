"""Text normalisation before fingerprinting: what a reader cannot see must not change the keys.

A campaign that mutates its prompt in ways a model (or a human) reads the same would otherwise get new keys for
free. :func:`normalise` undoes, in this order:

1. **Compatibility forms** (non-ASCII text only): NFKC, so NFD and NFC spell one text, and fullwidth or
   mathematical letters, ligatures and most Unicode spaces become their plain forms.
2. **Invisible and look-alike characters** (non-ASCII text only), by one table lookup per character
   (:mod:`patternlimit.fingerprint.confusables`, generated from Unicode's TR39 data): zero-width characters,
   joiners, bidi controls, the byte-order mark and other format characters are removed; every other Unicode space
   becomes a space, the line and paragraph separators a newline; a letter that looks like another
   (Cyrillic ``U+0430``, Greek ``U+03BF``) becomes its case-folded TR39 skeleton (``a``, ``o``). ASCII is never remapped
   (TR39 folds ``1`` with ``l`` and ``0`` with ``O``, which would turn numbers into words).
3. **Case**, folded to lower case. The kernel folds a word's letters anyway; what case still decided was the
   camelCase rule (a lower-case letter followed by an upper-case one makes a run an identifier), and random case
   turned every word into an identifier. Folded, a camelCase identifier is a word: its own frame token, which
   makes templates more distinctive, not less, and leaves identifiers with a digit, ``_``, ``.``, ``/`` or
   quotes masked as before. A filler that is a bare camelCase identifier now changes the frame at its position;
   the edge and band keys still hold when it sits away from one end.
4. **Common indentation**, removed when the first line with content is indented (``textwrap.dedent``): an
   indented line is payload to the kernel, so indenting every line would leave no frame at all. Relative
   indentation (a code block inside the prose) is kept.

ASCII text, the common case, pays only for steps 3 and 4: one ``str.isascii`` scan, one ``str.lower`` and one
check of the first character; the Unicode steps run only when there is a non-ASCII character. The content key is
taken over the normalised text too, so a copy with another case or homoglyphs counts as the same filler.
"""

from __future__ import annotations

import textwrap
import unicodedata

from patternlimit.fingerprint import confusables

FOLDING: dict[int, str] = dict(zip(map(ord, confusables.SOURCES), confusables.TARGETS.split("\x00"), strict=True))
"""Code point -> replacement for every non-ASCII code point the normaliser changes (empty: removed)."""

_INDENT = (" ", "\t")


def _dedent(text: str) -> str:
    # Only when the first line with content starts indented can every line be: one look at one character for the
    # common text, whose first character is not whitespace.
    if not text.startswith(_INDENT) and not text.startswith(("\n", "\r")):
        return text
    stripped = text.lstrip("\r\n")
    if not stripped.startswith(_INDENT):
        return text
    return textwrap.dedent(text)


def normalise(text: str) -> str:
    """``text`` as the fingerprints see it (see the module docstring). Never raises on any ``str``, lone
    surrogates included (they pass through unchanged)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(FOLDING)
    return _dedent(text.lower())


def normalise_bytes(data: bytes) -> bytes:
    """:func:`normalise` of UTF-8 bytes; bytes that are not valid UTF-8 pass through unchanged (as
    ``surrogateescape`` carries them), so this never raises."""
    if data.isascii():
        lowered = data.lower()
        if not lowered.startswith((b" ", b"\t", b"\n", b"\r")):
            return lowered
        return _dedent(lowered.decode("ascii")).encode("ascii")
    return normalise(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

"""Text normalisation before fingerprinting: what a reader cannot see must not change the keys.

A campaign that mutates its prompt in ways a model (or a human) reads the same would otherwise get new keys for
free. :func:`normalise` undoes, in this order:

1. **Compatibility forms** (non-ASCII text only): NFKC, so NFD and NFC spell one text, and fullwidth or
   mathematical letters, ligatures and most Unicode spaces become their plain forms.
2. **Invisible and look-alike characters** (non-ASCII text only), by one table lookup per distinct non-ASCII
   character (:mod:`patternlimit.fingerprint.confusables`, generated from Unicode's TR39 data): zero-width characters,
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
4. **Common indentation**, removed when the first line with content is indented (as ``textwrap.dedent`` does): an
   indented line is payload to the kernel, so indenting every line would leave no frame at all. Relative
   indentation (a code block inside the prose) is kept.

ASCII text, the common case, pays only for steps 3 and 4: one ``str.isascii`` scan, one ``str.lower`` and one
check of the first character; the Unicode steps run only when there is a non-ASCII character. The content key is
taken over the normalised text too, so a copy with another case or homoglyphs counts as the same filler.
"""

from __future__ import annotations

import os
import unicodedata

from patternlimit.fingerprint import confusables

FOLDING: dict[int, str] = dict(zip(map(ord, confusables.SOURCES), confusables.TARGETS.split("\x00"), strict=True))
"""Code point -> replacement for every non-ASCII code point the normaliser changes (empty: removed)."""

_INDENT = (" ", "\t")
_ASCII_BYTES = bytes(range(128))
_MAX_REPLACEMENTS = 64
"""Distinct non-ASCII characters handled one ``str.replace`` at a time (about 1 us each for 2 KB); a text with more
(CJK prose, or an adversary's) is folded by one ``str.translate``, a dictionary lookup per character."""


def _fold_characters(text: str) -> str:
    # ``str.translate`` looks up every character, ASCII included: 0.4 ms for 2 KB. A text has few distinct
    # non-ASCII characters; they are found at C speed (UTF-8 with the ASCII bytes deleted, then each distinct one
    # taken out of what is left: ``set()`` would make a string object per character, 80 ns each) and replaced one
    # by one. The table is idempotent, so the order of the replacements does not matter.
    others = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
    for _ in range(_MAX_REPLACEMENTS):
        if not others:
            return text
        char = others[0]
        others = others.replace(char, "")
        replacement = FOLDING.get(ord(char))
        if replacement is not None:
            text = text.replace(char, replacement)
    return text.translate(FOLDING) if others else text


def _dedent(text: str) -> str:
    # Only when the first line with content starts indented can every line be: one look at one character for the
    # common text, whose first character is not whitespace.
    if not text.startswith(_INDENT) and not text.startswith(("\n", "\r")):
        return text
    if not text.lstrip("\r\n").startswith(_INDENT):
        return text
    # ``textwrap.dedent`` does the same with regular expressions, at 60 us for 2 KB; lines and prefixes are cheaper.
    # Unlike it, a line of only whitespace and CR is blank, so CRLF text dedents like LF text.
    lines = text.split("\n")
    margin: str | None = None
    for line in lines:
        content = line.lstrip(" \t\r")
        if not content:
            continue  # a blank line has no say in the margin
        indent = line[: len(line) - len(content)].rstrip("\r")
        if margin is None or indent.startswith(margin):
            margin = indent if margin is None else margin
        else:
            margin = os.path.commonprefix([margin, indent])  # noqa: RUF071 - characters, not paths
        if not margin:
            return text
    cut = 0 if margin is None else len(margin)
    # Every line with content starts with ``margin``; a blank line is emptied, as ``textwrap.dedent`` does.
    return "\n".join(line[cut:] if line.lstrip(" \t\r") else "" for line in lines)


def normalise(text: str) -> str:
    """``text`` as the fingerprints see it (see the module docstring). Never raises on any ``str``, lone
    surrogates included (they pass through unchanged)."""
    if not text.isascii():
        text = _fold_characters(unicodedata.normalize("NFKC", text))
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

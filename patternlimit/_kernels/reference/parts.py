"""Twin of :mod:`patternlimit._kernels.parts`: the examined sentences of a normalised text, cut with ``str``
methods.

:func:`examined_words` is the specification the kernel and its caller
(:meth:`patternlimit.fingerprint.parts.PartFingerprinter.words`) must meet together: for each examined piece in
text order, its words joined by single spaces when every token is a word (``str.isalpha`` after stripping trailing
punctuation), else ``None``. The tests require both to give the same list on every text.
"""

from __future__ import annotations

TRAILING = ",.;:!?)'\""


def examined_words(text: str, max_parts: int, min_words: int, max_words: int, min_chars: int) -> list[str | None]:
    """The examined pieces of ``text`` (already normalised), as the module docstring says."""
    # Sentence ends become line ends.
    text = text.replace(". ", ".\n").replace("? ", "?\n").replace("! ", "!\n").replace("; ", ";\n")
    out: list[str | None] = []
    for piece in text.split("\n"):
        if len(piece) < min_chars or piece[0] in " \t":  # too short, or indented: code or a listing
            continue
        tokens = piece.split()
        if not min_words <= len(tokens) <= max_words:
            continue
        if len(out) >= max_parts:
            break
        words = [token.rstrip(TRAILING) for token in tokens]
        out.append(" ".join(words) if all(word.isalpha() for word in words) else None)
    return out

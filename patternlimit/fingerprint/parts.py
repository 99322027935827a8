"""Keys of a prompt's parts: its instruction sentences and lines, wherever they sit.

A campaign that assembles each frame from parts (a role line, the task, a reasoning-elicitation line, an output
format line, in any order) never repeats a whole frame often enough for the template key to fan out, but it
repeats its parts. :class:`PartFingerprinter` cuts the text (normalised as for every other key) into lines and
sentences and keys each instruction-like one: :data:`MIN_WORDS` to :data:`MAX_WORDS` plain words and nothing else
(a test runner's summary, a file listing, a line of code or a task carrying its own identifiers is not an
instruction), code fences and indented lines skipped, at most :data:`MAX_PARTS` sentences examined. Only the words
are keyed, so trailing punctuation and spacing do not split a part.

Of a text's part keys, the ``limit`` smallest are kept (the keys are keyed hashes, so which parts those are cannot
be predicted without the secret): a bounded number of keys per request, and the same parts chosen for the same
text. The cost is linear in the text and capped at :data:`MAX_CHARS` characters.
"""

from __future__ import annotations

import numpy as np
import xxhash

from patternlimit._kernels import parts as kernel
from patternlimit._kernels.entry import direct
from patternlimit.fingerprint.normalise import normalise
from patternlimit.keying import Keyring

MIN_WORDS = 6
"""Words a sentence needs to be a part: shorter ones ("Thanks!", "Here is my code:") are shared by chance."""

MAX_WORDS = 80
"""Longer sentences are payload (a pasted paragraph), not instruction."""

MAX_CHARS = 8192
"""Characters of a text that are cut into parts (its start, where instructions sit, and its end)."""

MAX_PARTS = 12
"""Candidate sentences examined per text at most: the instructions sit among the first ones."""

_TRAILING = ",.;:!?)'\""
_MAX_BYTES = 4 * MAX_CHARS + 1
"""The longest UTF-8 a capped text can have (NFKC can lengthen it: the kernel's buffer is sized per call then)."""


class PartFingerprinter:
    """Part keys of texts under one deployment's :class:`~patternlimit.keying.Keyring`; see the module docstring.

    The sentences are cut and checked by a numba kernel (:mod:`patternlimit._kernels.parts`), whose plain-Python
    twin :func:`patternlimit._kernels.reference.parts.examined_words` states the rules; only the keyed hash of each
    accepted sentence is computed here. Not thread-safe: one instance per thread (the limiter's is used under its
    lock)."""

    __slots__ = ("_canon", "_kernel", "_seed", "_spans", "limit")

    def __init__(self, keyring: Keyring, *, limit: int = 4) -> None:
        self._seed = keyring.seed("fingerprint:part")
        self.limit = limit
        self._canon = np.empty(_MAX_BYTES, dtype=np.uint8)
        self._spans = np.zeros((MAX_PARTS, 3), dtype=np.int64)
        self._kernel = direct(
            kernel.part_candidates, b"", self._canon, self._spans, MAX_PARTS, MIN_WORDS, MAX_WORDS, 2 * MIN_WORDS
        )

    def keys(self, text: str | bytes | bytearray | memoryview) -> list[int]:
        """The ``limit`` smallest part keys of ``text`` (fewer when it has fewer parts), smallest first."""
        if not self.limit:
            return []
        seed, digest = self._seed, xxhash.xxh3_64_intdigest
        found = {digest(words, seed) >> 1 for words in self.words(text) if words is not None}
        return sorted(found)[: self.limit]

    def words(self, text: str | bytes | bytearray | memoryview) -> list[bytes | None]:
        """The examined sentences of ``text`` in order, each its words joined by single spaces (UTF-8) when it is an
        instruction-like part, else ``None``: what :meth:`keys` hashes."""
        if not isinstance(text, str):
            text = bytes(text).decode("utf-8", "replace")
        if len(text) > MAX_CHARS:
            half = MAX_CHARS // 2
            text = text[:half] + "\n" + text[-half:]
        data = normalise(_without_fences(text)).encode("utf-8", "surrogatepass")
        canon = self._canon
        if len(data) > len(canon):
            canon = np.empty(len(data), dtype=np.uint8)
        count = self._kernel(data, canon, self._spans, MAX_PARTS, MIN_WORDS, MAX_WORDS, 2 * MIN_WORDS)
        if not count:
            return []
        out: list[bytes | None] = []
        for start, end, status in self._spans[:count].tolist():
            if status == kernel.ACCEPTED:
                out.append(canon[start:end].tobytes())
            elif status == kernel.UNICODE:
                out.append(_unicode_words(data[start:end]))
            else:
                out.append(None)
        return out


def _unicode_words(piece: bytes) -> bytes | None:
    """The words of a piece with non-ASCII characters, joined, if every token is a word by ``str.isalpha``."""
    words = [token.rstrip(_TRAILING) for token in piece.decode("utf-8", "surrogatepass").split()]
    if all(word.isalpha() for word in words):
        return " ".join(words).encode("utf-8", "surrogatepass")
    return None


def _without_fences(text: str) -> str:
    """``text`` with its fenced code blocks (and an unclosed last one) cut out."""
    start = text.find("```")
    if start < 0:
        return text
    kept = []
    while start >= 0:
        kept.append(text[:start])
        end = text.find("```", start + 3)
        text = "" if end < 0 else text[end + 3 :]
        start = text.find("```")
    kept.append(text)
    return "\n".join(kept)

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

import xxhash

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


class PartFingerprinter:
    """Part keys of texts under one deployment's :class:`~patternlimit.keying.Keyring`; see the module docstring."""

    __slots__ = ("_seed", "limit")

    def __init__(self, keyring: Keyring, *, limit: int = 4) -> None:
        self._seed = keyring.seed("fingerprint:part")
        self.limit = limit

    def keys(self, text: str | bytes | bytearray | memoryview) -> list[int]:
        """The ``limit`` smallest part keys of ``text`` (fewer when it has fewer parts), smallest first."""
        if not self.limit:
            return []
        if not isinstance(text, str):
            text = bytes(text).decode("utf-8", "replace")
        if len(text) > MAX_CHARS:
            half = MAX_CHARS // 2
            text = text[:half] + "\n" + text[-half:]
        text = _without_fences(text)
        # Sentence ends become line ends (str.replace runs in C: a regex split costs ten times as much).
        text = normalise(text).replace(". ", ".\n").replace("? ", "?\n").replace("! ", "!\n").replace("; ", ";\n")
        seed, trailing, digest = self._seed, _TRAILING, xxhash.xxh3_64_intdigest
        found: set[int] = set()
        examined = 0
        for piece in text.split("\n"):
            if len(piece) < 2 * MIN_WORDS or piece[0] in " \t":  # too short, or indented: code or a listing
                continue
            tokens = piece.split()
            if not MIN_WORDS <= len(tokens) <= MAX_WORDS:
                continue
            examined += 1
            if examined > MAX_PARTS:
                break
            words = [token.rstrip(trailing) for token in tokens]
            # Plain words only: a sentence with a number, an identifier, a path or a symbol is payload or output.
            if all(word.isalpha() for word in words):
                found.add(digest(" ".join(words).encode("utf-8", "surrogatepass"), seed) >> 1)
        return sorted(found)[: self.limit]


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

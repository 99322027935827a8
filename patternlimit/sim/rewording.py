"""Light rewording of a prompt, as a campaign does to slip past exact matching: synonyms swapped, filler words
dropped, neighbouring sentences swapped, code left alone."""

from __future__ import annotations

import random
import re

from patternlimit.sim.corpus.words import DROPPABLE, SYNONYMS
from patternlimit.sim.grammar import pick

_DROPPABLE = frozenset(DROPPABLE)
_FENCE = re.compile(r"(```.*?(?:```|\Z))", re.DOTALL)
_WORD = re.compile(r"^(\W*)([A-Za-z]+)(\W*)$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def paraphrase(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Lightly reword ``text``, as a campaign does to slip past exact matching, and leave code alone.

    Outside fenced code and indented lines, each word with an entry in a small synonym table is swapped with
    probability ``rate``, each filler word (``please``, ``very``, ...) is dropped with probability ``rate / 2``, and
    each line of two or more sentences has two neighbouring sentences swapped with probability ``rate``. When
    ``rate > 0`` and no synonym was swapped by chance, one is swapped anyway, so a paraphrased prompt always has a
    word changed if any of its words is in the table. At the default rate about a tenth of a campaign prompt's
    words change and the rest stay as they were. Whitespace inside an edited line is collapsed to single spaces.

    Raises :class:`ValueError` for a ``rate`` outside ``[0, 1]``.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate!r}")
    if rate == 0.0:
        return text
    segments = _FENCE.split(text)
    # Odd segments are fenced code; in the prose between them, every non-indented line can be edited.
    lines = [segment.split("\n") if index % 2 == 0 else [segment] for index, segment in enumerate(segments)]
    editable = [
        (segment, line)
        for segment in range(0, len(lines), 2)
        for line, content in enumerate(lines[segment])
        if content.strip() and not content.startswith(("    ", "\t"))
    ]
    swapped = 0
    for segment, line in editable:
        lines[segment][line], swaps = _edit_line(lines[segment][line], rng, rate)
        swapped += swaps
    if not swapped:
        candidates = [
            (segment, line)
            for segment, line in editable
            if any(_swappable(word) for word in lines[segment][line].split())
        ]
        if candidates:
            segment, line = candidates[int(rng.random() * len(candidates))]
            lines[segment][line] = _swap_one(lines[segment][line], rng)
    return "".join("\n".join(segment_lines) for segment_lines in lines)


def _swappable(word: str) -> bool:
    match = _WORD.match(word)
    return match is not None and match.group(2).lower() in SYNONYMS


def _swap(match: re.Match[str], rng: random.Random) -> str:
    before, core, after = match.groups()
    replacement = pick(rng, SYNONYMS[core.lower()])
    if core[0].isupper():
        replacement = replacement[0].upper() + replacement[1:]
    return f"{before}{replacement}{after}"


def _swap_one(line: str, rng: random.Random) -> str:
    """``line`` with one of its synonym-table words (there must be one) swapped."""
    indent = line[: len(line) - len(line.lstrip())]
    words = line.split()
    matches = [(index, _WORD.match(word)) for index, word in enumerate(words)]
    swappable = [(index, found) for index, found in matches if found and found.group(2).lower() in SYNONYMS]
    position, chosen = swappable[int(rng.random() * len(swappable))]
    words[position] = _swap(chosen, rng)
    return indent + " ".join(words)


def _edit_line(line: str, rng: random.Random, rate: float) -> tuple[str, int]:
    """The line edited at ``rate`` (see :func:`paraphrase`) and how many words were swapped for synonyms."""
    indent = line[: len(line) - len(line.lstrip())]
    words = line.split()
    if rng.random() < rate:
        sentences = _SENTENCE_BREAK.split(" ".join(words))
        if len(sentences) >= 2:
            first = int(rng.random() * (len(sentences) - 1))
            sentences[first], sentences[first + 1] = sentences[first + 1], sentences[first]
            words = " ".join(sentences).split()
    kept: list[str] = []
    swaps = 0
    for word in words:
        match = _WORD.match(word)
        if match is None:
            kept.append(word)
            continue
        lowered = match.group(2).lower()
        if lowered in SYNONYMS and rng.random() < rate:
            kept.append(_swap(match, rng))
            swaps += 1
        elif lowered in DROPPABLE and not match.group(1) and not match.group(3) and rng.random() < rate / 2:
            continue
        else:
            kept.append(word)
    # A line whose words are all as they were keeps its spacing: nothing was reworded.
    return (line if kept == line.split() else indent + " ".join(kept)), swaps

"""The frame grammar the simulator's prompts are written in, compiled once and rendered with a ``random.Random``.

A frame is a ``str.format``-style string whose ``{slots}`` are filled by small functions (:data:`Filler`); a slot
used twice in one frame gets the same value, and a filler may read slots filled before it (a code snippet is
written in the ``{language}`` the frame named). ``[one|two|]`` in a frame picks one of several wordings: people
phrase one request many ways, so long runs of fixed words are rare in organic prompts and common only in
templates. :func:`compile_frame` splits a frame and binds its slots to their fillers once, so rendering is a join.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Filler = Callable[[random.Random, dict[str, str]], str]
"""Fills one slot: the generator, and the slots of the same frame filled so far."""


def pick(rng: random.Random, options: Sequence[str]) -> str:
    """One item, uniformly, from one ``rng.random()`` draw: cheaper than ``rng.choice`` (which draws bits until they
    fall below the length), and a default run makes a few million picks. The two consume the generator
    differently, so every stream depends on which one is used."""
    return options[int(rng.random() * len(options))]


@dataclass(frozen=True, slots=True)
class Slot:
    """A ``{name}`` in a frame and the filler bound to it at compile time."""

    name: str
    fill: Filler


@dataclass(frozen=True, slots=True)
class Frame:
    """A compiled frame: ``literals[0] slot[0] literals[1] ... slot[-1] literals[-1]``. A slot is a :class:`Slot`,
    or a tuple of alternative wordings, one picked per render."""

    literals: tuple[str, ...]
    slots: tuple[Slot | tuple[str, ...], ...]

    def render(self, rng: random.Random) -> str:
        values: dict[str, str] = {}
        parts = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            if isinstance(slot, tuple):
                parts.append(pick(rng, slot))
                parts.append(literal)
                continue
            value = values.get(slot.name)
            if value is None:
                value = slot.fill(rng, values)
                values[slot.name] = value
            parts.append(value)
            parts.append(literal)
        return "".join(parts)

    def uses(self, names: frozenset[str]) -> bool:
        """Whether any of the frame's slots is one of ``names``."""
        return any(isinstance(slot, Slot) and slot.name in names for slot in self.slots)


_ALTERNATION = re.compile(r"\[([^\[\]{}]*\|[^\[\]{}]*)\]")


def compile_frame(template: str, fillers: Mapping[str, Filler]) -> Frame:
    """Split ``template`` once, so rendering is a join. ``{name}`` is one of ``fillers``; ``[one|two|]`` picks one
    wording (an empty one leaves the words out). An unknown filler is a bug in the frame tables, so it is found
    where the frames are compiled, at import."""
    literals: list[str] = []
    slots: list[Slot | tuple[str, ...]] = []
    pending = ""
    position = 0
    for alternation in [*_ALTERNATION.finditer(template), None]:
        piece = template[position : alternation.start() if alternation else len(template)]
        for literal, slot, _spec, _conversion in string.Formatter().parse(piece):
            pending += literal
            if slot is None:
                continue
            if slot not in fillers:
                raise ValueError(f"unknown slot {{{slot}}} in frame {template[:60]!r}; known: {sorted(fillers)}")
            literals.append(pending)
            slots.append(Slot(slot, fillers[slot]))
            pending = ""
        if alternation is not None:
            literals.append(pending)
            slots.append(tuple(alternation.group(1).split("|")))
            pending = ""
            position = alternation.end()
    literals.append(pending)
    return Frame(tuple(literals), tuple(slots))

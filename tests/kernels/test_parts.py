"""The part-sentence kernel, with its caller's Unicode check, gives its plain-Python twin's sentences on every
text: examined in the same order, accepted or rejected alike, the same words."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels.reference.parts import examined_words
from patternlimit._testing import traffic
from patternlimit.fingerprint.normalise import normalise
from patternlimit.fingerprint.parts import (
    MAX_CHARS,
    MAX_PARTS,
    MAX_WORDS,
    MIN_WORDS,
    PartFingerprinter,
    _without_fences,
)
from patternlimit.keying import Keyring
from tests.fingerprint.prompts import corpus as grammar

PARTS = PartFingerprinter(Keyring(b"part kernel test secret, 32 bytes"), limit=8)

# Every rule's edge: sentence ends with and without a following space, trailing punctuation (stripped) and inner
# punctuation (a non-word), digits, identifiers, indentation, CR, vertical tab and file separators (whitespace to
# str.split), non-ASCII letters and non-letters (an em dash, an emoji), a lone surrogate, fences.
WORDS = ["write", "a", "function", "that", "sorts", "the", "list", "please", "Explain", "step", "by", "Déjà", "vu"]
FRAGMENTS = [
    *WORDS * 8, "naïve", "жук", "日本語", "—", "😀", "\ud800", "don't", "end.", "end?", "end!", "end;",
    "(aside)", '"quoted"',
    "sorts)", "list\".", "step'", "so:", "well,",
    "x86", "foo_bar", "42", "e.g.", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x1c", "\n    ", ". ", "? ", "; ",
    "!", ".", ",", "```", "```\ncode here\n```",
]  # fmt: skip


def twin(text: str) -> list[bytes | None]:
    """What the caller gives, computed with ``str`` methods only."""
    if len(text) > MAX_CHARS:
        half = MAX_CHARS // 2
        text = text[:half] + "\n" + text[-half:]
    words = examined_words(normalise(_without_fences(text)), MAX_PARTS, MIN_WORDS, MAX_WORDS, 2 * MIN_WORDS)
    return [None if word is None else word.encode("utf-8", "surrogatepass") for word in words]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=150).map(" ".join))
def test_fragments_give_the_twins_sentences(text: str) -> None:
    assert PARTS.words(text) == twin(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_the_twins_sentences(text: str) -> None:
    assert PARTS.words(text) == twin(text)


def test_prompts_and_their_mutations_give_the_twins_sentences() -> None:
    rng = random.Random(5)
    corpus = [text for _, text in grammar(300, 3)]
    corpus += [traffic.campaign_prompt(rng) for _ in range(100)] + [traffic.organic_prompt(rng) for _ in range(100)]
    texts = list(corpus)
    for _ in range(500):
        base = rng.choice(corpus)
        texts.append("".join(char if rng.random() > 0.05 else rng.choice(FRAGMENTS) for char in base))
    texts.append(" ".join(corpus) * 3)  # past MAX_CHARS: the head and tail
    accepted = 0
    for text in texts:
        words = PARTS.words(text)
        assert words == twin(text)
        accepted += sum(word is not None for word in words)
    assert accepted > len(corpus)  # the corpus has instruction sentences: the comparison is not of empty lists


def test_a_known_text_is_cut_as_written() -> None:
    text = (
        "You are an expert Python engineer. Explain your reasoning step by step, please! Run pytest -q on the"
        " repository now. Déjà vu is a naïve feeling for many people; short one."
    )
    assert PARTS.words(text) == [
        b"you are an expert python engineer",
        b"explain your reasoning step by step please",
        None,  # "-q": not a word
        "déjà vu is a naïve feeling for many people".encode(),
    ]
    assert PARTS.words(text) == twin(text)
    assert len(PARTS.keys(text)) == 3

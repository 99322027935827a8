"""A templated campaign that mutates its text in ways a reader does not see is stopped as often as the plain one.

300 young accounts send one structured coding template with varied fillers (``patternlimit._testing.traffic``),
through the default preset; each mutation is applied at increasing rates to every request's text. The stopped share
must stay within 5 points of the unmutated campaign's. The last test shows that normalisation does not make
legitimate, varied prompts from many new accounts share template keys.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

import pytest

from patternlimit import Action, Limiter, Request
from patternlimit._testing import traffic
from patternlimit.fingerprint import TextFingerprinter
from patternlimit.keying import Keyring

ACCOUNTS = 300
PER_ACCOUNT = 3
TOLERANCE = 0.05

Mutation = Callable[[str, random.Random, float], str]

_ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202a", "\u202c", "\u2066"]
_HOMOGLYPHS = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "i": "\u0456",
    "o": "\u043e",
    "p": "\u0440",
    "s": "\u0455",
    "x": "\u0445",
    "y": "\u0443",
    "A": "\u0391",
    "E": "\u0395",
    "O": "\u039f",
    "T": "\u03a4",
}
_FRENCH_TASKS = ["trie une liste", "lit un fichier", "valide une adresse", "fusionne deux tableaux", "compte des mots"]


def random_case(text: str, rng: random.Random, rate: float) -> str:
    """Each word, with probability ``rate``, gets every letter's case at random."""
    return " ".join(
        "".join(rng.choice((char.lower(), char.upper())) for char in word) if rng.random() < rate else word
        for word in text.split(" ")
    )


def zero_width(text: str, rng: random.Random, rate: float) -> str:
    """Each space, with probability ``rate``, is followed by a zero-width or bidi control character."""
    return "".join(char + rng.choice(_ZERO_WIDTH) if char == " " and rng.random() < rate else char for char in text)


def homoglyphs(text: str, rng: random.Random, rate: float) -> str:
    """Each word, with probability ``rate``, has every letter that has one replaced by a Cyrillic or Greek
    look-alike."""
    return " ".join(
        "".join(_HOMOGLYPHS.get(char, char) for char in word) if rng.random() < rate else word
        for word in text.split(" ")
    )


def no_break_space(text: str, rng: random.Random, rate: float) -> str:
    """Each space, with probability ``rate``, becomes a no-break space (or another Unicode space)."""
    spaces = ["\u00a0", "\u00a0", "\u2009", "\u202f", "\u3000"]
    return "".join(rng.choice(spaces) if char == " " and rng.random() < rate else char for char in text)


def indent(text: str, rng: random.Random, rate: float) -> str:
    """With probability ``rate``, every line of the text is indented by four spaces (or, half the time, a tab)."""
    if rng.random() >= rate:
        return text
    prefix = "    " if rng.random() < 0.5 else "\t"
    return "\n".join(prefix + line for line in text.split("\n"))


def decomposed(text: str, rng: random.Random, rate: float) -> str:
    """With probability ``rate``, the text in NFD instead of NFC."""
    return unicodedata.normalize("NFD", text) if rng.random() < rate else unicodedata.normalize("NFC", text)


def inserted_words(text: str, rng: random.Random, rate: float) -> str:
    """``10 * rate`` random lower-case words inserted at random places between words."""
    words = text.split(" ")
    for _ in range(round(10 * rate)):
        noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
        words.insert(rng.randrange(len(words) + 1), noise)
    return " ".join(words)


def french_prompt(rng: random.Random) -> str:
    """An accented template, for the NFD mutation: NFC and NFD spell it differently in every accented word."""
    code = "\n".join(f"    ligne_{rng.randrange(10**6)} = {rng.randrange(1000)}" for _ in range(rng.randint(2, 6)))
    return (
        "Tu es un ingénieur logiciel expérimenté. Écris une fonction Python qui "
        f"{rng.choice(_FRENCH_TASKS)}, en prêtant attention à la sécurité et à {rng.choice(_FRENCH_TASKS)}.\n"
        f"```python\n{code}\n```\nAjoute des annotations de type, une docstring détaillée et trois tests unitaires. "
        "Réponds uniquement avec le code demandé."
    )


def stopped_share(
    mutate: Mutation | None = None, rate: float = 0.0, prompt: Callable[[random.Random], str] | None = None
) -> float:
    """The share of the campaign's requests stopped (throttled or blocked) by a fresh default limiter."""
    rng = random.Random(16)
    mutation_rng = random.Random(61)
    make_prompt = prompt or traffic.campaign_prompt
    requests = []
    for index in range(ACCOUNTS):
        created = traffic.START - rng.uniform(0, traffic.DAY)
        for _ in range(PER_ACCOUNT):
            text = make_prompt(rng)
            if mutate is not None:
                text = mutate(text, mutation_rng, rate)
            request = Request(account=f"campaign-{index}", ip=traffic.ip(rng, 8), text=text, account_created_at=created)
            requests.append((traffic.START + rng.uniform(0, 7200), request))
    requests.sort(key=lambda pair: pair[0])
    limiter = Limiter(secret="evasion-test-secret")
    stopped = sum(limiter.check(request, now).action in (Action.THROTTLE, Action.BLOCK) for now, request in requests)
    return stopped / len(requests)


@pytest.fixture(scope="module")
def unmutated() -> float:
    share = stopped_share()
    assert share > 0.5  # the campaign is caught to begin with, so a mutation has something to lose
    return share


@pytest.fixture(scope="module")
def unmutated_french() -> float:
    share = stopped_share(prompt=french_prompt)
    assert share > 0.5
    return share


@pytest.mark.parametrize(
    ("mutate", "rates"),
    [
        (random_case, (0.1, 0.5, 1.0)),
        (zero_width, (0.1, 0.5, 1.0)),
        (homoglyphs, (0.1, 0.5, 1.0)),
        (no_break_space, (0.1, 0.3, 1.0)),
        (indent, (0.5, 1.0)),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_mutated_campaign_is_stopped_as_often_as_the_plain_one(unmutated, mutate, rates):
    for rate in rates:
        share = stopped_share(mutate, rate)
        assert share >= unmutated - TOLERANCE, f"{mutate.__name__} at {rate}: {share:.1%} vs {unmutated:.1%}"


def test_nfd_and_nfc_of_an_accented_campaign_are_stopped_alike(unmutated_french):
    for rate in (0.5, 1.0):
        share = stopped_share(decomposed, rate, prompt=french_prompt)
        assert share >= unmutated_french - TOLERANCE, f"NFD at {rate}: {share:.1%} vs {unmutated_french:.1%}"


def test_inserted_random_words_cost_the_campaign_at_most_what_is_documented(unmutated):
    # Words are words: normalisation cannot take them out. The edge keys and SimHash bands hold while the
    # insertions miss one end of the frame; docs/fingerprints.md gives the measured shares.
    assert stopped_share(inserted_words, 0.3) >= unmutated - TOLERANCE
    assert stopped_share(inserted_words, 1.0) >= 0.35  # 39.8%


def test_normalisation_does_not_merge_varied_legitimate_prompts():
    # Case folding and the other steps may only make texts that read alike share keys: 2,000 varied organic
    # prompts (different case conventions among them) share template keys no more often than before.
    fingerprinter = TextFingerprinter(Keyring("evasion-test-secret"))
    rng = random.Random(5)
    styles = [str, str.upper, str.title, str.capitalize]
    prompts = {rng.choice(styles)(traffic.organic_prompt(rng)) for _ in range(2000)}
    # The template covers the first and last 8 frame tokens (all of them in a frame of 16 or fewer): texts that
    # share a template must show the same such tokens, so folding merged nothing that reads differently.
    edges_by_template: dict[int, set[tuple[str, ...]]] = {}
    for prompt in prompts:
        words = fingerprinter.label(prompt, words=40).split()
        edges = tuple(words) if len(words) <= 16 else (*words[:8], *words[-8:])
        edges_by_template.setdefault(fingerprinter.fingerprint(prompt).template, set()).add(edges)
    assert all(len(edges) == 1 for edges in edges_by_template.values())
    assert len(edges_by_template) > 1000  # the prompts do vary
    # And short unrelated prompts from many new accounts are not stopped for sharing a template.
    limiter = Limiter(secret="evasion-test-secret")
    requests = [
        Request(
            account=f"new-{index}",
            ip=traffic.ip(rng),
            text=rng.choice(styles)(traffic.organic_prompt(rng)),
            account_created_at=traffic.START - rng.uniform(0, traffic.DAY),
        )
        for index in range(600)
    ]
    decisions = [limiter.check(request, traffic.START + index) for index, request in enumerate(requests)]
    assert sum(decision.action in (Action.THROTTLE, Action.BLOCK) for decision in decisions) == 0

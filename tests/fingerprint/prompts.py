"""Prompts for the text fingerprint tests: a small grammar of templated prompts with random fillers, free-form
text, and the pairs of prompts from different templates that share a key."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Iterator

SECRET = b"fingerprint tests secret 0123456789"


# -- a small grammar of prompts ------------------------------------------------------------------------------
# Words are made of syllables so the vocabulary is large (tens of thousands) and no test depends on English.

SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va", "gu", "zi", "be", "fo", "ha", "ju", "le",
             "mo", "ni", "pe", "ra", "so", "tu", "vi", "wa", "xe", "yo", "ze"]  # fmt: skip

PERSONAS = [
    "",
    "You are a helpful assistant.",
    "You are an expert Python developer.",
    "Act as a senior data engineer.",
    "You are a patient math tutor for high school students.",
    "Pretend you are a technical writer.",
    "You are a security auditor.",
    "As an experienced Rust programmer,",
    "You are ChatBot, a large language model.",
    "System: answer as a careful lawyer.",
    "Hi!",
    "Hello, I need some help.",
]
LEADS = [
    "Write a function that",
    "Implement a class which",
    "Explain in simple terms why",
    "Can you help me understand how",
    "Summarize the following text about",
    "Translate into French the sentence about",
    "Give me three ideas for",
    "Refactor my code so that",
    "Find the bug where",
    "Create a SQL query that returns",
    "Draft an email to my manager about",
    "List the pros and cons of",
    "Compare two approaches to",
    "Generate unit tests for a module that",
    "Describe step by step how",
    "Suggest a name for a startup that",
    "Outline a lesson plan on",
    "Prove that",
    "Rewrite this paragraph so that",
    "What is the best way to",
    "Tell me a story where",
    "Design a REST API that",
    "Estimate how long it takes to",
    "Classify the sentiment of a review about",
    "Convert this JSON so that",
    "Optimize the query where",
    "Review the pull request that",
    "Plan a trip where",
    "Answer the question: why",
    "Build a regex that matches",
]
INSTRUCTIONS = [
    "Return only the code.",
    "Explain your reasoning step by step.",
    "Keep the answer under 100 words.",
    "Use type hints and docstrings everywhere.",
    "Format the output as a JSON object with keys name and score.",
    "Answer in Spanish.",
    "Cite your sources at the end.",
    "Do not use any external libraries.",
    "Make it suitable for a ten year old child.",
    "Respond with a markdown table.",
    "Be concise.",
    "Include at least two examples and one counterexample.",
    "Write the tests with pytest and cover the edge cases.",
    "Think carefully before you answer and check your work twice.",
    "Output nothing but the final answer.",
    "Use the metric system for all units.",
    "Add comments that explain each step of the algorithm.",
    "Sort the results by relevance, most relevant first.",
    "End with a one sentence summary.",
    "Avoid jargon where you can.",
]
SIGNOFFS = ["", "Thanks!", "Thank you so much in advance.", "Please hurry, this is urgent for my job interview."]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def filler(rng: random.Random, low: int = 3, high: int = 25) -> str:
    """Task words of varying length, sometimes with numbers, identifiers, quoted text or a URL among them."""
    parts = [word(rng) for _ in range(rng.randint(low, high))]
    for _ in range(rng.randint(0, 3)):
        extra = rng.choice(
            [str(rng.randint(0, 10**6)), f"{word(rng)}_{word(rng)}", f'"{word(rng)} {word(rng)}"', "https://x.io/p"]
        )
        parts.insert(rng.randrange(len(parts) + 1), extra)
    return " ".join(parts)


def payload(rng: random.Random) -> str:
    body = "\n".join(f"{word(rng)} = {word(rng)}({rng.randint(0, 99)})" for _ in range(rng.randint(1, 12)))
    return rng.choice(
        [f"\n```python\n{body}\n```\n", "\n" + "\n".join("    " + line for line in body.split("\n")) + "\n"]
    )


def templated(rng: random.Random, template: tuple[int, int, int, int, bool]) -> str:
    persona, lead, instruction, signoff, with_code = template
    text = f"{PERSONAS[persona]} {LEADS[lead]} {filler(rng)}."
    if with_code:
        text += payload(rng)
    return f"{text} {INSTRUCTIONS[instruction]} {SIGNOFFS[signoff]}"


def free_form(rng: random.Random) -> str:
    """An unscripted prompt: sentences of random words, sometimes with code."""
    sentences = [filler(rng, 4, 14).capitalize() + rng.choice([".", "?", "!"]) for _ in range(rng.randint(1, 5))]
    if rng.random() < 0.3:
        sentences.insert(rng.randrange(len(sentences) + 1), payload(rng))
    return " ".join(sentences)


def corpus(size: int, seed: int) -> Iterator[tuple[object, str]]:
    """``(template id, prompt)``: half templated prompts (about 58,000 possible templates), half free-form (each
    its own template)."""
    rng = random.Random(seed)
    for index in range(size):
        if index % 2:
            yield ("free", index), free_form(rng)
        else:
            template = (
                rng.randrange(len(PERSONAS)),
                rng.randrange(len(LEADS)),
                rng.randrange(len(INSTRUCTIONS)),
                rng.randrange(len(SIGNOFFS)),
                rng.random() < 0.5,
            )
            yield template, templated(rng, template)


def cross_template_pairs(keys: list[tuple[object, tuple[int, ...]]]) -> tuple[list[tuple[object, object]], int]:
    """The pairs of template ids of prompts from different templates that share a key, and the number of pairs of
    prompts from different templates."""
    by_key: dict[int, list[object]] = defaultdict(list)
    for template_id, prompt_keys in keys:
        for key in set(prompt_keys):
            by_key[key].append(template_id)
    colliding = [
        (first, second)
        for members in by_key.values()
        for first, second in itertools.combinations(members, 2)
        if first != second
    ]
    ids: dict[object, int] = defaultdict(int)
    for template_id, _ in keys:
        ids[template_id] += 1
    total = len(keys) * (len(keys) - 1) // 2 - sum(count * (count - 1) // 2 for count in ids.values())
    return colliding, total


# -- the campaign template the tests send with many fillers --------------------------------------------------

CAMPAIGN = (
    "You are a world class competitive programmer and teacher. Solve the following problem: {task} "
    "{code}Give the complete solution in Python and explain the time complexity in one short paragraph."
)


def campaign_prompt(rng: random.Random) -> str:
    code = payload(rng) if rng.random() < 0.5 else ""
    return CAMPAIGN.format(task=filler(rng, 1, 60), code=code)

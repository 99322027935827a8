"""Text fingerprints: one template over many fillers, few false collisions, near-duplicates share bands, nothing
breaks on hostile input, and every key depends on the deployment secret."""

from __future__ import annotations

import itertools
import math
import random
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import patternlimit.fingerprint
from patternlimit import Keyring
from patternlimit.errors import ConfigurationError
from patternlimit.fingerprint import TextFingerprint, TextFingerprinter

SECRET = b"fingerprint tests secret 0123456789"


@pytest.fixture(scope="module")
def fingerprinter() -> TextFingerprinter:
    return TextFingerprinter(Keyring(SECRET))


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


# -- the template key ----------------------------------------------------------------------------------------

CAMPAIGN = (
    "You are a world class competitive programmer and teacher. Solve the following problem: {task} "
    "{code}Give the complete solution in Python and explain the time complexity in one short paragraph."
)


def campaign_prompt(rng: random.Random) -> str:
    code = payload(rng) if rng.random() < 0.5 else ""
    return CAMPAIGN.format(task=filler(rng, 1, 60), code=code)


def test_one_template_with_many_fillers_shares_one_template_key(fingerprinter):
    rng = random.Random(1)
    prompts = [campaign_prompt(rng) for _ in range(300)]
    code_runs = {"```" in prompt or "\n    " in prompt for prompt in prompts}
    keys = {fingerprinter.fingerprint(prompt).template for prompt in prompts}
    # One key for prompts without a payload and one for prompts with one: the payload count is part of the key.
    assert len(keys) == len(code_runs) == 2
    contents = {fingerprinter.fingerprint(prompt).content for prompt in prompts}
    assert len(contents) == len(prompts)  # every filler is a distinct content key


def test_different_code_payloads_numbers_and_identifiers_share_the_template(fingerprinter):
    # Fifteen frame tokens: all of them are edge tokens, so the name and the number sit inside the key, masked.
    frame = "Please review the function {name} below and point out every bug:\n{code}\nAnswer with {number} bullets."
    variants = [
        frame.format(code="```js\nlet x = 1;\n```", name="getUser", number="42"),
        frame.format(code="```\nfor i in range(10):\n    print(i)\n```", name="parse_rows", number="3.14"),
        frame.format(code="    int main() { return 0; }\n    // more", name="Foo.bar", number="1,000,000"),
        frame.format(code="```rust\nfn main() {}\n```", name="x86_64", number="-7"),
    ]
    results = [fingerprinter.fingerprint(text) for text in variants]
    assert {result.frame_tokens for result in results} == {15}
    assert len({result.template for result in results}) == 1
    assert len({result.content for result in results}) == len(variants)
    without_code = fingerprinter.fingerprint(frame.format(code="", name="getUser", number="42"))
    assert without_code.template != results[0].template  # the payload count is part of the template


def test_a_different_opening_or_closing_gives_a_different_template(fingerprinter):
    body = "the quick brown fox jumps over the lazy dog near the river bank at dawn"
    base = f"Summarize the following text in exactly one short sentence please: {body}. Then translate it to German."
    other_opening = f"Rewrite the following text as a haiku with a title please: {body}. Then translate it to German."
    other_closing = f"Summarize the following text in exactly one short sentence please: {body}. Then list its nouns."
    keys = [fingerprinter.fingerprint(text).template for text in (base, other_opening, other_closing)]
    assert len(set(keys)) == 3


def test_completely_different_prompts_get_different_templates(fingerprinter):
    rng = random.Random(5)
    prompts = [free_form(rng) for _ in range(500)]
    keys = [fingerprinter.fingerprint(prompt).template for prompt in prompts]
    assert len(set(keys)) == len(set(prompts)) == 500


def test_filler_within_the_edges_changes_the_template_as_documented(fingerprinter):
    """The documented limitation: a template whose fixed opening is shorter than ``edge_tokens`` tokens and whose
    filler is plain words gets one key per filler (bands are what group those)."""
    keys = {fingerprinter.fingerprint(f"Explain {topic} to me like I am five years old.").template for topic in
            ("gravity", "tax law", "black holes and quasars")}  # fmt: skip
    assert len(keys) == 3
    quoted = {fingerprinter.fingerprint(f"Translate to French: '{text}'").template for text in ("hello", "good day")}
    assert len(quoted) == 1  # a quoted filler is masked, so a short template still holds


@pytest.mark.slow
def test_false_collision_rate_of_templates_on_a_generated_corpus(fingerprinter):
    """20,000 prompts, 2e8 pairs from different templates: few share a template key, and only by design.

    Measured (docs/fingerprints.md): 7.4e-5 of the pairs; bound 1.5e-4. Every colliding pair has the same persona,
    sign-off and payload count and differs only in its lead or instruction, which a 10-token persona or a 9-token
    sign-off pushes out of the first and last ``edge_tokens``. No free-form prompt shares a key with anything.
    """
    keys = [(template_id, (fingerprinter.fingerprint(prompt).template,)) for template_id, prompt in corpus(20_000, 3)]
    colliding, total = cross_template_pairs(keys)
    assert total > 1.9e8
    assert len(colliding) / total < 1.5e-4, f"{len(colliding)} colliding pairs of {total}"
    for first, second in colliding:
        assert isinstance(first, tuple) and isinstance(second, tuple)
        assert "free" not in (first[0], second[0])
        assert (first[0], first[3], first[4]) == (second[0], second[3], second[4])


def test_the_collision_measure_fails_a_fingerprinter_with_one_edge_token():
    """The corpus test can fail: with one edge token at each end, templates that share a first and a last word
    collide far above the bound."""
    coarse = TextFingerprinter(Keyring(SECRET), edge_tokens=1)
    keys = [(template_id, (coarse.fingerprint(prompt).template,)) for template_id, prompt in corpus(3000, 3)]
    colliding, total = cross_template_pairs(keys)
    assert len(colliding) / total > 1e-3


# -- near-duplicate bands ------------------------------------------------------------------------------------


def exact_band_share_probability(distance: int, bands: int = 4, bits: int = 64) -> float:
    """Probability that two 64-bit SimHashes differing in ``distance`` uniformly random bit positions agree on at
    least one of ``bands`` equal blocks (inclusion-exclusion over the blocks left untouched)."""
    width = bits // bands
    return sum(
        (-1) ** (untouched + 1) * math.comb(bands, untouched) * math.comb(bits - width * untouched, distance)
        for untouched in range(1, bands + 1)
    ) / math.comb(bits, distance)


def test_band_keys_share_a_block_exactly_when_simhashes_agree_on_it(fingerprinter):
    rng = random.Random(9)
    for _ in range(300):
        simhash = rng.getrandbits(64)
        distance = rng.randint(0, 12)
        flipped = simhash
        for bit in rng.sample(range(64), distance):
            flipped ^= 1 << bit
        first, second = fingerprinter.band_keys(simhash), fingerprinter.band_keys(flipped)
        agree = [(simhash >> (16 * band)) & 0xFFFF == (flipped >> (16 * band)) & 0xFFFF for band in range(4)]
        assert [mine == theirs for mine, theirs in zip(first, second, strict=True)] == agree
        if distance < 4:
            assert any(agree)  # pigeonhole: fewer flipped bits than bands leaves a band whole
    # Equal blocks in different bands give different keys: the key encodes the band index.
    assert len(set(fingerprinter.band_keys(0))) == 4


def test_band_sharing_follows_the_exact_formula(fingerprinter):
    rng = random.Random(10)
    for distance, trials in ((4, 4000), (8, 4000)):
        shared = 0
        for _ in range(trials):
            simhash = rng.getrandbits(64)
            flipped = simhash
            for bit in rng.sample(range(64), distance):
                flipped ^= 1 << bit
            shared += not set(fingerprinter.band_keys(simhash)).isdisjoint(fingerprinter.band_keys(flipped))
        expected = exact_band_share_probability(distance)
        assert abs(shared / trials - expected) < 4 * math.sqrt(expected * (1 - expected) / trials)
    # Pigeonhole makes 3 flipped bits certain to leave a band whole; the binomial approximation says 0.917.
    assert exact_band_share_probability(3) == 1.0
    assert round(1 - (1 - (1 - 3 / 64) ** 16) ** 4, 3) == 0.917
    assert round(exact_band_share_probability(4), 3) == 0.897


def near_duplicate_rate(fingerprinter: TextFingerprinter, changed: int, trials: int, seed: int) -> float:
    """Fraction of 60-word prompts that share at least one band after ``changed`` words are replaced."""
    rng = random.Random(seed)
    shared = 0
    for _ in range(trials):
        words = [word(rng) for _ in range(60)]
        edited = list(words)
        for position in rng.sample(range(60), changed):
            edited[position] = word(rng)
        first = fingerprinter.fingerprint(" ".join(words)).bands
        second = fingerprinter.fingerprint(" ".join(edited)).bands
        shared += not set(first).isdisjoint(second)
    return shared / trials


@pytest.mark.parametrize(("changed", "documented"), [(1, 0.69), (2, 0.43), (3, 0.28)])
def test_near_duplicates_share_a_band_at_the_documented_rate(fingerprinter, changed, documented):
    """Measured (docs/fingerprints.md, 20,000 trials each): 0.73, 0.47, 0.32 for 1, 2, 3 words replaced in 60;
    each bound sits 4 standard errors of these 3000 trials below."""
    assert near_duplicate_rate(fingerprinter, changed, 3000, seed=changed) >= documented


def test_unrelated_prompts_rarely_share_a_band(fingerprinter):
    """Measured: 9.2e-5 of the 8e6 cross-template pairs of 4,000 corpus prompts share a band; bound 2e-4.

    Four random 16-bit bands would share with probability 6.1e-5 per pair (random word sequences measure 6.0e-5);
    the grammar's shared phrases make its prompts somewhat more alike than that.
    """
    keys = [(template_id, fingerprinter.fingerprint(prompt).bands) for template_id, prompt in corpus(4000, 4)]
    colliding, total = cross_template_pairs(keys)
    assert len(colliding) / total < 2e-4, f"{len(colliding)} colliding pairs of {total}"


# -- hostile and unusual input -------------------------------------------------------------------------------


def test_empty_and_blank_text_have_no_template_and_no_bands(fingerprinter):
    for text in ("", "   ", "\n\n\t  \r\n", b"", b"\x0b\x0c"):
        result = fingerprinter.fingerprint(text)
        assert result.template == 0 and result.bands == () and result.frame_tokens == 0
    assert fingerprinter.fingerprint("").content != fingerprinter.fingerprint(" ").content


def test_only_code_has_no_frame(fingerprinter):
    result = fingerprinter.fingerprint("```python\nimport os\nprint(os.getcwd())\n```")
    assert result == TextFingerprint(0, (), result.content, 0)
    assert fingerprinter.fingerprint("    x = 1\n    y = 2\n").frame_tokens == 0


def test_one_token_has_a_template_but_no_bands(fingerprinter):
    result = fingerprinter.fingerprint("hello")
    assert result.template != 0 and result.bands == () and result.frame_tokens == 1


def test_a_megabyte_costs_what_its_head_and_tail_cost(fingerprinter):
    rng = random.Random(2)
    text = " ".join(word(rng) for _ in range(200_000))
    data = text.encode()
    assert len(data) > 1_000_000
    half = fingerprinter.max_bytes // 2
    sample = data[:half] + data[-half:]
    assert fingerprinter.fingerprint(text) == fingerprinter.fingerprint(data) == fingerprinter.fingerprint(sample)
    assert fingerprinter.sample(text) == sample
    assert fingerprinter.fingerprint(text).frame_tokens < 20_000


def test_sampling_a_long_str_encodes_only_its_ends_yet_matches_the_bytes(fingerprinter):
    text = "é" * 40_000 + " middle " + "日本語" * 20_000  # multi-byte characters on both sides of the cut
    assert fingerprinter.sample(text) == fingerprinter.sample(text.encode())
    short_but_wide = "日" * 30_000  # fewer characters than max_bytes, more bytes
    assert fingerprinter.sample(short_but_wide) == fingerprinter.sample(short_but_wide.encode())
    assert len(fingerprinter.sample(short_but_wide)) == fingerprinter.max_bytes
    for text in (short_but_wide, "日" * (fingerprinter.max_bytes // 4) + "x", "\udc80" * 21_846):
        assert fingerprinter.fingerprint(text) == fingerprinter.fingerprint(
            fingerprinter.sample(text.encode("utf-8", "surrogatepass"))
        )


def test_invalid_utf8_nul_bytes_and_lone_surrogates_are_fingerprinted(fingerprinter):
    broken = b"Write \xff\xfe a \x00 function \xc3( that \xed\xa0\x80 works"
    result = fingerprinter.fingerprint(broken)
    # Invalid bytes are letters: "\xff\xfe", "\xc3" and the encoded surrogate are words of their own.
    assert result.frame_tokens == 8 and result.template != 0
    assert fingerprinter.fingerprint(broken.replace(b"\x00", b"\x01")).content != result.content
    surrogate = fingerprinter.fingerprint("lone \udc80 surrogate \ud800 here")
    assert surrogate == fingerprinter.fingerprint("lone \udc80 surrogate \ud800 here".encode("utf-8", "surrogatepass"))
    assert surrogate.frame_tokens == 5


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec=None), max_size=400) | st.binary(max_size=400))
def test_any_content_gives_consistent_keys(fingerprinter, text):
    """Arbitrary text (lone surrogates included) or bytes: no exception, and the documented invariants hold."""
    result = fingerprinter.fingerprint(text)
    assert (result.template == 0) == (result.frame_tokens == 0)
    assert (result.bands == ()) == (result.frame_tokens < 2)
    assert all(0 <= key < 1 << 63 for key in (result.template, result.content, *result.bands))
    if isinstance(text, str):
        assert result == fingerprinter.fingerprint(text.encode("utf-8", "surrogatepass"))
    label = fingerprinter.label(text)
    assert label.isascii() and label.isprintable()
    assert (label in ("", "{code}")) == (result.frame_tokens == 0)


TEXT_INPUTS = (
    st.text(st.characters(codec=None), max_size=300)
    | st.binary(max_size=300)
    | st.binary(max_size=300).map(bytearray)
    | st.binary(max_size=300).map(memoryview)
    | st.sampled_from(["", b"", "\udc80 lone", b"\xff\xfe\x00 invalid", "```only code```", "Write a Python function."])
)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(TEXT_INPUTS, max_size=12))
def test_fingerprint_many_equals_fingerprint_one_by_one(fingerprinter, texts):
    """Random text (lone surrogates included), invalid UTF-8, every input type, empty strings: the same keys."""
    assert fingerprinter.fingerprint_many(texts) == [fingerprinter.fingerprint(text) for text in texts]


def test_fingerprint_many_on_huge_texts_and_across_chunks(fingerprinter):
    """Texts past ``max_bytes`` are sampled as alone; a batch larger than one kernel call's chunk keeps its order."""
    rng = random.Random(13)
    huge = " ".join(word(rng) for _ in range(200_000))
    wide = "日本語 " * 30_000  # fewer characters than max_bytes, more bytes
    prompts = [prompt for _, prompt in corpus(600, 14)]
    texts = [huge, "", wide, *prompts, huge.encode(), bytearray(wide.encode()), "", huge[:70_000]]
    results = fingerprinter.fingerprint_many(iter(texts))  # any iterable, consumed once
    assert results == [fingerprinter.fingerprint(text) for text in texts]
    assert results[0] == results[-4] and results[2] == results[-3] and results[1] == results[-2]
    assert fingerprinter.fingerprint_many([]) == []
    small = TextFingerprinter(Keyring(SECRET), max_bytes=64, edge_tokens=2, bands=8)
    assert small.fingerprint_many(texts) == [small.fingerprint(text) for text in texts]


def test_fingerprint_many_names_the_element_that_is_not_text(fingerprinter):
    with pytest.raises(TypeError, match=r"texts\[2\]: text must be str, bytes, bytearray or memoryview, got int"):
        fingerprinter.fingerprint_many(["fine", b"also fine", 3, "never reached"])


def test_bytearray_and_memoryview_equal_bytes(fingerprinter):
    data = b"Write a function that adds 2 and 3. Return only code."
    expected = fingerprinter.fingerprint(data)
    assert fingerprinter.fingerprint(bytearray(data)) == expected
    assert fingerprinter.fingerprint(memoryview(data)) == expected
    assert fingerprinter.fingerprint(memoryview(b"xx" + data + b"yy")[2:-2]) == expected
    assert fingerprinter.fingerprint(data.decode()) == expected


@pytest.mark.parametrize("value", [None, 42, 3.5, ["text"], {"text": 1}, object()])
def test_non_text_is_a_type_error(fingerprinter, value):
    with pytest.raises(TypeError, match="text must be str, bytes"):
        fingerprinter.fingerprint(value)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"max_bytes": 10}, "max_bytes"),
        ({"max_bytes": 1 << 30}, "max_bytes"),
        ({"max_bytes": 4096.0}, "max_bytes"),
        ({"edge_tokens": 0}, "edge_tokens"),
        ({"edge_tokens": 65}, "edge_tokens"),
        ({"edge_tokens": True}, "edge_tokens"),
        ({"bands": 3}, "bands"),
        ({"bands": 16}, "bands"),
        ({"bands": "4"}, "bands"),
    ],
)
def test_bad_configuration_names_the_field(arguments, field):
    with pytest.raises(ConfigurationError, match=field):
        TextFingerprinter(Keyring(SECRET), **arguments)


def test_a_missing_keyring_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="keyring"):
        TextFingerprinter(SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize("bands", [1, 2, 4, 8])
def test_band_count_follows_the_configuration(bands):
    result = TextFingerprinter(Keyring(SECRET), bands=bands).fingerprint("several words in a row here")
    assert len(result.bands) == bands and len(set(result.bands)) == bands


def test_keys_are_63_bit(fingerprinter):
    rng = random.Random(8)
    for _, prompt in itertools.islice(corpus(200, 8), 200):
        result = fingerprinter.fingerprint(prompt)
        assert all(0 <= key < 1 << 63 for key in (result.template, result.content, *result.bands))
    text = free_form(rng)
    assert fingerprinter.band_keys(fingerprinter.simhash(text)) == fingerprinter.fingerprint(text).bands
    with pytest.raises(ValueError, match="simhash"):
        fingerprinter.band_keys(1 << 64)


def test_fingerprints_agree_across_threads(fingerprinter):
    """Each thread has its own kernel buffers: concurrent calls give the results serial calls give."""
    from concurrent.futures import ThreadPoolExecutor

    prompts = [prompt for _, prompt in corpus(400, 12)]
    serial = [fingerprinter.fingerprint(prompt) for prompt in prompts]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(fingerprinter.fingerprint, prompts)) == serial


# -- keyed by the deployment secret --------------------------------------------------------------------------

PROMPT = "Write a Python function that parses 2 CSV files and merges them on `id`. Return only code."


def keys_of(secret: bytes, text: str) -> tuple[int, ...]:
    result = TextFingerprinter(Keyring(secret)).fingerprint(text)
    return (result.template, *result.bands, result.content)


def test_different_secrets_give_different_keys():
    first, second = keys_of(SECRET, PROMPT), keys_of(SECRET + b"!", PROMPT)
    assert all(mine != theirs for mine, theirs in zip(first, second, strict=True))


def test_the_same_secret_gives_the_same_keys_in_another_process():
    code = "from tests.fingerprint.test_text import keys_of, SECRET, PROMPT; print(keys_of(SECRET, PROMPT))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == str(keys_of(SECRET, PROMPT))


# -- labels --------------------------------------------------------------------------------------------------


def test_label_shows_the_masked_template(fingerprinter):
    text = (
        "Write a Python function that merges 2 sorted lists named list_a and `list_b`:\n"
        "```python\ndef merge(a, b): ...\n```\nSee https://example.com/spec. Return only code."
    )
    assert fingerprinter.label(text, words=40) == (
        "write a python function that merges {n} sorted lists named {id} and {str} {code} see {url} return only code"
    )
    assert fingerprinter.label(text, words=4) == "write a python function ... {code} ... {url} return only code"


def test_the_label_never_shows_the_filler(fingerprinter):
    rng = random.Random(4)
    prompt = campaign_prompt(rng)
    label = fingerprinter.label(prompt)
    assert label.startswith("you are a world class competitive programmer and teacher")
    assert label.endswith("explain the time complexity in one short paragraph")
    assert all(token not in label.split() for token in prompt.split()[14:-14] if token.isalpha() and len(token) > 7)


def test_label_is_ascii_bounded_and_never_raises(fingerprinter):
    hostile = b"\xff\xfe \x1b[31m red \x00 \xe2\x80\xae rtl " + b"z" * 500 + b" caf\xc3\xa9"
    for text in (hostile, "lone \udc80 \ud800 surrogates", "", "```only code```", "日本語のテキスト"):
        label = fingerprinter.label(text)
        assert label.isascii() and label.isprintable()
        assert len(label) <= 40 * (12 + 8 + 1)
    assert fingerprinter.label("") == ""
    assert fingerprinter.label("```only code```") == "{code}"
    assert "caf\\xe9" in fingerprinter.label(hostile) and "\\u202e" in fingerprinter.label(hostile)


def test_label_rejects_a_bad_word_count(fingerprinter):
    with pytest.raises(ConfigurationError, match="words"):
        fingerprinter.label("text", words=0)


def test_the_fingerprint_package_exports_a_sorted_all():
    module = patternlimit.fingerprint
    assert module.__all__ == sorted(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)


def test_label_of_a_long_text_reads_only_its_ends(fingerprinter):
    middle = "filler words that are never shown " * 30_000  # about 1 MB
    text = f"Please review the following report carefully. {middle} Reply with a summary of 3 bullet points."
    label = fingerprinter.label(text)
    assert label.startswith("please review the following report carefully")
    assert label.endswith("reply with a summary of {n} bullet points")
    assert " ... " in label and label.isascii()


def test_opening_and_closing_keys_survive_a_filler_near_one_end(fingerprinter):
    closing_fixed = [
        f"Implement {task} in Rust with error handling and unit tests. Explain each step and list your assumptions."
        for task in (
            "a trie with prefix search",
            "an LRU cache",
            "a rate limiter for an HTTP client",
            "a breadth first search over a grid",
        )
    ]
    opening_fixed = [
        f"As an autonomous coding agent, plan first and then execute the following task: {task}"
        for task in (
            "migrate the database schema to add soft deletes",
            "fix the flaky login test",
            "bump every dependency to its latest minor version",
        )
    ]
    closings = {fingerprinter.fingerprint(text).edges[1] for text in closing_fixed}
    openings = {fingerprinter.fingerprint(text).edges[0] for text in opening_fixed}
    templates = {fingerprinter.fingerprint(text).template for text in closing_fixed + opening_fixed}
    assert len(closings) == 1 and len(openings) == 1  # the fixed end keeps its key
    assert len(templates) == len(closing_fixed) + len(opening_fixed)  # the whole-frame key splits on the filler
    assert fingerprinter.fingerprint("Explain photosynthesis to me like I am five.").edges == ()  # short frame

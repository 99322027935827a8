"""Text fingerprint keys: one template over many fillers, few false collisions, near-duplicates share bands, and
a short template keeps its fixed end's key."""

from __future__ import annotations

import math
import random

import pytest

from patternlimit import Keyring
from patternlimit.fingerprint import TextFingerprinter
from tests.fingerprint.prompts import (
    SECRET,
    campaign_prompt,
    corpus,
    cross_template_pairs,
    free_form,
    word,
)

# -- the template key ----------------------------------------------------------------------------------------


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
        frame.format(code="```js\nlet x = 1;\n```", name="get_user", number="42"),
        frame.format(code="```\nfor i in range(10):\n    print(i)\n```", name="parse_rows", number="3.14"),
        frame.format(code="    int main() { return 0; }\n    // more", name="Foo.bar", number="1,000,000"),
        frame.format(code="```rust\nfn main() {}\n```", name="x86_64", number="-7"),
    ]
    results = [fingerprinter.fingerprint(text) for text in variants]
    assert {result.frame_tokens for result in results} == {15}
    assert len({result.template for result in results}) == 1
    assert len({result.content for result in results}) == len(variants)
    without_code = fingerprinter.fingerprint(frame.format(code="", name="get_user", number="42"))
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


# -- the opening and closing keys ----------------------------------------------------------------------------


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

"""Cost of turning one request into pattern keys: text fingerprint, label, network prefix, client fingerprint.

``pytest benchmarks/test_fingerprint.py`` runs them (the kernel is compiled before timing starts). Per-call figures
are from Python, wrapper included: what the limiter pays per request. Alongside: the plain-Python twin (what the
kernel replaces), exact-text hashing (the naive key), and datasketch's MinHash over the same shingles (the usual
library for near-duplicates).
"""

from __future__ import annotations

import itertools
import random
import unicodedata

import pytest
import xxhash
from datasketch import MinHash

from patternlimit import Keyring
from patternlimit._kernels.reference import text as text_reference
from patternlimit.fingerprint import TextFingerprint, TextFingerprinter, client_fingerprint, network_prefix
from patternlimit.fingerprint.normalise import normalise

SECRET = b"benchmark secret, not for production"

WORDS = [
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was", "on", "be", "by", "this", "are",
    "or", "from", "at", "which", "an", "but", "not", "have", "has", "had", "were", "can", "all", "their", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "they", "one", "what", "about", "up", "out",
    "into", "than", "them", "model", "system", "data", "learning", "network", "function", "value", "result",
    "process", "method", "approach", "problem", "analysis", "performance", "structure", "information", "training",
    "example", "explain", "summary", "question", "answer", "review",
]  # fmt: skip


def prose(size: int, seed: int = 1) -> str:
    """English-like prose of ``size`` bytes: short common words, a sentence end now and then."""
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        words.append(rng.choice(WORDS) + ("." if rng.random() < 0.07 else ""))
        length += len(words[-1]) + 1
    return " ".join(words)[:size]


def coding_prompt(size: int) -> str:
    """A 2 KB-style coding prompt: a short instruction frame around a fenced block of code."""
    code = "".join(
        f"def step_{index}(rows, limit={index}):\n    return [row for row in rows if row > limit]\n"
        for index in range(200)
    )
    opening = (
        "You are an expert Python programmer. Refactor the following function so that it is faster and add type "
        "hints:\n```python\n"
    )
    closing = "\n```\nReturn only the code, no explanations."
    return opening + code[: size - len(opening) - len(closing)] + closing


def indented(text: str) -> str:
    """Every line indented by four spaces: the indentation step of the normaliser has work to do."""
    return "\n".join("    " + line for line in text.replace(". ", ".\n").split("\n"))


def homoglyphs(text: str) -> str:
    """Cyrillic look-alikes for ``a``, ``e`` and ``o``: the Unicode steps of the normaliser have work to do."""
    return text.translate({ord("a"): "\u0430", ord("e"): "\u0435", ord("o"): "\u043e"})


ACCENTED = "Écris une fonction qui trie les données déjà reçues, vérifie leur intégrité et répond en français. "

PROMPTS = {
    "prose_2k": prose(2048),
    "coding_2k": coding_prompt(2048),
    "indented_prose_2k": indented(prose(1900))[:2048],
    "homoglyph_prose_2k": homoglyphs(prose(2048)),
    "accented_nfd_2k": unicodedata.normalize("NFD", ACCENTED * 20)[:1900],
    "prose_64k": prose(65536),
    "prose_1m": prose(1 << 20),
}


@pytest.fixture(scope="module")
def fingerprinter() -> TextFingerprinter:
    fingerprinter = TextFingerprinter(Keyring(SECRET))
    for text in PROMPTS.values():  # compile (or load) the kernel and fault in every buffer before timing
        fingerprinter.fingerprint(text)
    return fingerprinter


@pytest.mark.parametrize("name", list(PROMPTS))
def test_text_fingerprint(benchmark, fingerprinter, name):
    """The target: under 10 us for 2 KB of prose, wrapper included; flat past ``max_bytes`` (64 KiB)."""
    text = PROMPTS[name]
    result = benchmark(fingerprinter.fingerprint, text)
    benchmark.extra_info["input_bytes"] = len(text.encode())
    benchmark.extra_info["frame_tokens"] = result.frame_tokens
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info["ns_per_byte_fingerprinted"] = round(
            benchmark.stats.stats.min * 1e9 / min(len(text.encode()), fingerprinter.max_bytes), 2
        )


BATCH_TEXTS = 1000
DISTINCT_PROSE = [prose(2048, seed=seed) for seed in range(BATCH_TEXTS)]
"""A thousand different 2 KB prose prompts: what a limiter sees. Repeating one text lets the CPU learn the byte
loop's branches and flatters it (see ``patternlimit._kernels.text``)."""


def test_text_fingerprint_distinct_prose_2k(benchmark, fingerprinter):
    """One call per text over a thousand different 2 KB prompts; the figure is per text."""

    def one_by_one() -> list[TextFingerprint]:
        return [fingerprinter.fingerprint(text) for text in DISTINCT_PROSE]

    results = benchmark(one_by_one)
    assert len(results) == BATCH_TEXTS
    if benchmark.stats:
        benchmark.extra_info["us_per_text_min"] = round(benchmark.stats.stats.min * 1e6 / BATCH_TEXTS, 3)
        benchmark.extra_info["us_per_text_median"] = round(benchmark.stats.stats.median * 1e6 / BATCH_TEXTS, 3)


@pytest.mark.parametrize("name", ["distinct_prose_2k", "coding_2k"])
def test_text_fingerprint_many(benchmark, fingerprinter, name):
    """``fingerprint_many`` over a thousand 2 KB prompts: one kernel call per 256 KiB; the figure is per text."""
    texts = DISTINCT_PROSE if name == "distinct_prose_2k" else [PROMPTS["coding_2k"]] * BATCH_TEXTS
    results = benchmark(fingerprinter.fingerprint_many, texts)
    assert results[:3] == [fingerprinter.fingerprint(text) for text in texts[:3]]
    if benchmark.stats:
        benchmark.extra_info["us_per_text_min"] = round(benchmark.stats.stats.min * 1e6 / BATCH_TEXTS, 3)
        benchmark.extra_info["us_per_text_median"] = round(benchmark.stats.stats.median * 1e6 / BATCH_TEXTS, 3)


@pytest.mark.parametrize("name", ["prose_2k", "indented_prose_2k", "homoglyph_prose_2k", "accented_nfd_2k"])
def test_text_normalise(benchmark, name):
    """The normalisation step alone (its share of ``fingerprint``): case and indentation for ASCII, NFKC and the
    folding table too when there is a non-ASCII character."""
    text = PROMPTS[name]
    benchmark(normalise, text)
    benchmark.extra_info["input_bytes"] = len(text.encode())


def test_text_fingerprint_bytes_input(benchmark, fingerprinter):
    """The same 2 KB of prose as ``bytes``: no UTF-8 encoding step."""
    data = PROMPTS["prose_2k"].encode()
    benchmark(fingerprinter.fingerprint, data)


def test_text_label(benchmark, fingerprinter):
    """The display label (plain Python, off the hot path: computed once per flagged pattern)."""
    benchmark.pedantic(fingerprinter.label, args=(PROMPTS["prose_2k"],), rounds=20, iterations=5)


def test_reference_twin_prose_2k(benchmark, fingerprinter):
    """The plain-Python twin of the kernel on 2 KB of prose: what the kernel replaces."""
    data = PROMPTS["prose_2k"].encode()
    buffers = fingerprinter._buffers
    benchmark.pedantic(
        text_reference.text_fingerprint,
        args=(data, fingerprinter._seeds, buffers.out.copy(), buffers.scratch.copy()),
        rounds=5,
        iterations=2,
    )


def test_peer_exact_text_hash_prose_2k(benchmark):
    """The naive pattern key, the exact text's keyed hash: cheap, but every filler is a new key."""
    text = PROMPTS["prose_2k"]
    benchmark(lambda: xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"), 12345) >> 1)


def test_peer_datasketch_minhash_prose_2k(benchmark):
    """datasketch MinHash (64 permutations) over the word bigrams of 2 KB of prose, tokenizing included."""
    text = PROMPTS["prose_2k"]

    def minhash() -> MinHash:
        words = text.lower().split()
        sketch = MinHash(num_perm=64, seed=1)
        sketch.update_batch([f"{first} {second}".encode() for first, second in itertools.pairwise(words)])
        return sketch

    benchmark(minhash)


def test_network_prefix_cached(benchmark):
    network_prefix("203.0.113.7")
    benchmark(network_prefix, "203.0.113.7")


def test_network_prefix_new_addresses(benchmark):
    """Addresses never seen before: the ``ipaddress`` parse behind the cache."""
    counter = iter(range(1 << 30))

    def next_address() -> str | None:
        index = next(counter)
        return network_prefix(f"2001:db8:{index >> 16 & 0xFFFF:x}:{index & 0xFFFF:x}::1")

    benchmark(next_address)


def test_client_fingerprint_headers(benchmark):
    headers = [
        ("host", "api.example.com"),
        ("user-agent", "OpenAI/Python 1.35.3"),
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("authorization", "Bearer sk-xxx"),
        ("x-stainless-lang", "python"),
        ("x-stainless-package-version", "1.35.3"),
        ("x-stainless-os", "Linux"),
        ("content-length", "1234"),
    ]
    benchmark(client_fingerprint, headers)

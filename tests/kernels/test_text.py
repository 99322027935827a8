"""The text fingerprint kernel equals its plain-Python twin bit for bit, and never reads outside its input."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit._kernels import text as kernels
from patternlimit._kernels.hashing import mix64_py
from patternlimit._kernels.reference import text as reference
from patternlimit._kernels.simhash import PLANES

# Pieces that exercise every rule and its edge: fences (closed, open, long), quotes (closed, unclosed, escaped,
# inside words), URLs (any case, cut short), numbers with separators, identifiers of each kind, apostrophes,
# indentation (spaces, tabs, blank indented lines), CRLF, NUL, invalid UTF-8 and non-ASCII letters.
FRAGMENTS = [
    "the", "Write", "a", "Python", "function", "THAT", "é", "日本", "don't", "students'", "O'Brien",
    "42", "3.14", "1,000", "1,a", "1.", "v2", "x86_64", "foo_bar", "getUser", "JSONParser", "a.b", "e.g.",
    "src/app.py", "C:\\dir\\x", "me@host.org", "--flag", "well-known",
    "http://example.com/a?b=1", "HTTPS://X.Y", "https:/", "http", "http:", "httpx://z",
    '"quoted text"', "'single'", "`tick`", '"unclosed', "'", '"', "`", "\\", '"esc\\"aped"',
    "```", "```python\n", "\n```\n", "````", "``",
    " ", "  ", "\t", "\n", "\r\n", "\n    ", "\n\t", "\n        ", "\n    \n", "    ",
    ",", ".", ":", ";", "!", "?", "(", ")", "{", "}", "-", "/", "@", "_",
]  # fmt: skip
RAW_FRAGMENTS = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\x0b", b"\x0c"]

SEEDS = np.array([0x0123456789ABCDEF, 0xFEDCBA9876543210, 0x5555AAAA5555AAAA, 0xFFFFFFFFFFFFFFFF], np.uint64)

PROMPTS = [
    b"",
    b"   \n\t\n  ",
    b"```python\nprint('only code')\n```",
    b"Write a Python function that sorts 3 lists by their 2nd element. Return only code.",
    b"You are an expert reviewer.\n\nReview this:\n```diff\n- a\n+ b\n```\nIs `x` used? See https://a.b/c. Thanks!",
    "Traduis « bonjour » en japonais : こんにちは. Réponds en 1 mot.".encode(),
    b"Fix this:\n    def f(x):\n        return x+1\n\tprint(f(2))\nIt fails with TypeError: 'int' object.",
    b"Compute 1, 2, 3, 4 and 5.5 then call getValue() on obj.attr with foo_bar=1",
    b"\xff\xfe invalid \x00 utf8 \xc3( bytes 'quoted \xff' end",
    b"a " * 500,
]


def run(module: object, data: bytes, edge_tokens: int = 8, bands: int = 4, seeds: np.ndarray = SEEDS) -> list[int]:
    """``out`` of one call, as Python ints; ``scratch`` starts dirty, as it will in the wrapper's reused buffers."""
    out = np.full(kernels.OUT_BANDS + bands, 0xDEAD, dtype=np.uint64)
    scratch = np.full(PLANES + edge_tokens, 0xBEEF, dtype=np.uint64)
    module.text_fingerprint(data, seeds, out, scratch)  # type: ignore[attr-defined]
    return out.tolist()


@st.composite
def prompt_bytes(draw: st.DrawFn) -> bytes:
    """Text built from the fragments above, raw bytes, or both."""
    pieces = draw(st.lists(st.sampled_from(FRAGMENTS).map(str.encode) | st.sampled_from(RAW_FRAGMENTS), max_size=60))
    joiner = draw(st.sampled_from([b"", b" ", b"\n"]))
    return joiner.join(pieces)


CONFIG = st.tuples(st.integers(1, 12), st.sampled_from([1, 2, 4, 8]))


@settings(max_examples=400, deadline=None)
@given(data=prompt_bytes(), config=CONFIG)
def test_kernel_matches_reference_on_generated_prompts(data, config):
    edge_tokens, bands = config
    assert run(kernels, data, edge_tokens, bands) == run(reference, data, edge_tokens, bands)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), config=CONFIG, seed=st.integers(0, (1 << 64) - 1))
def test_kernel_matches_reference_on_arbitrary_bytes(data, config, seed):
    edge_tokens, bands = config
    seeds = np.array([seed, seed ^ 1, seed ^ 2, seed ^ 3], dtype=np.uint64)
    assert run(kernels, data, edge_tokens, bands, seeds) == run(reference, data, edge_tokens, bands, seeds)


RUN_ENDS = [b" ", b"  ", b"\n", b".", b". ", b",", b"'", b"' ", b"/", b"\\", b"@",
            b"-", b"1", b"_", b"\xc3\xa9", b"\t", b"`", b'"', b"://", b""]  # fmt: skip


@st.composite
def letter_runs(draw: st.DrawFn) -> bytes:
    """Runs of ASCII letters of every length around the kernel's 8-byte steps (camelCase and capitals included),
    ended by every kind of byte that can end or continue a run: the cases where its word fast path must hand over
    to the byte loop."""
    pieces = []
    for _ in range(draw(st.integers(0, 12))):
        length = draw(st.integers(1, 26))
        pieces.append(bytes(draw(st.lists(st.sampled_from(b"abcxyzABCXYZ"), min_size=length, max_size=length))))
        pieces.append(draw(st.sampled_from(RUN_ENDS)))
    return draw(st.sampled_from([b"", b"http", b"x"])) + b"".join(pieces)


@settings(max_examples=400, deadline=None)
@given(data=letter_runs(), config=CONFIG)
def test_kernel_matches_reference_on_letter_runs(data, config):
    edge_tokens, bands = config
    assert run(kernels, data, edge_tokens, bands) == run(reference, data, edge_tokens, bands)


def run_many(module: object, texts: list[bytes], edge_tokens: int = 8, bands: int = 4) -> list[list[int]]:
    """``out`` rows of one batch call over ``texts`` (joined, with offsets), as Python ints."""
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(text) for text in texts])
    out = np.full((len(texts), kernels.OUT_BANDS + bands), 0xDEAD, dtype=np.uint64)
    scratch = np.full(PLANES + edge_tokens, 0xBEEF, dtype=np.uint64)
    module.text_fingerprint_many(b"".join(texts), offsets, SEEDS, out, scratch)  # type: ignore[attr-defined]
    return out.tolist()


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(prompt_bytes() | letter_runs() | st.binary(max_size=40), max_size=8), config=CONFIG)
def test_batch_kernel_equals_one_call_per_text(texts, config):
    """Each row is what the single-text kernel gives that text alone: no state and no byte crosses a boundary
    (a quote, fence, URL or word at the end of one text never reaches into the next)."""
    edge_tokens, bands = config
    expected = [run(kernels, text, edge_tokens, bands) for text in texts]
    assert run_many(kernels, texts, edge_tokens, bands) == expected
    assert run_many(reference, texts, edge_tokens, bands) == expected


def test_batch_kernel_keeps_texts_apart():
    texts = [b"an 'open quote", b"closed' here", b"```", b"fenced code\n```", b"", b"http", b"://x.y", b"abcdefgh"]
    rows = run_many(kernels, texts)
    assert rows == [run(kernels, text) for text in texts]
    assert rows[4] == run(kernels, b"") and rows[4][: kernels.OUT_BANDS] == [0] * kernels.OUT_BANDS
    assert run_many(kernels, []) == []


@pytest.mark.parametrize("data", PROMPTS, ids=range(len(PROMPTS)))
@pytest.mark.parametrize(("edge_tokens", "bands"), [(1, 1), (8, 4), (3, 8), (64, 2)])
def test_kernel_matches_reference_on_handwritten_prompts(data, edge_tokens, bands):
    assert run(kernels, data, edge_tokens, bands) == run(reference, data, edge_tokens, bands)


def test_kernel_matches_reference_on_a_long_text():
    """Thousands of shingles: the bit-sliced counters carry through many planes and flush many times."""
    rng = random.Random(7)
    words = [f"v{rng.randrange(50)}x" if rng.random() < 0.1 else "word" * rng.randint(1, 3) for _ in range(6000)]
    data = " ".join(words).encode()
    assert run(kernels, data) == run(reference, data)
    # Words are frame tokens; identifiers ("v12x") collapse when they follow one another.
    is_identifier = [word.startswith("v") for word in words]
    expected = sum(
        1 for index in range(len(words)) if not (index and is_identifier[index] and is_identifier[index - 1])
    )
    assert run(kernels, data)[kernels.OUT_FRAME_TOKENS] == expected


def test_outputs_follow_the_documented_layout():
    template, simhash, frame_tokens, code_runs, opening, closing, *bands = run(kernels, PROMPTS[4])
    tokens = reference.tokenize(PROMPTS[4])
    assert frame_tokens == sum(1 for kind, _ in tokens if kind != kernels.KIND_CODE) > 0
    if frame_tokens > 2 * 8:
        assert 0 < opening < 1 << 63 and 0 < closing < 1 << 63 and len({template, opening, closing}) == 3
    else:
        assert opening == closing == 0
    assert code_runs == 1 and 0 < template < 1 << 63
    assert bands == reference.band_keys(simhash, int(SEEDS[kernels.SEED_BAND]), 4)
    assert all(0 <= key < 1 << 63 for key in bands)
    assert run(kernels, b"")[:6] == [0, 0, 0, 0, 0, 0]
    assert run(kernels, b"single")[kernels.OUT_SIMHASH] == 0  # one token: no bigram


def test_word_hash_is_the_keyed_chunk_chain():
    """Known answers: full 8-byte chunks chained from the token seed, then the rest with the length on top."""
    seed = 0x0123456789ABCDEF
    assert reference.word_hash(b"hello", seed) == mix64_py(seed ^ int.from_bytes(b"hello", "little") ^ 5 << 56)
    state = mix64_py(seed ^ int.from_bytes(b"question", "little"))
    assert reference.word_hash(b"question", seed) == mix64_py(state ^ 8 << 56)
    assert reference.word_hash(b"questions", seed) == mix64_py(state ^ ord("s") ^ 9 << 56)
    long_word = b"x" * 300  # the length enters modulo 256, in the byte no chunk of the rest reaches
    assert reference.word_hash(long_word, seed) != reference.word_hash(long_word[:-8], seed)


WORDS_1_TO_33 = [
    bytes(random.Random(length).choices(b"abcdefghijklmnopqrstuvwxyz", k=length)) for length in range(1, 34)
]


@pytest.mark.parametrize("word", WORDS_1_TO_33, ids=len)
def test_word_hash_depends_on_the_token_seed(word):
    """The seed enters before the first chunk: another deployment secret gives another hash for every word, and
    the kernel's keys change with the token seed alone."""
    hashes = {reference.word_hash(word, int(seed)) for seed in SEEDS}
    assert len(hashes) == len(SEEDS)
    other = SEEDS.copy()
    other[kernels.SEED_TOKEN] ^= np.uint64(1)
    text = word + b" and " + word.upper()
    assert run(kernels, text, seeds=other) == run(reference, text, seeds=other)
    assert run(kernels, text, seeds=other)[kernels.OUT_TEMPLATE] != run(kernels, text)[kernels.OUT_TEMPLATE]


@pytest.mark.parametrize("word", WORDS_1_TO_33, ids=len)
def test_fast_path_and_byte_loop_hash_a_word_alike(word):
    """The 8-byte fast path (8 bytes or more left) and the byte loop (a word at the end of the text, or one that
    has to be handed back) give a word the same token hash, at every alignment and whatever ends it."""
    expected = run(reference, word)[kernels.OUT_TEMPLATE]
    camel = word[:1] + word[1:].upper()  # "xYZ": a camelCase step, so an identifier, not a word
    for text in [
        word,  # the byte loop only (or the fast path handing back near the end)
        word.upper(),
        word.capitalize() + b" " * 16,  # the fast path
        *[b"," * offset + word + b" " * 9 for offset in range(8)],  # every alignment of the 8-byte steps
        word + b".",
        word + b". " + b"," * 8,
        word + b"'",
        word + b"\n" + b" " * 8,
        word + b" " + camel,  # a placeholder follows: another template, checked below
    ]:
        fingerprint = run(kernels, text)
        assert fingerprint == run(reference, text), text
        if camel not in text:
            assert fingerprint[kernels.OUT_TEMPLATE] == expected, text


def test_words_of_up_to_seven_bytes_never_collide():
    """With no full chunk, a word's hash is ``mix64`` (a bijection) of its seed-masked bytes and length, so no two
    such words collide under any secret; nor can one equal a placeholder, whose salted kind has a top byte >= 8."""
    alphabet = [bytes([value]) for value in b"abcdefghijklmnopqrstuvwxyz'"] + [b"\xc3"]
    words = [b"".join(letters) for size in (1, 2, 3) for letters in itertools.product(alphabet, repeat=size)]
    words += [b"abcdefg", b"abcdef", b"abcdefa"]
    seed = int(SEEDS[kernels.SEED_TOKEN])
    assert len({reference.word_hash(word, seed) for word in words}) == len(words)
    for kind in (kernels.KIND_NUMBER, kernels.KIND_IDENTIFIER, kernels.KIND_STRING, kernels.KIND_URL):
        assert (kind * int(kernels.PLACEHOLDER_SALT)) % (1 << 64) >> 56 >= 8


_REAL_TOKENIZE = reference.tokenize


def _uncollapsed_tokenize(data: bytes) -> list[tuple[int, bytes]]:
    """A deliberately broken tokenizer: each number and string placeholder comes out twice, as if a repeat were
    not collapsed."""
    tokens = _REAL_TOKENIZE(data)
    return [
        token for token in tokens for _ in range(2 if token[0] in (kernels.KIND_NUMBER, kernels.KIND_STRING) else 1)
    ]


def test_comparison_detects_a_twin_that_does_not_collapse_placeholders(monkeypatch):
    monkeypatch.setattr(reference, "tokenize", _uncollapsed_tokenize)
    assert any(run(kernels, data) != run(reference, data) for data in PROMPTS)


def test_comparison_detects_a_twin_that_skips_a_shingle(monkeypatch):
    real_simhash = reference.simhash
    monkeypatch.setattr(reference, "simhash", lambda features: real_simhash(features[1:]))
    differs = [run(kernels, data)[kernels.OUT_SIMHASH] != run(reference, data)[kernels.OUT_SIMHASH] for data in PROMPTS]
    assert sum(differs) >= 3


def test_comparison_detects_a_twin_that_leaves_out_the_word_length(monkeypatch):
    def hash_without_length(text: bytes, token_seed: int) -> int:
        state = token_seed
        for start in range(0, len(text) - len(text) % 8, 8):
            state = mix64_py(state ^ int.from_bytes(text[start : start + 8], "little"))
        return mix64_py(state ^ int.from_bytes(text[len(text) - len(text) % 8 :], "little"))

    monkeypatch.setattr(reference, "word_hash", hash_without_length)
    with_words = [data for data in PROMPTS if any(kind == kernels.KIND_WORD for kind, _ in reference.tokenize(data))]
    assert len(with_words) >= 6
    assert all(run(kernels, data) != run(reference, data) for data in with_words)


@pytest.mark.slow
def test_kernel_reads_only_inside_its_input_under_boundscheck(tmp_path):
    """Compiled afresh with numba's bounds checking on, the kernel raises nothing on adversarial input."""
    script = textwrap.dedent(
        """
        import random, numpy as np
        from patternlimit._kernels import text as kernels
        rng = random.Random(11)
        alphabet = [b"`", b"```", b"'", b'"', b"\\\\", b"h", b"http://", b"https://", b"a", b"1", b".", b",",
                    b"abcdefg", b"XyZ", b"aB", b"'", b"/", b" ", b"    ", b"\\t", b"\\n", b"\\xff", b"_", b"A"]
        seeds = np.arange(4, dtype=np.uint64)
        for trial in range(3000):
            data = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
            for edge in (1, 3):
                kernels.text_fingerprint(data, seeds, np.zeros(6, np.uint64), np.zeros(32 + edge, np.uint64))
            cut = rng.randrange(0, len(data) + 1)
            offsets = np.array([0, cut, len(data)], dtype=np.int64)
            kernels.text_fingerprint_many(data, offsets, seeds, np.zeros((2, 7), np.uint64), np.zeros(33, np.uint64))
        print("ok")
        """
    )
    environment = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=environment, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"

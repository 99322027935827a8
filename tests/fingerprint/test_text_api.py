"""The text fingerprinter as callers use it: nothing breaks on hostile or unusual input, batches equal single
calls, bad configuration names its field, threads agree, every key depends on the deployment secret, and labels
show the masked template."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import patternlimit.fingerprint
from patternlimit import Keyring
from patternlimit.errors import ConfigurationError
from patternlimit.fingerprint import TextFingerprint, TextFingerprinter
from tests.fingerprint.prompts import SECRET, campaign_prompt, corpus, free_form, word

# -- hostile and unusual input -------------------------------------------------------------------------------


def test_empty_and_blank_text_have_no_template_and_no_bands(fingerprinter):
    for text in ("", "   ", "\n\n\t  \r\n", b"", b"\x0b\x0c"):
        result = fingerprinter.fingerprint(text)
        assert result.template == 0 and result.bands == () and result.frame_tokens == 0
    # Normalised, a blank text is blank whatever its whitespace: one content key.
    assert fingerprinter.fingerprint("").content == fingerprinter.fingerprint(" ").content
    assert fingerprinter.fingerprint("").content != fingerprinter.fingerprint("a").content


def test_only_code_has_no_frame(fingerprinter):
    result = fingerprinter.fingerprint("```python\nimport os\nprint(os.getcwd())\n```")
    assert result == TextFingerprint(0, (), result.content, 0)
    # Indentation common to every line is not payload: indented, the same lines have the same frame.
    indented = fingerprinter.fingerprint("    x = 1\n    y = 2\n")
    assert indented.frame_tokens == 4
    assert indented.template == fingerprinter.fingerprint("x = 1\ny = 2\n").template
    assert fingerprinter.fingerprint("Fix this:\n    x = 1\n    y = 2\n").frame_tokens == 2


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
    code = "from tests.fingerprint.test_text_api import keys_of, SECRET, PROMPT; print(keys_of(SECRET, PROMPT))"
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
    # The bidi override is removed before fingerprinting, so the label (the key's tokens) does not show it.
    assert "caf\\xe9" in fingerprinter.label(hostile) and "\\u202e" not in fingerprinter.label(hostile)


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

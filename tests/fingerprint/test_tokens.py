"""The plain-Python tokenizer masks as the kernel's docstring says (tests/kernels/test_text.py holds the kernel to
it, bit for bit)."""

from __future__ import annotations

from patternlimit._kernels.text import KIND_CODE, KIND_IDENTIFIER, KIND_NUMBER, KIND_STRING, KIND_URL, KIND_WORD
from patternlimit.fingerprint.tokens import tokenize


def test_tokenizer_masks_as_documented():
    tokens = tokenize(
        b"Sort 3.5 and 1,000 items: foo_bar getUser a.b v2 'x' \"y\" `z` http://u.v/w don't\n    code\n```\nmore\n```"
    )
    kinds = [kind for kind, _ in tokens]
    assert tokens[0] == (KIND_WORD, b"sort")
    assert kinds == [
        KIND_WORD,
        KIND_NUMBER,  # 3.5
        KIND_WORD,  # and
        KIND_NUMBER,  # 1,000
        KIND_WORD,  # items
        KIND_IDENTIFIER,  # foo_bar, getUser, a.b, v2 collapse into one
        KIND_STRING,  # 'x' "y" `z` collapse into one
        KIND_URL,
        KIND_WORD,  # don't
        KIND_CODE,  # the indented line and the fence: one payload run
    ]
    assert tokens[-2] == (KIND_WORD, b"don't")

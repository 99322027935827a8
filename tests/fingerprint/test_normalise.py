import unicodedata

import pytest

from patternlimit.fingerprint.normalise import FOLDING, normalise, normalise_bytes


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("\u0430", "a"),  # Cyrillic a
        ("\u0435", "e"),  # Cyrillic ie
        ("\u043e", "o"),  # Cyrillic o
        ("\u0440", "p"),  # Cyrillic er
        ("\u0441", "c"),  # Cyrillic es
        ("\u0456", "i"),  # Cyrillic byelorussian-ukrainian i
        ("\u0410", "a"),  # Cyrillic capital A
        ("\u041c", "m"),  # Cyrillic capital em: TR39 gives M, folded, never ASCII's own m -> rn
        ("\u03bf", "o"),  # Greek omicron
        ("\u039f", "o"),  # Greek capital omicron
        ("\u03b1", "a"),  # Greek alpha
        ("\u200b", ""),  # zero-width space
        ("\u200d", ""),  # zero-width joiner
        ("\u2060", ""),  # word joiner
        ("\ufeff", ""),  # byte-order mark
        ("\u202e", ""),  # right-to-left override
        ("\u00a0", " "),  # no-break space
        ("\u3000", " "),  # ideographic space
        ("\u2028", "\n"),  # line separator
    ],
)
def test_the_shipped_table_folds_known_pairs(source, target):
    assert FOLDING[ord(source)] == target
    assert normalise(f"x{source}y") == f"x{target}y"


def test_the_table_never_remaps_ascii_and_keeps_distinct_letters():
    assert all(code >= 0x80 for code in FOLDING)
    # Letters that look like no Latin letter stay themselves: Russian prose is not turned into noise.
    assert normalise("\u0434\u0436") == "\u0434\u0436"
    assert normalise("caf\u00e9") == "caf\u00e9"


def test_nfd_and_nfc_and_compatibility_forms_normalise_alike():
    composed = "Caf\u00e9 na\u00efve r\u00e9sum\u00e9"
    assert (
        normalise(unicodedata.normalize("NFD", composed))
        == normalise(composed)
        == "caf\u00e9 na\u00efve r\u00e9sum\u00e9"
    )
    assert normalise("\uff37rite") == "write"  # fullwidth W


def test_common_indentation_goes_and_relative_indentation_stays():
    assert normalise("    Fix this:\n        x = 1\n    Thanks") == "fix this:\n    x = 1\nthanks"
    assert normalise("\tFix\n\tit") == "fix\nit"
    assert normalise("Fix this:\n    x = 1") == "fix this:\n    x = 1"


def test_bytes_follow_text_and_invalid_utf8_passes_through():
    text = "  \u0421ase\u200b F\u043eld"
    assert normalise_bytes(text.encode()) == normalise(text).encode()
    assert normalise_bytes(b"\xff\xfeAB \xc3") == b"\xff\xfeab \xc3"
    assert normalise("\ud800X") == "\ud800x"

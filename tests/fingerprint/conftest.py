"""The fingerprinter the text tests share (one per module: building it derives the keyring's seeds)."""

from __future__ import annotations

import pytest

from patternlimit import Keyring
from patternlimit.fingerprint import TextFingerprinter
from tests.fingerprint.prompts import SECRET


@pytest.fixture(scope="module")
def fingerprinter() -> TextFingerprinter:
    return TextFingerprinter(Keyring(SECRET))

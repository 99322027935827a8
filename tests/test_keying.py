"""The deployment secret: seeds and keys are stable for one secret, unrelated across secrets, never guessable."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

import patternlimit.keying as keying
from patternlimit.errors import ConfigurationError
from patternlimit.keying import Keyring, keyed_hash
from patternlimit.sketches.countmin import CountMinSketch

SECRET = b"correct horse battery staple 2026"


def cells_of(secret: bytes, key_text: str) -> list[int]:
    """The count-min cells that ``key_text`` touches under ``secret``."""
    ring = Keyring(secret)
    sketch = CountMinSketch(width=1 << 16, depth=4, seed=ring.seed("countmin"))
    sketch.add(keyed_hash(key_text, ring.seed("template")), 0.0)
    return np.nonzero(sketch._counters)[1].tolist()


def test_different_secrets_give_different_indices_for_the_same_key():
    assert cells_of(SECRET, "Write a Python function that {X}") != cells_of(
        SECRET + b"!", "Write a Python function that {X}"
    )


def test_same_secret_gives_the_same_indices_in_another_process():
    code = "from tests.test_keying import cells_of, SECRET; print(cells_of(SECRET, 'Write a Python function that {X}'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == str(cells_of(SECRET, "Write a Python function that {X}"))


def test_seeds_are_per_purpose_and_64_bit():
    ring = Keyring(SECRET)
    seeds = {ring.seed(purpose) for purpose in ("countmin", "spread", "topk", "template", "ip")}
    assert len(seeds) == 5
    assert all(0 <= seed < 1 << 64 for seed in seeds)
    assert Keyring(SECRET).seed("countmin") == ring.seed("countmin")
    assert Keyring(SECRET.decode()).seed("countmin") == ring.seed("countmin")


def test_keyed_hash_is_63_bit_and_takes_bytes_str_and_lone_surrogates():
    seed = Keyring(SECRET).seed("template")
    assert keyed_hash("héllo", seed) == keyed_hash("héllo".encode(), seed)
    assert 0 <= keyed_hash("\udc80 lone surrogate", seed) < 1 << 63
    assert keyed_hash("abc", seed) != keyed_hash("abc", seed + 1)


def test_the_secret_id_is_stable_and_does_not_reveal_the_secret():
    assert Keyring(SECRET).id == Keyring(SECRET).id != Keyring(SECRET + b"x").id
    assert SECRET.hex()[:8] not in Keyring(SECRET).id and len(Keyring(SECRET).id) == 8


def test_short_or_wrongly_typed_secrets_are_rejected():
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        Keyring(b"short")
    with pytest.raises(ConfigurationError, match="bytes or str"):
        Keyring(12345)  # type: ignore[arg-type]


def test_missing_secret_is_an_error_when_required(monkeypatch):
    monkeypatch.delenv(keying.SECRET_ENV, raising=False)
    with pytest.raises(ConfigurationError, match="secret is required"):
        Keyring(None, required=True)


def test_secret_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv(keying.SECRET_ENV, SECRET.decode())
    ring = Keyring()
    assert not ring.generated and ring.seed("x") == Keyring(SECRET).seed("x")


def test_random_secret_is_generated_and_logged_once(monkeypatch, caplog):
    monkeypatch.delenv(keying.SECRET_ENV, raising=False)
    monkeypatch.setattr(keying, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="patternlimit"):
        first, second = Keyring(), Keyring()
    assert first.generated and second.generated
    assert first.seed("countmin") != second.seed("countmin")
    assert [record.message.count("random per-process secret") for record in caplog.records] == [1]

"""SeenFilter: the windowed Bloom filter's class: membership over the window, its bound, fixed memory, validation."""

from __future__ import annotations

import pytest

from patternlimit.errors import ConfigurationError
from patternlimit.sketches import SeenFilter


def test_membership_within_the_window_and_forgetting_after_it():
    seen = SeenFilter(bits=1 << 16, hashes=4, window=60.0, buckets=3, seed=1)
    assert not seen.seen_add(42, 1000.0)
    assert seen.seen_add(42, 1030.0)
    assert seen.seen_add(42, 1059.0)
    assert not seen.seen_add(42, 1200.0)  # more than a window later: forgotten


def test_the_documented_bound_and_fixed_memory():
    seen = SeenFilter(bits=1 << 14, hashes=4, window=60.0, buckets=2, seed=2)
    assert seen.nbytes == (1 << 14) // 8 * 2 + 8 * 3 + 8 * 4
    assert seen.false_positive_rate(0) == 0.0
    assert 0.0 < seen.false_positive_rate(2000) < seen.false_positive_rate(8000) < 1.0
    before = seen.nbytes
    for key in range(20_000):
        seen.seen_add(key, 0.0)
    assert seen.nbytes == before


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"bits": 1000}, "bits"), ({"hashes": 0}, "hashes"), ({"seed": -1}, "seed")]
)
def test_invalid_parameters_name_the_field(kwargs, field):
    with pytest.raises(ConfigurationError, match=field):
        SeenFilter(**{"seed": 1, **kwargs})


def test_bad_arguments_raise_value_error():
    seen = SeenFilter(bits=1 << 10, seed=3)
    with pytest.raises(ValueError, match="key"):
        seen.seen_add(-1, 0.0)
    with pytest.raises(ValueError, match="now"):
        seen.seen_add(1, float("nan"))

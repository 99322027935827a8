"""Hypothesis strategies shared by the kernel and sketch tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

KEY_POOL = st.lists(st.integers(min_value=0, max_value=(1 << 63) - 1), min_size=1, max_size=12, unique=True)

# Steps between successive timestamps: mostly small forward steps, some backward ones (late events, skewed
# clocks) and some far jumps ahead (idle periods longer than any window).
TIME_STEP = st.one_of(
    st.floats(min_value=0.0, max_value=3.0),
    st.floats(min_value=-20.0, max_value=0.0),
    st.just(1e6),
    st.floats(min_value=10.0, max_value=100.0),
)


@st.composite
def timed_stream(draw: st.DrawFn, max_size: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """``(keys uint64[n], times float64[n])``: keys repeat (drawn from a small pool), times wander as above."""
    pool = draw(KEY_POOL)
    indices = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=max_size))
    steps = draw(st.lists(TIME_STEP, min_size=len(indices), max_size=len(indices)))
    start = draw(st.floats(min_value=0.0, max_value=1e9))
    times, now = [], start
    for step in steps:
        now = max(0.0, now + step)
        times.append(now)
    return np.array([pool[i] for i in indices], dtype=np.uint64), np.array(times, dtype=np.float64)

"""The hand-written charts' axes: counts get whole ticks."""

from __future__ import annotations

import re

import pytest

from patternlimit.replay.svg import SERVED, Series, stacked_bars


def _y_labels(svg: str) -> list[str]:
    return re.findall(r'class="tick" text-anchor="end">([^<]*)<', svg)


@pytest.mark.parametrize(
    ("largest", "labels"),
    [
        (10, ["0", "3", "6", "9", "12"]),
        (7, ["0", "2", "4", "6", "8"]),
        (3, ["0", "1", "2", "3", "4"]),
        (95, ["0", "25", "50", "75", "100"]),
        (1800, ["0", "500", "1,000", "1,500", "2,000"]),
    ],
)
def test_bar_charts_of_counts_have_whole_ticks(largest: int, labels: list[str]) -> None:
    svg = stacked_bars("t", [Series("served", SERVED, [1, largest])], [0, 1, 2], x_label="x", y_label="y")
    assert _y_labels(svg) == labels

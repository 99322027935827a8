"""Inline SVG charts, written by hand: stacked bars (timelines, histograms) and lines, with marked positions.

No plotting library and nothing fetched: the report must open from disk on a machine without network. Each
function returns one ``<svg>`` element as text, sized in CSS pixels, with a legend and a few axis ticks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#d1495b", "#edae49", "#00798c", "#30638e", "#8e5572", "#6a994e", "#bc4749", "#5e548e")
SERVED = "#8fbf9f"

WIDTH, HEIGHT = 1080, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 34, 42


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: str
    values: Sequence[float]


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical line at ``position`` (in the x axis's units), labelled."""

    position: float
    label: str
    color: str = "#222"


def stacked_bars(
    title: str,
    series: Sequence[Series],
    edges: Sequence[float],
    *,
    x_label: str,
    y_label: str,
    tick: Callable[[float], str] = lambda value: f"{value:g}",
    markers: Sequence[Marker] = (),
    log_x: bool = False,
    sqrt_y: bool = False,
    x_ticks: Sequence[float] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """Bars between consecutive ``edges`` (one value per bar in each series), stacked in series order. ``sqrt_y``
    draws the y axis on a square-root scale, so that a few patterns next to hundreds still show."""
    bars = len(edges) - 1
    totals = [sum(item.values[index] for item in series) for index in range(bars)]
    top = max(4.0, _nice(max(totals, default=0.0), whole=True))  # bars count requests or patterns: whole ticks
    scale_x = _axis(edges[0], edges[-1], LEFT, width - RIGHT, log_x)
    scale_y = _axis(0.0, top, height - BOTTOM, TOP, False, sqrt_y)
    parts = [_frame(title, width, height), *_y_ticks(top, scale_y, width)]
    for index in range(bars):
        left, right = scale_x(edges[index]), scale_x(edges[index + 1])
        bar_width = max(1.0, right - left - (1.0 if right - left > 3 else 0.0))
        base = 0.0
        for item in series:
            value = item.values[index]
            if value <= 0:
                continue
            upper, lower = scale_y(base + value), scale_y(base)
            parts.append(
                f'<rect x="{left:.1f}" y="{upper:.1f}" width="{bar_width:.1f}" height="{max(0.5, lower - upper):.1f}" '
                f'fill="{item.color}"><title>{escape(item.name)}: {value:,.0f}</title></rect>'
            )
            base += value
    parts += _x_ticks(edges, scale_x, height, tick, log_x, x_ticks)
    parts += _markers(markers, scale_x, height, edges)
    parts += _legend([(item.name, item.color) for item in series], width)
    parts.append(_labels(x_label, y_label, width, height))
    parts.append("</svg>")
    return "\n".join(parts)


def lines(
    title: str,
    xs: Sequence[float],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    tick: Callable[[float], str] = lambda value: f"{value:g}",
    y_tick: Callable[[float], str] = lambda value: f"{value:g}",
    markers: Sequence[Marker] = (),
    log_x: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """One polyline per series over ``xs``; the y axis from 0 to the largest value."""
    top = _nice(max((max(item.values, default=0.0) for item in series), default=0.0))
    scale_x = _axis(xs[0], xs[-1], LEFT, width - RIGHT, log_x)
    scale_y = _axis(0.0, top, height - BOTTOM, TOP, False)
    parts = [_frame(title, width, height), *_y_ticks(top, scale_y, width, y_tick)]
    for item in series:
        points = " ".join(f"{scale_x(x):.1f},{scale_y(y):.1f}" for x, y in zip(xs, item.values, strict=True))
        parts.append(f'<polyline fill="none" stroke="{item.color}" stroke-width="2" points="{points}"/>')
    parts += _x_ticks(xs, scale_x, height, tick, log_x)
    parts += _markers(markers, scale_x, height, xs)
    parts += _legend([(item.name, item.color) for item in series], width)
    parts.append(_labels(x_label, y_label, width, height))
    parts.append("</svg>")
    return "\n".join(parts)


def _frame(title: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>'
        f'<text x="{LEFT}" y="18" class="title">{escape(title)}</text>'
        f'<line x1="{LEFT}" y1="{height - BOTTOM}" x2="{width - RIGHT}" y2="{height - BOTTOM}" stroke="#888"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{height - BOTTOM}" stroke="#888"/>'
    )


def _axis(low: float, high: float, start: float, end: float, log: bool, sqrt: bool = False) -> Callable[[float], float]:
    if log:
        low, high = math.log10(max(low, 1e-12)), math.log10(max(high, 1e-12))
    elif sqrt:
        low, high = math.sqrt(max(low, 0.0)), math.sqrt(max(high, 0.0))
    span = (high - low) or 1.0

    def scale(value: float) -> float:
        position = math.log10(max(value, 1e-12)) if log else math.sqrt(max(value, 0.0)) if sqrt else value
        return start + (position - low) / span * (end - start)

    return scale


def time_ticks(start: float, end: float, count: int = 8) -> list[float]:
    """Tick times between ``start`` and ``end`` (epoch seconds) on a round step: 5 min to 1 day."""
    steps = (300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
    step = next(
        (step for step in steps if (end - start) / step <= count), 86400 * math.ceil((end - start) / 86400 / count)
    )
    first = math.ceil(start / step)
    return [index * step for index in range(first, math.floor(end / step) + 1)]


def _nice(value: float, *, whole: bool = False) -> float:
    """A round axis maximum at or above ``value``, of four round ticks (whole numbers when ``whole``)."""
    return 4 * _round_step(value / 4, whole=whole) if value > 0 else 1.0


def _round_step(value: float, *, whole: bool = False) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (> 0); with ``whole``, a whole
    number (3 rather than 2.5 below 10, at least 1): an axis of counts is not labelled 2, 5, 8 for 2.5, 5, 7.5."""
    power = 10 ** math.floor(math.log10(value))
    steps = (1, 2, 3, 5, 10) if whole and power < 10 else (1, 2, 2.5, 5, 10)
    step = float(next(step * power for step in steps if step * power >= value * 0.9999))
    return max(1.0, step) if whole else step


def _y_ticks(
    top: float, scale: Callable[[float], float], width: int, label: Callable[[float], str] | None = None
) -> list[str]:
    parts = []
    for step in range(5):
        value = top * step / 4
        y = scale(value)
        text = label(value) if label is not None else f"{value:,.0f}" if top >= 4 else f"{value:g}"
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{escape(text)}</text>')
    return parts


def _x_ticks(
    positions: Sequence[float],
    scale: Callable[[float], float],
    height: int,
    label: Callable[[float], str],
    log: bool,
    chosen: Sequence[float] | None = None,
) -> list[str]:
    low, high = positions[0], positions[-1]
    if chosen is not None:
        values = [value for value in chosen if low <= value <= high]
    elif log:
        first, last = math.ceil(math.log10(max(low, 1e-12)) - 1e-9), math.floor(math.log10(max(high, 1e-12)) + 1e-9)
        values = [10.0**power for power in range(first, last + 1)] or [low, high]
    else:
        step = _round_step((high - low) / 6) if high > low else 1.0
        first = math.ceil(low / step - 1e-9)
        values = [index * step for index in range(first, math.floor(high / step + 1e-9) + 1)]
    parts = []
    base = height - BOTTOM
    for value in values:
        x = scale(value)
        parts.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="#888"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{base + 16}" class="tick" text-anchor="middle">{escape(label(value))}</text>'
        )
    return parts


def _markers(
    markers: Sequence[Marker], scale: Callable[[float], float], height: int, positions: Sequence[float]
) -> list[str]:
    parts = []
    low, high = min(positions[0], positions[-1]), max(positions[0], positions[-1])
    shown = [marker for marker in markers if low <= marker.position <= high]
    drawn: set[float] = set()
    right_edge = scale(high)
    for row, marker in enumerate(shown):
        x = scale(marker.position)
        if marker.position not in drawn:
            drawn.add(marker.position)
            parts.append(
                f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{height - BOTTOM}" stroke="{marker.color}" '
                'stroke-width="1.5" stroke-dasharray="5,3"/>'
            )
        # Each label has a row of its own, so labels of nearby lines never overlap; near the right edge the label
        # goes to the left of its line.
        y = TOP + 12 + 13 * (row % 12)
        left = right_edge - x < 6.5 * len(marker.label) + 8
        anchor, offset = ("end", -4) if left else ("start", 4)
        parts.append(
            f'<text x="{x + offset:.1f}" y="{y}" class="marker" fill="{marker.color}" text-anchor="{anchor}">'
            f"{escape(marker.label)}</text>"
        )
    return parts


def _legend(entries: Sequence[tuple[str, str]], width: int) -> list[str]:
    parts = []
    x = float(width - RIGHT)
    for name, color in reversed(entries):
        label = name if len(name) <= 32 else name[:31] + "…"
        x -= 18 + 6.4 * len(label)
        parts.append(f'<rect x="{x:.1f}" y="8" width="11" height="11" fill="{color}"/>')
        parts.append(f'<text x="{x + 15:.1f}" y="18" class="legend">{escape(label)}</text>')
    return parts


def _labels(x_label: str, y_label: str, width: int, height: int) -> str:
    middle = TOP + (height - BOTTOM - TOP) / 2
    return (
        f'<text x="{LEFT + (width - LEFT - RIGHT) / 2:.0f}" y="{height - 6}" class="axis" text-anchor="middle">'
        f"{escape(x_label)}</text>"
        f'<text x="14" y="{middle:.0f}" class="axis" text-anchor="middle" transform="rotate(-90 14 {middle:.0f})">'
        f"{escape(y_label)}</text>"
    )

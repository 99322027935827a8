"""When simulated requests happen: the clock's units, the day's rhythm, Poisson arrivals, working sessions, a
per-account hourly cap, and how busy an account is."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

HOUR = 3600.0
DAY = 86400.0


def _diurnal(time: float, amplitude: float, peak_hour: float) -> float:
    """The day's rate multiplier: ``1 + amplitude * cos(...)``, highest at ``peak_hour`` UTC, mean 1 over a day."""
    return 1.0 + amplitude * math.cos(2.0 * math.pi * ((time % DAY) / HOUR - peak_hour) / 24.0)


def poisson_arrivals(
    rng: random.Random, begin: float, end: float, rate: float, amplitude: float, peak_hour: float
) -> list[float]:
    """Times of a Poisson process of mean ``rate`` per second, modulated by :func:`_diurnal`, in ``[begin, end)``.

    By thinning (Lewis & Shedler, 1979): candidates at the peak rate, each kept with probability
    ``diurnal / peak``, which gives exactly the modulated process.
    """
    peak = 1.0 + amplitude
    times: list[float] = []
    time = begin
    gap = 1.0 / (rate * peak)
    while True:
        time += rng.expovariate(1.0) * gap
        if time >= end:
            return times
        if rng.random() * peak < _diurnal(time, amplitude, peak_hour):
            times.append(time)


def under_cap(rng: random.Random, times: Iterable[float], cap: int, end: float) -> list[float]:
    """``times`` with any request that would make ``cap + 1`` in 3,600 seconds pushed back past the window (and
    the ones after it kept in order), dropping what is pushed to ``end`` or beyond."""
    kept: list[float] = []
    for candidate in times:
        time = max(candidate, kept[-1] + 1.0) if kept else candidate
        if len(kept) >= cap and time - kept[-cap] < HOUR:
            time = kept[-cap] + HOUR + rng.uniform(1.0, 300.0)
        if time >= end:
            break
        kept.append(time)
    return kept


def regional_peak_hour(rng: random.Random) -> float:
    """An afternoon in the account's region, in UTC: the Americas, Europe and Africa, or Asia and Oceania."""
    roll = rng.random()
    centre = 19.0 if roll < 0.45 else (13.0 if roll < 0.8 else 5.0)
    return centre + rng.uniform(-2.0, 2.0)


def activity(rng: random.Random, per_day: float, alpha: float, most: float) -> float:
    """Requests a day: Pareto with shape ``alpha`` (heavy-tailed: most accounts are light, a few very busy),
    scaled so the lightest send ``per_day``, capped at ``most``."""
    return min(most, per_day * rng.paretovariate(alpha))


def sessions(
    rng: random.Random,
    start: float,
    end: float,
    per_day: float,
    mean_length: float,
    mean_gap: float,
    amplitude: float,
    peak_hour: float,
) -> list[float]:
    """Request times of an account that works in sessions: session starts follow the day, and each session holds
    a geometric number of requests (mean ``mean_length``) a few seconds to minutes apart (mean ``mean_gap``)."""
    times: list[float] = []
    continue_probability = 1.0 - 1.0 / mean_length
    for session in poisson_arrivals(rng, start, end, per_day / mean_length / DAY, amplitude, peak_hour):
        time = session
        while time < end:
            times.append(time)
            if rng.random() >= continue_probability:
                break
            time += 5.0 + rng.expovariate(1.0) * mean_gap
    return times

"""The limiter's clock: which time a request (or another process's record) is counted at.

The sketches' clock only moves forward, so one time far ahead would expire every window at once and keep
expiring them for as long as that time is ahead; a time far behind would backdate first sightings, flags and
taints. In ``live`` mode (the default) neither can happen:

* a time more than ``tolerance`` seconds ahead of the wall clock is counted at the limiter's clock (the latest
  time it accepted; the wall clock before the first): the request is still counted and decided, now;
* a time more than ``tolerance`` seconds behind the limiter's clock is counted at that clock, so nothing is
  written in the past.

Clamping rather than refusing keeps every request counted (a skewed upstream clock cannot buy an exemption) and
keeps the hot path free of exceptions for data the caller does not control. ``replay`` mode takes every time as
given, for simulations and log replays that feed historic or future times on purpose.
"""

from __future__ import annotations

import time
from typing import Literal

from patternlimit.errors import ConfigurationError

ClockMode = Literal["live", "replay"]

DEFAULT_TOLERANCE = 300.0
"""Seconds a time may lead the wall clock, or lag the limiter's clock, and still be counted as given: above the
skew of NTP-synchronised hosts and a queue's usual lag, below a window's bucket (600 s in the default preset)."""


class Clock:
    """See the module docstring. ``admit`` is called outside the limiter's lock: two threads may race on
    :attr:`latest`, which then trails the true latest by their difference, well within the tolerance."""

    __slots__ = ("adjusted", "ceiling", "latest", "live", "tolerance")

    def __init__(self, mode: ClockMode = "live", tolerance: float = DEFAULT_TOLERANCE) -> None:
        if mode not in ("live", "replay"):
            raise ConfigurationError(f"clock must be 'live' or 'replay', got {mode!r}")
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 1.0 <= tolerance <= 86400.0:
            raise ConfigurationError(f"clock_tolerance must be seconds in [1, 86400], got {tolerance!r}")
        self.live = mode == "live"
        self.tolerance = float(tolerance)
        self.latest = 0.0
        """The latest time accepted (0 before the first)."""
        self.ceiling = 0.0
        """The wall clock when last read, plus the tolerance: no time above it is accepted. Read again only when a
        time exceeds it (once per tolerance in steady traffic), so a run of times each a little ahead of the last
        cannot walk the clock away from the wall clock."""
        self.adjusted = 0
        """How many times were counted at the limiter's clock instead of their own."""

    def admit(self, now: float, wall: float | None = None) -> float:
        """The time to count ``now`` at (``now`` itself in replay mode). ``wall`` is the wall clock if the caller
        already read it."""
        if not self.live:
            return now
        latest = self.latest
        if now < latest - self.tolerance:
            self.adjusted += 1
            return latest
        if now > self.ceiling:
            if wall is None:
                wall = time.time()
            self.ceiling = wall + self.tolerance
            if now > self.ceiling:
                self.adjusted += 1
                if latest:
                    return latest
                self.latest = wall
                return wall
        if now > latest:
            self.latest = now
        return now

    def bound(self, until: float, horizon: float) -> float:
        """An expiry another process recorded, no later than ``horizon`` (the longest the policy gives) after the
        limiter's clock: a record cannot flag a pattern or taint a network for longer than a local catch would."""
        if not self.live:
            return until
        cap = (self.latest or time.time()) + self.tolerance + horizon
        if until > cap:
            self.adjusted += 1
            return cap
        return until

"""How often each young account has sent each flagged part: persistence on one pattern family, in fixed memory.

A sentence shared by chance (a stock phrase, "think step by step") reaches many new users, each of whom sends it
once or twice among requests of their own; a campaign that assembles its frames from parts sends its role, reasoning
and format lines on every request of every account. :class:`PairCounts` counts requests per (account, part key)
pair, so that a part key acts on an account only once that account has come back to it (``part_hits`` requests).

A count-min sketch of saturating ``uint8`` counters, ``depth`` rows of ``width``, in two generations that rotate
every ``span`` seconds: a count covers the last one to two spans, and a pair is never undercounted within the span
it was counted in (the count-min guarantee: the estimate is at least the true count, and above it by more than
``e * N / width`` with probability at most ``e ** -depth``, for ``N`` pairs counted in the two generations). Nothing is
evicted, so a flood of pairs cannot make it forget a campaign account's count; it can only raise other pairs'
estimates, which acts sooner on an account that is already on a flagged part, never on one that is not. The account
and part keys are keyed hashes of the deployment's secret, so which pairs share a cell cannot be predicted.

Per process, like an account's history: behind a balancer, an account's requests spread over the processes count
separately (a campaign gains at most ``part_hits - 1`` requests per process and flagged part).
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_ROWS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
"""Odd multipliers of the rows' hashes (golden ratio and the xxHash primes)."""


class PairCounts:
    """Requests per (account, key) pair over the last one to two ``span`` seconds; see the module docstring."""

    __slots__ = ("_current", "_depth", "_end", "_previous", "_shift", "span", "width")

    def __init__(self, span: float, *, width: int = 1 << 18, depth: int = 2) -> None:
        if width & (width - 1) or width < 2:
            raise ValueError(f"width must be a power of two >= 2, got {width}")
        if not 1 <= depth <= len(_ROWS):
            raise ValueError(f"depth must be in [1, {len(_ROWS)}], got {depth}")
        self.span = span
        self.width = width
        self._depth = depth
        self._shift = 64 - (width.bit_length() - 1)
        self._current = bytearray(width * depth)
        self._previous = bytearray(width * depth)
        self._end: float | None = None

    @property
    def nbytes(self) -> int:
        return len(self._current) + len(self._previous)

    def hit(self, account: int, key: int, now: float) -> int:
        """Count one request of ``account`` with ``key`` at ``now``; the pair's count, this one included."""
        self._advance(now)
        current, previous, width, shift = self._current, self._previous, self.width, self._shift
        pair = (account * 0xFF51AFD7ED558CCD ^ key) & _MASK
        estimate = 1 << 30
        for row in range(self._depth):
            cell = row * width + (((pair ^ (pair >> 29)) * _ROWS[row] & _MASK) >> shift)
            count = current[cell]
            if count < 255:
                count += 1
                current[cell] = count
            total = count + previous[cell]
            if total < estimate:
                estimate = total
        return estimate

    def _advance(self, now: float) -> None:
        """Rotate the generations when ``now`` passes the current one's end. Time only moves forwards here: an
        earlier ``now`` (another process's record, an out-of-order replay) counts in the current generation."""
        end = self._end
        if end is None:
            self._end = now + self.span
            return
        if now < end:
            return
        if now < end + self.span:
            self._current, self._previous = self._previous, self._current
            self._end = end + self.span
        else:  # more than a whole span idle: both generations are stale
            self._previous[:] = bytes(len(self._previous))
            self._end = now + self.span
        self._current[:] = bytes(len(self._current))

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

from array import array

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
        # The cells of :meth:`_cells`, computed inline: this runs for every flagged part of a young account's
        # request, and the helper's call and list measured 2-4 us more per attack-path request.
        current, previous, width, shift = self._current, self._previous, self.width, self._shift
        pair = (account * 0xFF51AFD7ED558CCD ^ key) & _MASK
        mixed = pair ^ (pair >> 29)
        estimate = 1 << 30
        for row in range(self._depth):
            cell = row * width + ((mixed * _ROWS[row] & _MASK) >> shift)
            count = current[cell]
            if count < 255:
                count += 1
                current[cell] = count
            total = count + previous[cell]
            if total < estimate:
                estimate = total
        return estimate

    def hit_conservative(self, account: int, key: int, now: float) -> int:
        """As :meth:`hit`, with the conservative update: only the rows below the pair's new count rise, and only to
        it, so that pairs sharing a cell inflate each other far less under load (the estimate is still at least the
        true count)."""
        self._advance(now)
        current, previous = self._current, self._previous
        cells = self._cells(account, key)
        target = min(current[cell] + previous[cell] for cell in cells) + 1
        for cell in cells:
            if current[cell] + previous[cell] < target:
                current[cell] = min(255, target - previous[cell])
        return min(current[cell] + previous[cell] for cell in cells)

    def peek(self, account: int, key: int, now: float) -> int:
        """The pair's count as :meth:`hit` would return it, without counting a request."""
        self._advance(now)
        current, previous = self._current, self._previous
        return min(current[cell] + previous[cell] for cell in self._cells(account, key))

    def _cells(self, account: int, key: int) -> list[int]:
        """The pair's cell in each row."""
        width, shift = self.width, self._shift
        pair = (account * 0xFF51AFD7ED558CCD ^ key) & _MASK
        mixed = pair ^ (pair >> 29)
        return [row * width + ((mixed * _ROWS[row] & _MASK) >> shift) for row in range(self._depth)]

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


PERIOD = 1800.0
"""The length of the periods :class:`PeriodCounts` counts: half an hour."""


class PeriodCounts:
    """In how many distinct periods (half-hours) each account has done something, over the last one to two
    ``span`` seconds: persistence over time rather than volume. A session of ten requests in a quarter of an hour
    is one or two periods; a campaign account that comes back every half hour for a day is forty-eight.

    Each account's periods are a count in a :class:`PairCounts`; a period is counted on the account's first mark in
    it. Which accounts were marked in the current period is kept in ``depth`` rows of ``width`` cells, each holding
    the last period marked on it: a mark finds its period new unless every row's cell already holds it. So a new
    period is missed only when, in each row, another account marked in the same period shares the cell (with ``a``
    accounts marked per period, about ``(a / width) ** depth``), which makes the account look less persistent,
    never more; the count's own collisions (count-min with the conservative update) can only add, and the count is
    capped at the periods since ``since`` (when the limiter first saw the account), so a flood that saturates the
    cells cannot make a new user look persistent. Fixed memory (about 3 MiB at the default width), no eviction."""

    __slots__ = ("_counts", "_last", "_shift", "period")

    def __init__(self, span: float, *, period: float = PERIOD, width: int = 1 << 18, depth: int = 2) -> None:
        if not 1 <= depth <= 2:
            raise ValueError(f"depth must be 1 or 2, got {depth}")
        self._counts = PairCounts(span, width=width)
        self._last = [array("I", bytes(4 * width)) for _ in range(depth)]
        self._shift = 64 - (width.bit_length() - 1)
        self.period = period

    @property
    def nbytes(self) -> int:
        return self._counts.nbytes + sum(len(row) * row.itemsize for row in self._last)

    def mark(self, account: int, now: float, since: float) -> int:
        """Count ``account`` as active at ``now``; its periods, this one included, at most those from ``since`` to
        ``now``."""
        index = int(now // self.period)
        period = (index + 1) & 0xFFFFFFFF  # 0 is "never marked"
        new = False
        for row, last in enumerate(self._last):
            cell = ((account ^ (account >> 31)) * _ROWS[row + 2] & _MASK) >> self._shift
            if last[cell] != period:
                new = True
                last[cell] = period
        counts = self._counts
        count = counts.hit_conservative(account, 0, now) if new else counts.peek(account, 0, now)
        return max(1, min(count, index - int(since // self.period) + 1))

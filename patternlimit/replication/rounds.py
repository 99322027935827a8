"""Reading the shared log in rounds: a strict exchange that ships a batch and reads everything logged before it,
up to its own entry and never past it, in as many reads of ``READ_LIMIT`` entries as that takes."""

from __future__ import annotations

from patternlimit.storage.redis_log import Exchanged


class Rounds:
    """The exchanges of one sync, without their I/O (the sync and async paths share it).

    Each batch is shipped in turn; an exchange returns the entries logged between the cursor and the batch it
    appended, at most ``read_limit`` of them. When a read comes back full, the next exchanges ship nothing and
    read on, up to (not past) the id just appended, until one comes back short: so what is applied before a
    decision is exactly what was logged before its record, however far behind the process was.
    """

    def __init__(self, batches: list[bytes], read_limit: int) -> None:
        self.pending = list(batches)
        """Batches not shipped yet (they go back to the journal when an exchange fails)."""
        self.read_limit = read_limit
        self._until: bytes | None = None  # an id appended here, with entries before it still unread

    def next(self) -> tuple[bytes, bytes | None]:
        """The batch to ship next (``b""``: none) and, when shipping none, the id to read up to (None: the end)."""
        if self._until is None and self.pending:
            return self.pending[0], None
        return b"", self._until

    def received(self, batch: bytes, result: Exchanged) -> tuple[bytes | None, bool]:
        """Note one exchange's result: returns the id the cursor may move to once the entries are applied (our
        appended id, when everything before it has been read) and whether the sync is complete."""
        if batch:
            self.pending.pop(0)
            self._until = result.appended
        if len(result.entries) >= self.read_limit:
            return None, False
        reached, self._until = self._until, None
        return reached, not self.pending


def later(first: bytes, second: bytes) -> bool:
    """Whether stream id ``first`` comes after ``second``."""
    a, _, b = first.partition(b"-")
    c, _, d = second.partition(b"-")
    return (int(a), int(b or 0)) > (int(c), int(d or 0))

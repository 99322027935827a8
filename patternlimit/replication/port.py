"""The port through which replication drives a limiter's state, and the status it reports.

:mod:`patternlimit.replication` never imports the engine: the engine hands the replicator an object with these
methods (:class:`patternlimit.engine.shared.SharedState`), and the replicator treats request facts as opaque.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple, Protocol

from patternlimit.policy.decision import Decision
from patternlimit.storage.journal import Batch


class ReplicaPort(Protocol):
    """What a replicator may do to the state it keeps in sync. Every method but :meth:`renew_lock` is called
    with :attr:`lock` held."""

    @property
    def lock(self) -> threading.Lock:
        """The lock around every read or write of the state."""
        ...

    @property
    def secret_id(self) -> str:
        """A keyed fingerprint of the secret (never the secret): processes sharing a namespace must agree on it."""
        ...

    def renew_lock(self) -> None:
        """Replace the lock with a fresh one (in a child process after a fork)."""
        ...

    def decide(self, facts: Any, journaled: bool = False) -> Decision:
        """Observe and decide one request (``journaled``: its observation is already recorded)."""
        ...

    def record(self, facts: Any) -> None:
        """Record one request's observation in the journal."""
        ...

    def apply(self, batch: Batch) -> int:
        """Apply another process's records; returns how many were malformed."""
        ...

    def snapshot(self, labels: bool = True) -> bytes | bytearray:
        """The state, for processes that join later (``labels``: with the pattern labels, else without)."""
        ...

    def restore(self, blob: bytes) -> None:
        """Load a snapshot; raises :class:`~patternlimit.errors.StorageError` if it does not fit."""
        ...


class StorageStatus(NamedTuple):
    """What :attr:`Limiter.storage_status` reports."""

    mode: str
    healthy: bool
    """False from a failed exchange until the next successful one."""
    failures: int
    """Failed exchanges since the limiter started."""
    last_error: str | None
    pending_bytes: int
    """Records kept locally for Redis (encoded), waiting for it to answer."""
    dropped: int
    """Observations dropped because Redis was away longer than ``max_pending_bytes`` of records lasts."""
    applied: int
    """Log entries from other processes applied here."""
    malformed: int
    """Records from the log that could not be applied (corrupt or from an incompatible version)."""
    last_sync: float | None
    """Wall-clock time of the last successful exchange."""

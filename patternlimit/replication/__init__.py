"""Keeping many processes' limiters in sync through a shared log in Redis (see
:mod:`patternlimit.replication.replicator`). Sits below the engine: it drives a limiter only through
:class:`~patternlimit.replication.port.ReplicaPort`."""

from __future__ import annotations

from patternlimit.replication.port import ReplicaPort, StorageStatus
from patternlimit.replication.replicator import Replicator

__all__ = ["ReplicaPort", "Replicator", "StorageStatus"]

"""Keeping many processes' limiters in sync through a shared log in Redis (see
:mod:`patternlimit.replication.replicator`). Sits below the engine: it drives a limiter only through
:class:`~patternlimit.replication.port.ReplicaPort`.

:class:`Replicator` is imported on first use: it needs redis-py, whose import is a large share of a fresh
process's start, and a limiter on ``memory://`` never uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from patternlimit.replication.port import ReplicaPort, StorageStatus

if TYPE_CHECKING:
    from patternlimit.replication.replicator import Replicator

__all__ = ["ReplicaPort", "Replicator", "StorageStatus"]


def __getattr__(name: str) -> Any:
    if name == "Replicator":
        from patternlimit.replication.replicator import Replicator

        return Replicator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

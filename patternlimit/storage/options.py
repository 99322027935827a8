"""Where the limiter's state lives: ``memory://`` (the default) or Redis, and how it is shared.

A storage is named by a URI in ``limits``' style, with patternlimit's options in its query string or in a
``storage_options`` mapping (the mapping wins)::

    memory://
    redis://host:6379/0?mode=eventual&sync_interval=0.1
    rediss://user:password@host:6380/0          (TLS)
    redis+unix:///run/redis.sock?db=0
    redis+cluster://host1:7000,host2:7001       (Redis Cluster)

or an existing ``redis.Redis`` / ``redis.cluster.RedisCluster`` client, or a ``redis.ConnectionPool``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from patternlimit.errors import ConfigurationError

_SCHEMES = ("redis", "rediss", "redis+unix", "redis+cluster")


class StorageOptions(BaseModel):
    """How a Redis-backed limiter shares its state. Every field is documented in docs/storage.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["eventual", "strict"] = "eventual"
    """``eventual``: decide on local state, ship and pull changes every ``sync_interval`` in the background.
    ``strict``: one round trip per decision, which appends the request to the shared log and reads everything
    logged before it, so every process decides on the same state a single process would have."""
    namespace: str = Field("patternlimit", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    """Prefix of every Redis key (in a hash tag, so a namespace's keys share one cluster slot)."""
    sync_interval: float = Field(0.1, ge=0.005, le=60.0)
    """Seconds between background exchanges (both modes; in strict mode it flushes the decisions' events)."""
    timeout: float = Field(0.05, gt=0.0, le=30.0)
    """Socket timeout of every Redis call, seconds."""
    connect_timeout: float = Field(0.05, gt=0.0, le=30.0)
    on_storage_error: Literal["local", "allow", "deny"] = "local"
    """While Redis is unreachable: decide on local state alone (``local``), let every request through
    (``allow``, fail open) or throttle every request (``deny``, fail closed). Counting goes on locally in all three
    and is shipped when Redis is back."""
    backoff_max: float = Field(2.0, gt=0.0, le=300.0)
    """Longest wait between reconnection attempts (exponential from ``sync_interval``, with jitter)."""
    max_pending_bytes: int = Field(64 << 20, ge=1 << 16, le=1 << 34)
    """Local records kept for Redis while it is unreachable; beyond this the oldest are dropped (and counted)."""
    max_log_entries: int = Field(100_000, ge=100, le=10_000_000)
    """Entries kept in the shared log (one entry is one process's batch); older ones are trimmed."""
    share_labels: bool = False
    """Share pattern labels (prompt frames, and account ids, clients or attribute values when a rule counts them)
    through Redis, in records and snapshots. Off: only keyed digests leave the process, and each process labels
    patterns from its own traffic."""
    snapshot_interval: float = Field(60.0, ge=0.0, le=86_400.0)
    """Seconds between snapshots of the full state (for processes that join later); 0 disables them."""


@dataclass(frozen=True, slots=True)
class StorageSpec:
    """A parsed storage: ``kind`` is ``memory`` or ``redis``; ``target`` the URL for redis-py (or a client)."""

    kind: Literal["memory", "redis"]
    target: Any
    cluster: bool
    options: StorageOptions


def parse_storage(storage: object, options: dict[str, Any] | StorageOptions | None = None) -> StorageSpec:
    """Parse a storage URI or client and its options; raises :class:`ConfigurationError` naming what is wrong."""
    query: dict[str, Any] = {}
    target: Any = storage
    cluster = False
    if isinstance(storage, str):
        parts = urlsplit(storage)
        scheme = parts.scheme.lower()
        if scheme == "memory":
            kind: Literal["memory", "redis"] = "memory"
            target = None
        elif scheme in _SCHEMES:
            kind = "redis"
            ours = {field for field in StorageOptions.model_fields}
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            query = {name: value for name, value in pairs if name in ours}
            rest = urlencode([(name, value) for name, value in pairs if name not in ours])
            cluster = scheme == "redis+cluster"
            # redis-py spells the schemes redis://, rediss:// and unix://; a cluster URL takes one seed node.
            plain = {"redis+unix": "unix", "redis+cluster": "redis"}.get(scheme, scheme)
            netloc = parts.netloc.split(",")[0] if cluster else parts.netloc
            target = f"{plain}://{netloc}{parts.path}" + (f"?{rest}" if rest else "")
        else:
            raise ConfigurationError(
                f"storage {storage!r}: unknown scheme {parts.scheme!r}; use memory://, redis://, rediss://, "
                "redis+unix:// or redis+cluster://"
            )
    elif _is_redis_client(storage):
        kind = "redis"
        cluster = type(storage).__name__ == "RedisCluster"
    else:
        raise ConfigurationError(
            f"storage must be a URI string, a redis.Redis or RedisCluster client or a redis.ConnectionPool, "
            f"got {type(storage).__name__}"
        )
    try:
        given = options.model_dump(exclude_unset=True) if isinstance(options, StorageOptions) else (options or {})
        parsed = StorageOptions.model_validate({**query, **given})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"storage options: {problems}") from exc
    return StorageSpec(kind, target, cluster, parsed)


def _is_redis_client(value: object) -> bool:
    module = type(value).__module__
    return bool(re.match(r"^redis(\.|$)", module)) and type(value).__name__ in (
        "Redis",
        "RedisCluster",
        "ConnectionPool",
    )

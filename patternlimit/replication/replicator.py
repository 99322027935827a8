"""Sharing one limiter's state between processes through a log in Redis.

Every process keeps the whole state locally (the sketches, flags, account records and exact-limit counters) and
records what changes it (:mod:`patternlimit.storage.journal`). The records go to one Redis stream per namespace;
every process applies the others' records to its own state. Applying the same records gives the same state, so
every process converges on the state a single process would have after seeing all the traffic.

* **eventual** (default): ``check()`` decides on local state and never waits on the network. A background thread
  ships the journal and applies the others' records every ``sync_interval``. A process sees another's requests at
  most ``sync_interval`` plus one round trip late (the staleness bound).
* **strict**: one round trip per decision (per batch for ``check_many``): a Lua script appends the request's
  record and returns every record logged before it; the process applies those, then decides. Decisions are then
  those of one limiter seeing the requests in log order. A process serialises its strict checks. When more than
  one read's worth (``READ_LIMIT`` entries) was logged before it, the process reads on, up to its own entry and
  not past it, before deciding (:class:`~patternlimit.replication.rounds.Rounds`, shared by ``check`` and ``acheck``).

When Redis fails (timeout, refused, error), the replicator backs off exponentially (``sync_interval`` up to
``backoff_max``, with jitter), keeps recording locally within ``max_pending_bytes``, decides as
``on_storage_error`` says, and ships everything kept when Redis answers again. If Redis came back empty (a new
*generation*), the next snapshot is written at once, so the state counted before the loss is back in Redis for
processes that join later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import threading
import time
import weakref
import zlib
from collections.abc import AsyncGenerator, Sequence

from patternlimit.errors import ConfigurationError, StorageError
from patternlimit.policy.decision import Decision
from patternlimit.replication.fallback import fallback
from patternlimit.replication.port import ReplicaPort, StorageStatus
from patternlimit.replication.rounds import Rounds, later
from patternlimit.storage.journal import Journal, decode
from patternlimit.storage.options import StorageSpec
from patternlimit.storage.redis_log import (
    AsyncRedisLog,
    Exchanged,
    RedisLog,
    Snapshot,
    connect,
    connect_async,
    owns_pool,
)

logger = logging.getLogger("patternlimit.storage")

_LoopClient = tuple[AsyncRedisLog, asyncio.Lock, AsyncGenerator[None, None]]
"""One event loop's asyncio client, the lock that serialises its exchanges, and the generator that closes it."""


class Replicator:
    """The link between one limiter (through its :class:`ReplicaPort`) and the shared log; see the module docstring."""

    def __init__(self, port: ReplicaPort, spec: StorageSpec, ttl: float, journal: Journal) -> None:
        self.port = port
        self.spec = spec
        self.options = spec.options
        self.journal = journal
        journal.share_labels = spec.options.share_labels
        self.producer = secrets.token_hex(8).encode()
        self._secret = port.secret_id.encode()
        self._client = connect(spec)
        self._log = RedisLog(self._client, self.options.namespace, ttl=ttl, max_entries=self.options.max_log_entries)
        self._ttl = ttl
        # One asyncio client per running event loop (a client's connections belong to the loop that opened them):
        # two loops in two threads each keep theirs instead of replacing each other's on every call, and a loop
        # that is closed or gone takes its client with it (weak keys; closed loops are swept when a new one comes).
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = weakref.WeakKeyDictionary()
        self._cursor: bytes | None = None
        self._generation: bytes | None = None
        self._exchange_lock = threading.Lock()
        self._retry_at = 0.0
        self._backoff = 0.0
        self._failures = 0
        self._last_error: str | None = None
        self._applied = 0
        self._malformed = 0
        self._last_sync: float | None = None
        self._snapshot_due = time.monotonic() + self.options.snapshot_interval
        self._force_snapshot = False
        self._stop = threading.Event()
        self._fresh = True
        self._claim_due = 0.0
        self._starting = True
        try:
            with self._exchange_lock:
                self._attempt([], locked=False)  # join now: load the snapshot before any request
        except ConfigurationError:
            self._log.close()
            if isinstance(spec.target, str):
                self._client.close()
            elif owns_pool(spec, self._client):
                self._client.connection_pool.disconnect()
            raise
        self._starting = False
        self._thread = threading.Thread(target=self._run, name="patternlimit-sync", daemon=True)
        self._thread.start()
        _LIVE.add(self)

    # -- fork (gunicorn --preload and the like) ------------------------------------------------------------------

    def _before_fork(self) -> None:
        """Hold both locks across the fork, so that no thread is halfway through a change the child inherits, and
        ship what is pending (bounded by the socket timeout): the child must not count it a second time."""
        self._exchange_lock.acquire()
        self.port.lock.acquire()
        if not self._stop.is_set() and self._due():
            self._attempt(self.journal.drain(), locked=True)

    def _after_fork_in_parent(self) -> None:
        self.port.lock.release()
        self._exchange_lock.release()

    def _after_fork_in_child(self) -> None:
        """The child is a process of its own: a producer id of its own (or the two would skip each other's records
        as their own), fresh locks, a sync thread (threads do not survive a fork), no asyncio client of the
        parent's loop. What the parent could not ship before the fork is the parent's to ship: the child drops it
        (it holds those counts already, and will not read them back as its own)."""
        self._exchange_lock = threading.Lock()
        self.port.renew_lock()
        self.producer = secrets.token_hex(8).encode()
        self._async = weakref.WeakKeyDictionary()
        self.journal.drain()
        if not self._stop.is_set():
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="patternlimit-sync", daemon=True)
            self._thread.start()

    # -- the request path ----------------------------------------------------------------------------------------

    def check(self, facts: Sequence[object]) -> list[Decision]:
        port = self.port
        if self.options.mode == "eventual":
            with port.lock:
                self._fresh = False
                decisions = [port.decide(fact) for fact in facts]
            return decisions if self._retry_at == 0.0 else [self._fallback(decision) for decision in decisions]
        with self._exchange_lock, port.lock:
            self._fresh = False
            for fact in facts:
                port.record(fact)
            healthy = self._due() and self._attempt(self.journal.drain(), locked=True)
            decisions = [port.decide(fact, journaled=True) for fact in facts]
        return decisions if healthy else [self._fallback(decision) for decision in decisions]

    async def acheck(self, facts: Sequence[object]) -> list[Decision]:
        if self.options.mode == "eventual":
            return self.check(facts)
        bound = await self._async_log()
        if bound is None:  # the application passed a synchronous client: keep the loop free with a thread
            return await asyncio.to_thread(self.check, facts)
        log, serial = bound
        port = self.port
        async with serial:
            # The background thread may hold the exchange lock for one round trip: wait without blocking the loop.
            while not self._exchange_lock.acquire(blocking=False):
                await asyncio.sleep(0.001)
            try:
                with port.lock:
                    self._fresh = False
                    for fact in facts:
                        port.record(fact)
                    batches = self.journal.drain() if self._due() else None
                # The port's lock is not held across an await: a coroutine of this loop could wait on it.
                healthy = batches is not None and await self._aattempt(log, batches)
                with port.lock:
                    decisions = [port.decide(fact, journaled=True) for fact in facts]
            finally:
                self._exchange_lock.release()
        return decisions if healthy else [self._fallback(decision) for decision in decisions]

    def _fallback(self, decision: Decision) -> Decision:
        return fallback(decision, self.options.on_storage_error, self._last_error, self._retry_at)

    # -- exchanges -------------------------------------------------------------------------------------------

    def sync(self) -> None:
        """One exchange now, whatever the backoff; raises :class:`StorageError` on failure."""
        with self._exchange_lock:
            batches = self.journal.drain()
            try:
                self._exchange_all(batches, locked=False)
            except StorageError as exc:
                self._failed(exc)
                raise
            except ConfigurationError as exc:  # joined late a namespace of another secret
                failure = StorageError(str(exc))
                self._failed(failure)
                raise failure from exc
            self._succeeded()

    def _due(self) -> bool:
        """Whether Redis may be tried now (not inside a backoff after a failure)."""
        return self._retry_at == 0.0 or time.monotonic() >= self._retry_at

    def _attempt(self, batches: list[bytes], *, locked: bool) -> bool:
        """:meth:`_exchange_all`, with a failure recorded (and the backoff started) instead of raised."""
        try:
            self._exchange_all(batches, locked=locked)
        except StorageError as exc:
            self._failed(exc)
            return False
        except ConfigurationError as exc:
            if self._starting:
                raise  # refused at start: the limiter is not built
            # Joined late (Redis was away at start) a namespace of another secret: never share with it.
            logger.error("%s", exc)
            self._failed(StorageError(str(exc)))
            return False
        self._succeeded()
        return True

    async def _aattempt(self, log: AsyncRedisLog, batches: list[bytes]) -> bool:
        """:meth:`_attempt` on the asyncio client."""
        try:
            await self._aexchange_all(log, batches)
        except StorageError as exc:
            self._failed(exc)
            return False
        self._succeeded()
        return True

    def _exchange_all(self, batches: list[bytes], *, locked: bool) -> None:
        """Ship ``batches`` and read until caught up. The exchange lock is held; ``locked``: the port's lock too.

        On failure the batches not yet shipped go back to the journal and :class:`StorageError` is raised.
        """
        rounds = Rounds(batches, self._log.read_limit)
        try:
            if self._cursor is None:
                self._join(locked)
            while True:
                batch, until = rounds.next()
                result = self._log.exchange(self.producer, batch, self._read_from(), until)
                reached, done = rounds.received(batch, result)
                if locked:
                    self._absorb(result, reached)
                else:
                    with self.port.lock:
                        self._absorb(result, reached)
                if done:
                    return
        except StorageError:
            self.journal.restore(rounds.pending)
            raise

    async def _aexchange_all(self, log: AsyncRedisLog, batches: list[bytes]) -> None:
        """:meth:`_exchange_all` on the asyncio client: the exchange lock is held, the port's lock is not."""
        rounds = Rounds(batches, log.read_limit)
        try:
            if self._cursor is None:
                await asyncio.to_thread(self._claim)
                self._joined(await log.aread_snapshot(), locked=False)
            while True:
                batch, until = rounds.next()
                result = await log.aexchange(self.producer, batch, self._read_from(), until)
                reached, done = rounds.received(batch, result)
                with self.port.lock:
                    self._absorb(result, reached)
                if done:
                    return
        except StorageError:
            self.journal.restore(rounds.pending)
            raise

    def _read_from(self) -> bytes:
        return self._cursor or b"0-0"

    def _join(self, locked: bool) -> None:
        self._claim()
        self._joined(self._log.read_snapshot(), locked)

    def _claim(self) -> None:
        """Check (and refresh) the namespace's secret fingerprint: at join, then every quarter TTL at most, so
        the key outlives no log and a Redis that came back empty is claimed again."""
        self._log.claim_secret(self._secret)
        self._claim_due = time.monotonic() + min(60.0, self._ttl / 4)

    def _joined(self, snapshot: Snapshot | None, locked: bool) -> None:
        """Start from the latest snapshot if there is one (and nothing was counted here yet), else the whole log."""
        self._cursor = b"0-0"
        if snapshot is None or not self._fresh:
            # A process that has counted on its own (Redis was down when it started) keeps its state and reads the
            # whole log instead: loading a snapshot would erase what it counted.
            return
        state = zlib.decompress(snapshot.state)
        if locked:
            self.port.restore(state)
        else:
            with self.port.lock:
                self.port.restore(state)
        self._cursor, self._generation = snapshot.cursor, snapshot.generation

    def _absorb(self, result: Exchanged, reached: bytes | None) -> None:
        """Apply the other processes' entries of ``result`` in log order, then move the cursor to ``reached`` (an
        id of ours that every entry before has now been read up to) if given. The port's lock is held."""
        if self._generation is not None and result.generation != self._generation:
            logger.warning("Redis lost the shared state (new generation): republishing a snapshot")
            self._force_snapshot = True
        self._generation = result.generation
        for entry in result.entries:
            if entry.producer != self.producer:  # own entries come back only when read by a later exchange
                try:
                    self._malformed += self.port.apply(decode(entry.batch))
                except StorageError as exc:
                    self._malformed += 1
                    logger.warning("skipped a shared-log entry %s: %s", entry.id.decode(), exc)
                self._applied += 1
            self._cursor = entry.id
        if reached is not None and (self._cursor is None or later(reached, self._cursor)):
            self._cursor = reached

    def _failed(self, exc: Exception) -> None:
        if self._retry_at == 0.0:
            logger.warning("shared storage unavailable, deciding with on_storage_error=%r: %s",
                           self.options.on_storage_error, exc)  # fmt: skip
        self._failures += 1
        self._last_error = str(exc.__cause__ or exc)[:200]
        self._backoff = min(self.options.backoff_max, max(self.options.sync_interval, self._backoff * 2))
        self._retry_at = time.monotonic() + self._backoff * random.uniform(0.5, 1.0)

    def _succeeded(self) -> None:
        if self._retry_at != 0.0:
            logger.warning("shared storage is back after %d failed exchanges", self._failures)
        self._retry_at, self._backoff = 0.0, 0.0
        self._last_sync = time.time()

    # -- background ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self.options.sync_interval):
            if not self._due():
                continue
            with self._exchange_lock:
                taken = None
                if self._attempt(self.journal.drain(), locked=False):
                    self._maybe_claim()
                    taken = self._take_snapshot()
            if taken is not None:  # compressed and written outside the locks: checks never wait on it
                self._write_snapshot(*taken)

    def _maybe_claim(self) -> None:
        if time.monotonic() < self._claim_due:
            return
        try:
            self._claim()
        except StorageError as exc:
            self._failed(exc)
        except ConfigurationError as exc:  # Redis restarted empty and another secret claimed it first
            logger.error("%s", exc)
            self._failed(StorageError(str(exc)))

    def _take_snapshot(self) -> tuple[bytes | bytearray, bytes, bytes] | None:
        """The state and cursor of a snapshot when one is due, and the generation it belongs to (the exchange lock
        is held, right after a successful exchange); None when none is due or another process writes them."""
        interval = self.options.snapshot_interval
        if interval <= 0 or self._generation is None:
            return None
        if not self._force_snapshot and time.monotonic() < self._snapshot_due:
            return None
        self._snapshot_due = time.monotonic() + interval
        try:
            # Only the process that holds the snapshot lock copies its state (under the port's lock, which its
            # checks wait on): after Redis comes back empty, the others would each stall to build one in vain.
            if not self._log.snapshot_lock(self.producer, interval):
                self._force_snapshot = False
                return None
        except StorageError as exc:
            self._failed(exc)
            return None
        with self.port.lock:
            # The snapshot must hold exactly the log up to its cursor: what was counted here since the last
            # exchange is shipped first (a joiner would count it twice, from the snapshot and from the log).
            if self.journal.has_pending() and not self._attempt(self.journal.drain(), locked=True):
                return None
            state, cursor = self.port.snapshot(self.options.share_labels), self._cursor or b"0-0"
        return state, cursor, self._generation

    def _write_snapshot(self, state: bytes | bytearray, cursor: bytes, generation: bytes) -> bool:
        """Compress and write a taken snapshot (no lock needed: it is a copy); whether it was written."""
        snapshot = Snapshot(generation, cursor, zlib.compress(state, 1))
        try:
            wrote = self._log.write_snapshot(self.producer, snapshot, self.options.snapshot_interval)
            if self._generation == generation:  # else Redis was lost again meanwhile: another is due
                self._force_snapshot = False
        except StorageError as exc:
            self._failed(exc)
            return False
        return wrote

    def publish_snapshot(self) -> bool:
        """Write a snapshot now if this process holds the snapshot lock (used by tests and at shutdown); whether
        it wrote one."""
        with self._exchange_lock:
            self._force_snapshot = True
            self._snapshot_due = 0.0
            taken = self._take_snapshot()
        return taken is not None and self._write_snapshot(*taken)

    async def _async_log(self) -> tuple[AsyncRedisLog, asyncio.Lock] | None:
        """The running loop's client and its lock, made on the loop's first strict ``acheck``; None for a
        synchronous client. The client is closed when its loop shuts down (see :meth:`_close_with_loop`); a loop
        closed without that (no ``shutdown_asyncgens``) has its client dropped when another loop first calls, and
        its sockets close when the client is collected."""
        loop = asyncio.get_running_loop()
        bound = self._async.get(loop)
        if bound is None:
            client = connect_async(self.spec)
            if client is None:
                return None
            for closed in [other for other in list(self._async.keys()) if other.is_closed()]:
                self._async.pop(closed, None)
            log = AsyncRedisLog(client, self.options.namespace, ttl=self._ttl, max_entries=self.options.max_log_entries)
            closer = self._close_with_loop(log)
            await closer.__anext__()  # now tracked by the loop, whose shutdown_asyncgens() will resume it
            bound = self._async[loop] = (log, asyncio.Lock(), closer)
        return bound[0], bound[1]

    async def _close_with_loop(self, log: AsyncRedisLog) -> AsyncGenerator[None, None]:
        """Suspended for the life of the loop that started it. ``asyncio.run`` (and ``asyncio.Runner``, and servers
        built on them) close a loop's async generators before the loop itself, while it still runs: that resumes
        this one, which closes the loop's client then, unless :meth:`aclose` already took it."""
        try:
            yield
        finally:
            loop = asyncio.get_running_loop()
            bound = self._async.get(loop)
            if bound is not None and bound[0] is log:
                del self._async[loop]
                await log.aclose()

    def status(self) -> StorageStatus:
        return StorageStatus(
            self.options.mode,
            self._retry_at == 0.0,
            self._failures,
            self._last_error,
            self.journal.pending_bytes,
            self.journal.dropped,
            self._applied,
            self._malformed,
            self._last_sync,
        )

    async def aclose(self) -> None:
        """Close the running loop's asyncio client, then :meth:`close` (other loops close theirs as they shut
        down)."""
        bound = self._async.pop(asyncio.get_running_loop(), None)
        if bound is not None:
            await bound[0].aclose()  # other loops' clients are closed when those loops shut down
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=5.0)
        try:
            self.sync()
        except StorageError:
            logger.warning("could not ship the last records to Redis at close: %s", self._last_error)
        self._log.close()
        close = getattr(self._client, "close", None)
        if close is not None and isinstance(self.spec.target, str):
            close()
        elif owns_pool(self.spec, self._client):
            self._client.connection_pool.disconnect()


_LIVE: weakref.WeakSet[Replicator] = weakref.WeakSet()
"""Replicators alive in this process, for the fork hooks (weak: a hook must not keep a limiter alive)."""


def _before_fork() -> None:
    for replicator in list(_LIVE):
        replicator._before_fork()


def _after_fork_in_parent() -> None:
    for replicator in list(_LIVE):
        replicator._after_fork_in_parent()


def _after_fork_in_child() -> None:
    for replicator in list(_LIVE):
        replicator._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)

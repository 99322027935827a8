"""The Limiter: request -> pattern keys -> sketches -> rules -> Decision.

A facade over the engine's parts, each in a module of its own:

* :mod:`~patternlimit.engine.facts` reduces a :class:`~patternlimit.Request` to its account, standing, network
  and pattern keys (outside the lock: the text kernel releases the GIL);
* :class:`~patternlimit.sketches.state.SketchState` observes every key in every sketch in one kernel call;
* :mod:`~patternlimit.engine.decide` weighs the penalty, exact-limit, pattern and taint rules under the lock, with
  :mod:`~patternlimit.engine.memory` (accounts, flags, taints), :mod:`~patternlimit.engine.labels` and
  :mod:`~patternlimit.engine.reasons`;
* with Redis storage, :class:`~patternlimit.replication.Replicator` keeps processes in sync through the port
  :mod:`~patternlimit.engine.shared` offers it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from patternlimit._tables import BoundedTable, SegmentedTable
from patternlimit.engine.charges import LimitState, light_facts, limit_names
from patternlimit.engine.clock import DEFAULT_TOLERANCE, Clock, ClockMode
from patternlimit.engine.decide import Decider
from patternlimit.engine.facts import FactsBuilder, RequestFacts, check_input, times_of
from patternlimit.engine.labels import Labels
from patternlimit.engine.memory import Memory
from patternlimit.engine.overrides import Override, OverrideAction, Scope
from patternlimit.engine.patterns import PatternRules
from patternlimit.engine.shared import SharedState
from patternlimit.engine.stats import Stats
from patternlimit.errors import InvalidRequestError
from patternlimit.keying import Keyring
from patternlimit.policy.compile import compile_policy
from patternlimit.policy.decision import ALLOW, Decision
from patternlimit.policy.loading import PolicySource, load_policy
from patternlimit.policy.models import Policy
from patternlimit.replication import StorageStatus
from patternlimit.request import Request
from patternlimit.sketches.state import SketchState
from patternlimit.storage.clocked import ClockedMemoryStorage
from patternlimit.storage.journal import Journal
from patternlimit.storage.options import StorageOptions, parse_storage

if TYPE_CHECKING:
    from patternlimit.replication.replicator import Replicator

_CHUNK = 64
"""Requests per chunk of :meth:`Limiter.check_many` in memory: large enough that the two kernel calls per chunk
cost little per request, small enough that the chunk's facts (a dozen tracked objects a request) die before the
garbage collector's youngest generation fills (700 objects) and is traced. Measured with ``python -m
benchmarks.interleaved`` on chat-sized requests: 64 and 128 were fastest, 16, 32 and 512 slower."""


class TopPattern(NamedTuple):
    """One row of :meth:`Limiter.top_patterns`."""

    kind: str
    label: str
    key: int
    hits: int
    error: int
    accounts: float
    young_accounts: float
    flagged_by: str | None


class Limiter:
    """Context-aware pattern limiter. See the module docstring for the flow and ``docs/`` for the policy.

    ``Limiter()`` uses the ``distillation-defense`` preset, in memory, with a random per-process secret (logged
    once). ``storage`` is ``"memory://"`` (Redis storage is described in docs/storage.md). ``production=True``
    makes a missing secret an error. ``clock="live"`` (the default) counts a time more than ``clock_tolerance``
    seconds ahead of the wall clock, or behind the limiter's latest time, at the limiter's latest time, so no one
    request (nor another process's record) can move the windows; ``clock="replay"`` takes every time as given, for
    simulations and log replays (see docs/limiter.md). Thread-safe: concurrent ``check()`` calls serialise on one
    lock around the sketch update and the decision (fingerprinting runs outside it).
    """

    def __init__(
        self,
        policy: PolicySource = None,
        *,
        storage: object = "memory://",
        storage_options: dict[str, Any] | StorageOptions | None = None,
        secret: bytes | str | None = None,
        production: bool = False,
        clock: ClockMode = "live",
        clock_tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        self._clock = Clock(clock, clock_tolerance)
        spec = parse_storage(storage, storage_options)
        self.policy = load_policy(policy)
        compiled = compile_policy(self.policy)
        self._keyring = Keyring(secret, required=production)
        capacity = self.policy.capacity
        self._state = _sketch_state(self.policy, self._keyring)
        self._facts = FactsBuilder(self.policy, compiled, self._keyring)
        journal = Journal(spec.options.max_pending_bytes) if spec.kind == "redis" else None
        on_label = None if journal is None else lambda key, kind, label: journal.event("l", key, kind, label)
        labels = Labels(self._facts.text, compiled.kinds, capacity.flags, on_label)
        memory = Memory(
            accounts=capacity.accounts,
            flags=capacity.flags,
            policy=self.policy.escalation,
            proven_after=self.policy.context.proven_after,
            window=self.policy.window,
        )
        patterns = PatternRules(self.policy, compiled, self._state, memory, labels, self._facts, journal)
        limits_storage = ClockedMemoryStorage(max_keys=capacity.accounts)
        self._decider = Decider(
            self.policy, compiled, self._state, memory, patterns, self._facts, limits_storage, journal
        )
        self._decider.clock = self._clock
        self._replicator: Replicator | None = None
        self._shared: SharedState | None = None
        if journal is not None:
            limits_storage.listener = journal.event_list
            # State older than the window or the escalation memory is worthless: the keys expire after that.
            ttl = max(self.policy.window, self.policy.escalation.memory) + spec.options.snapshot_interval
            self._shared = SharedState(self._decider, self.secret_id)
            from patternlimit.replication.replicator import Replicator  # imports redis-py: only when used

            self._replicator = Replicator(self._shared, spec, ttl, journal)

    def reload(self, policy: PolicySource) -> bool:
        """Swap the policy of the running limiter at once. An invalid policy raises
        :class:`~patternlimit.errors.ConfigurationError` and the current one keeps serving. The counts, flags,
        penalties, taints, overrides and labels are kept when the new policy has the same sketch capacity, window
        and buckets; otherwise the sketches start empty (the rest is kept). Returns whether the sketch counts
        were kept. With shared storage, every process must be reloaded (its own policy file is its own)."""
        new = load_policy(policy)
        compiled = compile_policy(new)
        old = self._decider
        keep = (new.capacity, new.window, new.buckets) == (
            self.policy.capacity,
            self.policy.window,
            self.policy.buckets,
        )
        state = self._state if keep else _sketch_state(new, self._keyring)
        builder = FactsBuilder(new, compiled, self._keyring, generation=old.builder.generation + 1)
        labels = old.labels.rebound(
            builder.text, compiled.kinds, keep_labels=new.fingerprint == self.policy.fingerprint
        )
        memory = old.memory
        patterns = PatternRules(new, compiled, state, memory, labels, builder, old.journal)
        with old.lock:
            memory.policy = new.escalation
            memory.history.proven_after = new.context.proven_after
            fresh = Decider(new, compiled, state, memory, patterns, builder, old.limits_storage, old.journal)
            fresh.lock, fresh.overrides, fresh.stats, fresh.clock = old.lock, old.overrides, old.stats, old.clock
            self.policy, self._state, self._facts, self._decider = new, state, builder, fresh
            if self._shared is not None:
                self._shared.use(fresh)
        return keep

    @property
    def secret_id(self) -> str:
        """A short public identifier of the secret: processes that share state must show the same one."""
        return self._keyring.id

    @property
    def nbytes(self) -> int:
        """Bytes of sketch state (fixed at construction); the bounded tables add at most ~120 B per entry."""
        return self._state.nbytes

    def check(self, request: Request, now: float | None = None) -> Decision:
        """Count ``request`` and decide. ``now`` is epoch seconds (default: the wall clock)."""
        if now is None:
            wall = time.time()
            moment = self._clock.admit(check_input(request, wall), wall)
        else:
            moment = self._clock.admit(check_input(request, now))
        facts = self._facts.facts(request, moment)
        if self._replicator is not None:
            return self._replicator.check([facts])[0]
        with self._decider.lock:  # one lock across reloads: read the decider under it
            return self._decider.decide(facts)

    async def acheck(self, request: Request, now: float | None = None) -> Decision:
        """:meth:`check` for async code. In memory (and in eventual mode) the hot path does no I/O and this returns
        at once; in strict Redis mode the round trip is awaited, so an ASGI app never blocks its event loop."""
        if now is None:
            wall = time.time()
            moment = self._clock.admit(check_input(request, wall), wall)
        else:
            moment = self._clock.admit(check_input(request, now))
        facts = self._facts.facts(request, moment)
        if self._replicator is not None:
            return (await self._replicator.acheck([facts]))[0]
        with self._decider.lock:  # one lock across reloads: read the decider under it
            return self._decider.decide(facts)

    def check_many(self, requests: Sequence[Request], now: float | Sequence[float] | None = None) -> list[Decision]:
        """:meth:`check` for each request in order, with the same answers; ``now`` is one time or one per request.

        Every request and time is checked before any is counted: an :class:`InvalidRequestError` names the first
        bad one (``requests[99]``, ``now[99]``) and leaves the state as it was. In memory the batch is decided in
        chunks of ``_CHUNK`` requests, each with one text kernel call and one sketch kernel call; with shared
        storage, in one exchange."""
        if not isinstance(requests, list | tuple):
            if isinstance(requests, str | bytes) or not isinstance(requests, Iterable):
                raise InvalidRequestError(f"check_many() takes a sequence of Requests, got {type(requests).__name__}")
            requests = list(requests)
        given = times_of(now, len(requests))
        # Every request and time is checked before any is counted, so an error leaves the state as it was.
        pairs = enumerate(zip(requests, given, strict=True))
        checked = [check_input(request, moment, index) for index, (request, moment) in pairs]
        admit = self._clock.admit
        times = [admit(moment) for moment in checked]
        if self._replicator is not None:
            return self._replicator.check(self._facts.facts_many(requests, times))
        decisions: list[Decision] = []
        for start in range(0, len(requests), _CHUNK):
            # Chunks keep the facts alive briefly: a whole batch of them would be traced by the garbage collector
            # again and again.
            facts = self._facts.facts_many(requests[start : start + _CHUNK], times[start : start + _CHUNK])
            with self._decider.lock:
                decisions += self._decider.decide_many(facts)
        return decisions

    def charge(
        self, request: Request, cost: int, *, rules: Iterable[str] | None = None, now: float | None = None
    ) -> Decision:
        """Charge ``cost`` more (e.g. the tokens of the response) to the exact limit rules for ``request``, which
        was checked and served: the cost known only once the response is. ``rules`` names the limit rules to
        charge (default: every one; name the token rules when the policy also counts requests). Nothing is
        decided for ``request`` itself and the pattern sketches are not touched; a cost a window cannot take
        still counts (it fills the window), so the key's next request is refused. Returns ALLOW, or the decision
        of the first rule the cost filled (for a log line: the response has gone). Shared with other processes
        as the check's counts are. Raises :class:`InvalidRequestError` for a cost outside ``[0, 2**32)`` and
        ``ValueError`` for a name that is no limit rule. Use ``strategy: fixed-window`` for large costs: a
        moving window keeps one timestamp per unit."""
        if isinstance(cost, bool) or not isinstance(cost, int) or not 0 <= cost < 1 << 32:
            raise InvalidRequestError(f"cost must be an int in [0, 2**32), got {cost!r:.80}")
        names = None if rules is None else limit_names(self.policy, rules)
        facts = self._light_facts(request, now)
        if cost == 0:
            return ALLOW
        decider = self._decider
        with decider.lock:
            if facts.generation != self._decider.builder.generation:  # the policy was reloaded meanwhile
                facts = self._light_facts(request, facts.now)
            return self._decider.charge(facts, cost, names)

    async def acharge(
        self, request: Request, cost: int, *, rules: Iterable[str] | None = None, now: float | None = None
    ) -> Decision:
        """:meth:`charge` for async code: it does no I/O (the charge is shared by the background sync)."""
        return self.charge(request, cost, rules=rules, now=now)

    def limit_state(self, request: Request, now: float | None = None) -> list[LimitState]:
        """What each exact limit rule has left for ``request``'s keys, in policy order, counting nothing: for
        ``RateLimit`` headers on an allowed response. A rule that does not apply to the request is left out."""
        facts = self._light_facts(request, now)
        with self._decider.lock:
            if facts.generation != self._decider.builder.generation:
                facts = self._light_facts(request, facts.now)
            return [LimitState(*state) for state in self._decider.limit_state(facts)]

    def _light_facts(self, request: Request, now: float | None) -> RequestFacts:
        if now is None:
            wall = time.time()
            moment = self._clock.admit(check_input(request, wall), wall)
        else:
            moment = self._clock.admit(check_input(request, now))
        return light_facts(self._facts, request, moment)

    def sync(self) -> None:
        """Exchange with the shared storage now (ship what was counted here, apply what others counted); a no-op
        in memory. Raises :class:`StorageError` if the storage is unreachable."""
        if self._replicator is not None:
            self._replicator.sync()

    @property
    def storage_status(self) -> StorageStatus | None:
        """Health and counters of the shared storage (None in memory): for metrics and readiness probes."""
        return None if self._replicator is None else self._replicator.status()

    def close(self) -> None:
        """Stop the background sync after a last exchange (best effort) and close the Redis connections."""
        if self._replicator is not None:
            self._replicator.close()

    async def aclose(self) -> None:
        """:meth:`close` for async code: also closes the asyncio Redis client (call it at the app's shutdown)."""
        if self._replicator is not None:
            await self._replicator.aclose()

    def __enter__(self) -> Limiter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- operator controls (docs/operations.md) -------------------------------------------------------------

    def allow(
        self,
        *,
        account: str | None = None,
        pattern: int | None = None,
        text: str | bytes | None = None,
        network: str | None = None,
        client: str | None = None,
        duration: float,
        by: str = "",
        why: str = "",
        now: float | None = None,
    ) -> Override:
        """Let one account, network or client through the pattern rules, penalties and taints (the exact limits
        still apply), or one pattern (by ``pattern`` key or by a sample ``text`` of its template) through its
        pattern rules, for ``duration`` seconds; shared with every process on the same storage. Name exactly one
        target. See :mod:`patternlimit.engine.overrides`."""
        return self._override("allow", account, pattern, text, network, client, duration, by, why, now)

    def deny(
        self,
        *,
        account: str | None = None,
        pattern: int | None = None,
        text: str | bytes | None = None,
        network: str | None = None,
        client: str | None = None,
        duration: float,
        by: str = "",
        why: str = "",
        now: float | None = None,
    ) -> Override:
        """Block every request of one account, network, client or pattern for ``duration`` seconds (a deny wins
        over an allow); shared like :meth:`allow`."""
        return self._override("deny", account, pattern, text, network, client, duration, by, why, now)

    def clear(
        self,
        *,
        account: str | None = None,
        pattern: int | None = None,
        text: str | bytes | None = None,
        network: str | None = None,
        client: str | None = None,
    ) -> bool:
        """Forget what is held against one target: an account's penalty and persistence count, a pattern's flag,
        a network's or client's taint, and any override of it. Returns whether anything was held here; shared
        like :meth:`allow`."""
        scope, key, _ = self._target(account, pattern, text, network, client)
        with self._decider.lock:
            held = self._decider.clear(scope, key)
            if self._decider.journal is not None:
                self._decider.journal.event("x", scope, key)
        return held

    def overrides(self, now: float | None = None) -> list[Override]:
        """The overrides in force, oldest first."""
        moment = time.time() if now is None else now
        with self._decider.lock:
            return self._decider.overrides.live(moment)

    def _override(
        self,
        action: OverrideAction,
        account: str | None,
        pattern: int | None,
        text: str | bytes | None,
        network: str | None,
        client: str | None,
        duration: float,
        by: str,
        why: str,
        now: float | None,
    ) -> Override:
        if not (isinstance(duration, int | float) and 0 < duration <= 366 * 86400):
            raise ValueError(f"duration must be seconds in (0, 366 days], got {duration!r}")
        for name, value in (("by", by), ("why", why)):
            if not isinstance(value, str) or len(value) > 200:
                raise ValueError(f"{name} must be a string of at most 200 characters, got {value!r:.80}")
        scope, key, label = self._target(account, pattern, text, network, client)
        moment = time.time() if now is None else now
        override = Override(scope, key, action, moment + float(duration), label, by, why)
        with self._decider.lock:
            self._decider.overrides.put(override)
            if self._decider.journal is not None:
                # Other processes get the keyed target, never the account name or client string in clear.
                self._decider.journal.event("o", scope, key, action, override.until, by, why)
        return override

    def _target(
        self,
        account: str | None,
        pattern: int | None,
        text: str | bytes | None,
        network: str | None,
        client: str | None,
    ) -> tuple[Scope, int, str]:
        named = [
            (name, value)
            for name, value in (
                ("account", account),
                ("pattern", pattern),
                ("text", text),
                ("network", network),
                ("client", client),
            )
            if value is not None
        ]
        if len(named) != 1:
            raise ValueError(
                "name exactly one of account=, pattern=, text=, network=, client=; got "
                + (", ".join(name for name, _ in named) or "none")
            )
        name, value = named[0]
        builder = self._facts
        if name == "pattern":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 1 << 63:
                raise ValueError(f"pattern must be a pattern key (an int in (0, 2**63)), got {value!r}")
            return "pattern", value, f"{value:#x}"
        if name == "text":
            if not isinstance(value, str | bytes):
                raise TypeError(f"text must be str or bytes, got {type(value).__name__}")
            key = builder.template_key(value)
            if not key:
                raise ValueError("text has no template to match (empty or too short)")
            return "pattern", key, builder.text.label(value)
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty string, got {value!r:.80}")
        if name == "account":
            return "account", builder.account_key(value), value
        if name == "network":
            return "network", builder.network_key(value), value
        return "client", builder.client_key(value), value[:60]

    @property
    def stats(self) -> Stats:
        """Decisions by action and rule and the check latency histogram since the limiter started (read them under
        no lock: a scrape may see a count one decision behind). :mod:`patternlimit.integrations.prometheus`
        exports them."""
        return self._decider.stats

    def occupancy(self) -> dict[str, tuple[int, int]]:
        """Entries and capacity of each bounded table (account records, flags, taints, labels, overrides)."""
        decider = self._decider
        memory = decider.memory
        tables: dict[str, BoundedTable[Any, Any] | SegmentedTable[Any, Any]] = {
            "accounts": memory.accounts,
            "flags": memory.flags,
            "taints": memory.taints,
            "labels": decider.labels.labels,
            "overrides": decider.overrides.table,
        }
        return {name: (len(table), table.capacity) for name, table in tables.items()}

    def top_patterns(self, n: int = 20, now: float | None = None) -> list[TopPattern]:
        """The ``n`` pattern keys with the most hits in the window, with spread and young spread, heaviest first."""
        moment = time.time() if now is None else now
        decider = self._decider
        with decider.lock:
            result = []
            for key, hits, error, spread, young_spread in self._state.top(n, moment):
                kind, label = decider.labels.known(key)
                flag = decider.memory.flagged(key, moment)
                result.append(
                    TopPattern(kind, label, key, hits, error, spread, young_spread, flag.rule if flag else None)
                )
            return result


def _sketch_state(policy: Policy, keyring: Keyring) -> SketchState:
    capacity = policy.capacity
    return SketchState(
        count_width=capacity.count_width,
        count_depth=capacity.count_depth,
        spread_width=capacity.spread_width,
        spread_depth=capacity.spread_depth,
        precision=capacity.precision,
        seen_bits=capacity.seen_bits,
        top_capacity=capacity.top_capacity,
        window=policy.window,
        buckets=policy.buckets,
        seed=keyring.seed,
    )

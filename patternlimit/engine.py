"""The Limiter: request -> pattern keys -> sketches -> rules -> Decision. The one module that knows all of them.

Per request, :meth:`Limiter.check`

1. fingerprints the request (outside the lock: the text kernel releases the GIL) into pattern keys, one or more
   per counted kind (``template``, the ``near_duplicate`` bands, ``network``, ...);
2. under the lock, observes every key in every sketch in one kernel call (hits, distinct accounts, distinct young
   accounts, copies of this exact text, new texts, heavy hitters), then
3. decides, in this order: an account penalty from an earlier catch; the exact ``limits`` rules; the pattern
   rules (with persistence and escalation); a taint of the account's network or client. The most severe enforced
   outcome wins; shadowed rules only ever produce ``LOG``.

Every request is counted, whatever the decision: pattern state reflects what was attempted, so a throttled
campaign keeps its pattern flagged.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

import numpy as np
import xxhash
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from patternlimit._kernels.batch import observe_batch
from patternlimit._kernels.entry import direct
from patternlimit._kernels.observe import (
    ACCOUNTS,
    COHORT,
    CONCENTRATION,
    COPIES,
    HITS,
    NOVEL,
    YOUNG,
    cohort_key,
    novel_key,
    squares_key,
    young_requests_key,
)
from patternlimit._kernels.packed import observe_one_packed, pack_state
from patternlimit.context import AccountBook, AccountRecord, Standing, standing_of
from patternlimit.errors import StorageError
from patternlimit.escalation import Escalation, Flag, Taint
from patternlimit.fingerprint import TextFingerprinter, network_prefix
from patternlimit.fingerprint.network import MAX_ADDRESS_CHARS, is_public_network
from patternlimit.fingerprint.text import TextFingerprint
from patternlimit.keying import Keyring, keyed_hash
from patternlimit.policy.compile import NEVER, CompiledLimitRule, CompiledPatternRule, compile_policy
from patternlimit.policy.decision import ALLOW, Action, Decision, PatternRef
from patternlimit.policy.loading import PolicySource, load_policy
from patternlimit.replication import Replicator, StorageStatus
from patternlimit.request import Request
from patternlimit.sketches import CountMinSketch, HeavyHitters, SpreadSketch
from patternlimit.sketches.seen import SeenFilter
from patternlimit.storage.clocked import ClockedMemoryStorage
from patternlimit.storage.journal import Batch, Journal
from patternlimit.storage.options import StorageOptions, parse_storage

_Value = TypeVar("_Value")
_Handler = TypeVar("_Handler", bound=Callable[..., Any])

MAX_KEYS = 64
# Module-level aliases: ``Standing.YOUNG`` goes through the enum's metaclass, about 75 ns a lookup on this machine.
_YOUNG, _ESTABLISHED, _TRUSTED = Standing.YOUNG, Standing.ESTABLISHED, Standing.TRUSTED
_PACK_KEYS = tuple(struct.Struct(f"={count}Q").pack_into for count in range(MAX_KEYS + 1))
"""``_PACK_KEYS[n](array, 0, *keys)`` writes ``n`` keys into a ``uint64`` array: 0.35 us for 8 keys, against 0.5 us
for a numpy slice assignment from a list."""
"""Pattern keys per request at most (composites of two multi-key kinds are truncated here)."""

_LABEL_AFTER_HITS = 8
"""A key keeps a sample of its request once it has this many hits, to be labelled for top_patterns on demand."""

_SAMPLES = 4096
"""Keys whose sample (a clipped copy of what a label needs, at most about 5 KiB) is kept for labelling."""

_CLIP = 768
"""Bytes (or characters) of a sample's text kept at each end: what a label reads anyway."""

_SHORT = 60
"""Characters kept of the other facts of a sample (client, route, account, attributes)."""

_REMEMBERED = 65536
"""Entries of each per-value cache of the request facts (IP -> network and its key, account name -> key): the
same callers repeat, and a hash and a prefix parse cost more than a dict lookup. A full cache is emptied at once
(bounded, and no eviction bookkeeping on the hot path); about 200 B per entry."""

_AGE_CODE = 6
"""``MEASURE_CODES["pattern_age"]``: the one measure the rule kernel cannot see (first sightings live in Python)."""
_REQUEST_CODES = frozenset({7, 8})
"""``MEASURE_CODES`` of ``network_share`` and ``network_concentration``: checked again on a pattern flagged earlier
(a class's request is not acted on because a proxy pool flagged its template hours ago)."""

_REMEMBERED_CHARS = 256
"""Longer account names are hashed every time rather than cached, so the caches' memory stays bounded."""

_TEMPLATE, _NEAR_DUPLICATE, _NETWORK, _ACCOUNT, _OTHER = range(5)
_PLAN_CODES = {"template": _TEMPLATE, "near_duplicate": _NEAR_DUPLICATE, "network": _NETWORK, "account": _ACCOUNT}
_PRESET_PLAN = ((_TEMPLATE, "template"), (_NEAR_DUPLICATE, "near_duplicate"), (_NETWORK, "network"))
"""The plan of the default preset's kinds, which :meth:`Limiter._facts` builds without its loop."""
"""How :meth:`Limiter._facts` makes each kind's keys: the single kinds inline, the others by ``_kind_keys``."""

_CHUNK = 64
"""Requests per chunk of :meth:`Limiter.check_many` in memory: large enough that the two kernel calls per chunk
cost little per request, small enough that the chunk's facts (a dozen tracked objects a request) die before the
garbage collector's youngest generation fills (700 objects) and is traced. Measured on 5,000 chat-sized requests,
min per decision: 15.9 us at 64 and 128, 16.4 us at 32, 17.5 us at 16, 17.2 us at 512 (median 17.3 vs 21.3 us)."""

_LABEL_STRIDE = 16
"""Keys are considered for a kept sample on one request in this many: a busy key is still sampled within a few
dozen of its requests (top_patterns lists keys with hundreds), and when more keys pass ``_LABEL_AFTER_HITS`` than
``_SAMPLES`` holds, the table's churn (a copy of the request and an eviction per key) is paid a sixteenth as often.
Measured on 5,000 chat-sized requests repeated (every key past the threshold, the table churning), min per
decision: 16.7 us at 4, 14.8 us at 16, 14.4 us with no sampling at all."""


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


@dataclass(slots=True)
class _Facts:
    """A request reduced to what the decision needs; built outside the lock."""

    request: Request
    now: float
    account: int
    account_name: str
    standing: Standing
    age: float | None
    network: str | None
    network_key: int
    keys: list[int]
    spans: list[tuple[int, int]]
    """For each counted kind (``CompiledPolicy.kinds``, same order), its keys are ``keys[start:end]``."""
    content: int
    copy_count: int
    """How many leading keys are of kinds whose copies (and cohorts) are counted."""
    network_item: int
    """The network the cohorts count: the network key of a public address, else the account's own key (an unknown
    or private address is never shared evidence, so it never makes a pattern look like one NAT's cohort)."""
    counted: bool = False
    """Whether this request was already counted on a flagged pattern (and caught, if so) by an earlier rule: a
    request that several rules flag counts once towards persistence, and is caught once."""


class Limiter:
    """Context-aware pattern limiter. See the module docstring for the flow and ``docs/`` for the policy.

    ``Limiter()`` uses the ``distillation-defense`` preset, in memory, with a random per-process secret (logged
    once). ``storage`` is ``"memory://"`` (Redis storage is described in docs/storage.md). ``production=True``
    makes a missing secret an error. Thread-safe: concurrent ``check()`` calls serialise on one lock around the
    sketch update and the decision (fingerprinting runs outside it).
    """

    def __init__(
        self,
        policy: PolicySource = None,
        *,
        storage: object = "memory://",
        storage_options: dict[str, Any] | StorageOptions | None = None,
        secret: bytes | str | None = None,
        production: bool = False,
    ) -> None:
        spec = parse_storage(storage, storage_options)
        self.policy = load_policy(policy)
        self._compiled = compile_policy(self.policy)
        self._keyring = Keyring(secret, required=production)
        settings, capacity = self.policy.fingerprint, self.policy.capacity
        self._text = TextFingerprinter(
            self._keyring, max_bytes=settings.max_bytes, edge_tokens=settings.edge_tokens, bands=settings.bands
        )
        self._seeds = {
            purpose: self._keyring.seed(f"pattern:{purpose}")
            for purpose in ("account", "network", "client", "route", "attribute", "composite")
        }
        window, buckets = self.policy.window, self.policy.buckets
        self._hits = CountMinSketch(
            width=capacity.count_width,
            depth=capacity.count_depth,
            window=window,
            buckets=buckets,
            seed=self._keyring.seed("sketch:hits"),
        )
        spread = {"width": capacity.spread_width, "depth": capacity.spread_depth, "precision": capacity.precision}
        self._accounts = SpreadSketch(
            **spread, window=window, buckets=buckets, seed=self._keyring.seed("sketch:accounts")
        )
        self._young = SpreadSketch(**spread, window=window, buckets=buckets, seed=self._keyring.seed("sketch:young"))
        self._seen = SeenFilter(
            bits=capacity.seen_bits, window=window, buckets=buckets, seed=self._keyring.seed("sketch:seen")
        )
        self._top = HeavyHitters(
            capacity=capacity.top_capacity, window=window, buckets=buckets, seed=self._keyring.seed("sketch:top")
        )
        self._state = (
            *self._hits.kernel_args,
            *self._accounts.kernel_args,
            *self._young.kernel_args,
            *self._seen.kernel_args,
            *self._top.kernel_args,
        )
        self._networks: dict[str, tuple[str | None, int, bool]] = {}
        self._accounts_seen: dict[str, int] = {}
        self._unknown_standing = standing_of(None, self.policy.context)
        self._young_age, self._trusted_age = self.policy.context.young_age, self.policy.context.trusted_age
        self._long_frame = 2 * settings.edge_tokens
        self._copy_kinds = sum(kind in self._compiled.copy_kinds for kind in self._compiled.kinds)
        self._kind_index = {kind: index for index, kind in enumerate(self._compiled.kinds)}
        self._plan = tuple((_PLAN_CODES.get(kind, _OTHER), kind) for kind in self._compiled.kinds)
        self._preset_plan = self._plan == _PRESET_PLAN and self._copy_kinds == 2
        self._label_tick = 0
        rules = self._compiled.pattern_rules
        self._conditions = np.array(
            [[condition.code, condition.low, condition.high] for rule in rules for condition in rule.conditions],
            dtype=np.float64,
        ).reshape(-1, 3)
        self._starts = np.cumsum([0, *(len(rule.conditions) for rule in rules)], dtype=np.int64)
        self._masks = np.zeros(len(rules), dtype=np.uint64)
        self._no_conditions = np.zeros((0, 3), dtype=np.float64)
        self._no_starts = np.zeros(1, dtype=np.int64)
        self._aged = [any(condition.code == _AGE_CODE for condition in rule.conditions) for rule in rules]
        self._network_bounds = [
            tuple(
                (condition.measure, condition.low, condition.high)
                for condition in rule.conditions
                if condition.code in _REQUEST_CODES
            )
            for rule in rules
        ]
        # A request is measured and matched only against the pattern rules that apply to its standing. Trusted
        # and established accounts share every rule (``applies_to`` groups them), so demoting a caught trusted
        # account to established in _conclude changes neither its gate nor its rules.
        gates, applicable = self._compiled.gates, self._compiled.applicable
        self._young_gate, self._elder_gate = gates[Standing.YOUNG], gates[Standing.ESTABLISHED]
        self._young_rules = tuple((index, rules[index]) for index in applicable[Standing.YOUNG])
        self._elder_rules = tuple((index, rules[index]) for index in applicable[Standing.ESTABLISHED])
        self._keys = np.zeros(MAX_KEYS, dtype=np.uint64)
        self._key_bytes = self._keys.data  # a memoryview of the same memory, which _PACK_KEYS writes into
        self._out = np.zeros((MAX_KEYS, 7), dtype=np.float64)
        # The observe kernel with the state as one table of addresses (patternlimit._kernels.packed), through its
        # compiled entry for these very argument types, without numba's per-call type dispatch
        # (patternlimit._kernels.entry); the example observes nothing (no keys).
        self._packed = pack_state(self._state)
        self._observe = direct(
            observe_one_packed,
            *self._packed,
            self._keys,
            0,
            0,
            0,
            0,
            False,
            0.0,
            1,
            self._compiled.gate,
            0,
            self._out,
            self._conditions,
            self._starts,
            self._masks,
        )
        self._lock = threading.Lock()
        self._book = AccountBook(capacity.accounts)
        self._escalation = Escalation(capacity.flags, self.policy.escalation.memory)
        # FIFO-bounded tables: OrderedDict, because evicting the oldest entry of a plain dict again and again makes
        # next(iter(d)) walk an ever longer run of deleted slots.
        self._labels: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self._samples: OrderedDict[int, tuple[str, _Sample]] = OrderedDict()
        self._first_seen: OrderedDict[int, float] = OrderedDict()  # bounded like the flags: oldest forgotten first
        self._limits_storage = ClockedMemoryStorage(max_keys=capacity.accounts)
        self._strategies = {
            "moving-window": MovingWindowRateLimiter(self._limits_storage),
            "fixed-window": FixedWindowRateLimiter(self._limits_storage),
        }
        self._journal: Journal | None = None
        self._replicator: Replicator | None = None
        if spec.kind == "redis":
            self._journal = Journal(spec.options.max_pending_bytes)
            self._limits_storage.listener = self._journal.event_list
            # State older than the window or the escalation memory is worthless: the keys expire after that.
            ttl = max(self.policy.window, self.policy.escalation.memory) + spec.options.snapshot_interval
            self._replicator = Replicator(self, spec, ttl, self._journal)

    # -- public API --------------------------------------------------------------------------------------------

    @property
    def secret_id(self) -> str:
        """A short public identifier of the secret: processes that share state must show the same one."""
        return self._keyring.id

    @property
    def nbytes(self) -> int:
        """Bytes of sketch state (fixed at construction); the bounded tables add at most ~120 B per entry."""
        sketches = (self._hits, self._accounts, self._young, self._seen, self._top)
        return sum(sketch.nbytes for sketch in sketches)

    def check(self, request: Request, now: float | None = None) -> Decision:
        """Count ``request`` and decide. ``now`` is epoch seconds (default: the wall clock)."""
        moment = time.time() if now is None else now
        _check_input(request, moment)
        facts = self._facts(request, moment)
        if self._replicator is not None:
            return self._replicator.check([facts])[0]
        with self._lock:
            return self._decide(facts)

    async def acheck(self, request: Request, now: float | None = None) -> Decision:
        """:meth:`check` for async code. In memory (and in eventual mode) the hot path does no I/O and this returns
        at once; in strict Redis mode the round trip is awaited, so an ASGI app never blocks its event loop."""
        moment = time.time() if now is None else now
        _check_input(request, moment)
        facts = self._facts(request, moment)
        if self._replicator is not None:
            return (await self._replicator.acheck([facts]))[0]
        with self._lock:
            return self._decide(facts)

    def check_many(self, requests: Sequence[Request], now: float | Sequence[float] | None = None) -> list[Decision]:
        """:meth:`check` for each request in order, with the same answers; ``now`` is one time or one per request.

        Every request is checked before any is counted: a ``TypeError`` or ``ValueError`` leaves the state as it
        was. In memory the batch is decided in chunks of ``_CHUNK`` requests, each with one text kernel call and
        one sketch kernel call; with shared storage, in one exchange."""
        times = _times(now, len(requests))
        for request, moment in zip(requests, times, strict=True):
            _check_input(request, moment)
        if self._replicator is not None:
            return self._replicator.check(self._facts_many(requests, times))
        decisions: list[Decision] = []
        for start in range(0, len(requests), _CHUNK):
            # Chunks keep the facts alive briefly: a whole batch of them would be traced by the garbage collector
            # again and again (measured: up to half the time of a 5,000-request batch).
            facts = self._facts_many(requests[start : start + _CHUNK], times[start : start + _CHUNK])
            with self._lock:
                decisions += self._decide_many(facts)
        return decisions

    def _facts_many(self, requests: Sequence[Request], times: Sequence[float]) -> list[_Facts]:
        texts: list[TextFingerprint | None] = [None] * len(requests)
        if self._compiled.needs_text:
            # one kernel call per 256 KiB of text instead of one per request
            wanted = [index for index, request in enumerate(requests) if request.text]
            for index, fingerprint in zip(
                wanted, self._text.fingerprint_many(requests[index].text for index in wanted), strict=True
            ):
                texts[index] = fingerprint
        return [
            self._facts(request, moment, text) for request, moment, text in zip(requests, times, texts, strict=True)
        ]

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

    def limit(self, **options: Any) -> Callable[[_Handler], _Handler]:
        """A decorator that checks each call of a sync or async handler and raises
        :class:`~patternlimit.errors.RateLimitExceeded` on a throttle or block. ``options`` are those of
        :func:`patternlimit.integrations.decorators.limit` (``request=``, ``exempt=``, ``route=``); see
        docs/integrations/."""
        from patternlimit.integrations.decorators import limit  # lazy: the engine never imports web code on load

        return limit(self, **options)

    def top_patterns(self, n: int = 20, now: float | None = None) -> list[TopPattern]:
        """The ``n`` pattern keys with the most hits in the window, with spread and young spread, heaviest first."""
        moment = time.time() if now is None else now
        with self._lock:
            rows = self._top.top(n, moment)
            if not rows:
                return []
            keys = np.array([key for key, _, _ in rows], dtype=np.uint64)
            accounts = self._accounts.estimate_many(keys, moment)
            young = self._young.estimate_many(keys, moment)
            result = []
            for (key, hits, error), spread, young_spread in zip(rows, accounts.tolist(), young.tolist(), strict=True):
                kind, label = self._known_label(key)
                flag = self._escalation.flagged(key, moment)
                result.append(
                    TopPattern(kind, label, key, hits, error, spread, young_spread, flag.rule if flag else None)
                )
            return result

    # -- request facts (no shared state) -----------------------------------------------------------------------

    def _facts(self, request: Request, now: float, text: TextFingerprint | None = None) -> _Facts:
        """The facts of a request already checked by :func:`_check_input`."""
        ip = request.ip
        known = self._networks.get(ip) if type(ip) is str else None
        if known is None:
            known = self._network_of(ip)
        network, network_key, public = known
        # An anonymous request is its network's pseudo-account: anonymous fan-out from many networks still shows
        # as many accounts, and all anonymous callers behind one prefix share one allowance.
        account_name = request.account or f"anonymous:{network or 'invalid-ip'}"
        account = self._accounts_seen.get(account_name) if type(account_name) is str else None
        if account is None:
            account = keyed_hash(account_name, self._seeds["account"])
            if type(account_name) is str and len(account_name) <= _REMEMBERED_CHARS:
                _remember(self._accounts_seen, account_name, account)
        created = request.account_created_at
        if created is None or not math.isfinite(created):
            age = None
            standing = self._unknown_standing
        else:
            # standing_of, inline (a function call and the context's attributes cost about 0.2 us)
            age = now - created
            if age < 0.0:
                age = 0.0
            standing = _YOUNG if age < self._young_age else _TRUSTED if age >= self._trusted_age else _ESTABLISHED
        template: list[int] = []
        bands: list[int] = []
        content = 0
        if self._compiled.needs_text and request.text:
            fingerprint = text or self._text.fingerprint(request.text)
            content = fingerprint.content
            # The template kind carries the whole-frame template key and, for long frames, the opening and closing
            # keys: a template whose filler sits near one end is still caught by its other end.
            if fingerprint.template:
                template = [fingerprint.template, *fingerprint.edges]
            # SimHash over the few shingles of a short frame makes unrelated short prompts that share most of their
            # words near-duplicates (3,000 new users asking "Explain how {x} works in simple terms." would fan out);
            # a short frame is keyed whole by the template key anyway, so bands count only for long frames.
            if fingerprint.frame_tokens > self._long_frame:
                bands = list(fingerprint.bands)
        if self._preset_plan:
            # The default preset's kinds (template, near_duplicate, network; copies counted on the first two)
            # without the loop of _assemble: the same keys and spans, about 0.4 us sooner. Never more than MAX_KEYS.
            keys = template + bands
            keys.append(network_key)
            cut = len(template)
            copy_count = cut + len(bands)
            spans = [(0, cut), (cut, copy_count), (copy_count, copy_count + 1)]
        else:
            keys, spans, copy_count = self._assemble(request, network, network_key, account, template, bands)
        return _Facts(
            request,
            float(now),
            account,
            account_name,
            standing,
            age,
            network,
            network_key,
            keys,
            spans,
            content,
            copy_count,
            network_key if public else account,
        )

    def _assemble(
        self,
        request: Request,
        network: str | None,
        network_key: int,
        account: int,
        template: list[int],
        bands: list[int],
    ) -> tuple[list[int], list[tuple[int, int]], int]:
        """The keys of every counted kind in plan order, each kind's span, and the copy count."""
        keys: list[int] = []
        spans: list[tuple[int, int]] = []
        single: dict[str, list[int]] | None = None
        start = 0
        for code, kind in self._plan:  # the common kinds inline; the others as _kind_keys says
            if code == _TEMPLATE:
                keys += template
            elif code == _NEAR_DUPLICATE:
                keys += bands
            elif code == _NETWORK:
                keys.append(network_key)
            elif code == _ACCOUNT:
                keys.append(account)
            else:
                if single is None:
                    single = {
                        "template": template,
                        "near_duplicate": bands,
                        "network": [network_key],
                        "account": [account],
                    }
                keys += self._kind_keys(kind, request, network, account, single)
            end = len(keys)
            spans.append((start, end))
            start = end
        if len(keys) > MAX_KEYS:
            del keys[MAX_KEYS:]
            spans = [(min(start, MAX_KEYS), min(end, MAX_KEYS)) for start, end in spans]
        copy_kinds = self._copy_kinds
        return keys, spans, spans[copy_kinds - 1][1] if copy_kinds else 0

    def _network_of(self, ip: object) -> tuple[str | None, int, bool]:
        """The prefix of ``ip``, its network key and whether it is public (globally routable), remembered for the
        next request from it (bounded)."""
        settings = self.policy.fingerprint
        network = network_prefix(ip, ipv4_prefix=settings.ipv4_prefix, ipv6_prefix=settings.ipv6_prefix)
        # Every invalid or missing IP shares one network pattern, "(invalid)": counted, never an exception.
        key = keyed_hash(network or "(invalid)", self._seeds["network"])
        known = (network, key, network is not None and is_public_network(network))
        if type(ip) is str and len(ip) <= MAX_ADDRESS_CHARS:
            _remember(self._networks, ip, known)
        return known

    def _kind_keys(
        self, kind: str, request: Request, network: str | None, account: int, single: dict[str, list[int]]
    ) -> list[int]:
        if "+" in kind:
            first, second = kind.split("+")
            left = self._kind_keys(first, request, network, account, single)
            right = self._kind_keys(second, request, network, account, single)
            seed = self._seeds["composite"]
            return [
                xxhash.xxh3_64_intdigest(a.to_bytes(8, "little") + b.to_bytes(8, "little"), seed) >> 1
                for a in left
                for b in right
            ]
        if kind in single:
            return single[kind]
        if kind == "network":
            # Every invalid or missing IP shares one network pattern, "(invalid)": counted, never an exception.
            return [keyed_hash(network or "(invalid)", self._seeds["network"])]
        if kind == "account":
            return [account]
        if kind == "client":
            return [keyed_hash(request.client, self._seeds["client"])] if request.client else []
        if kind == "route":
            return [keyed_hash(request.route, self._seeds["route"])] if request.route else []
        name = kind.removeprefix("attribute:")
        value = request.attributes.get(name)
        return [keyed_hash(f"{name}\x00{value}", self._seeds["attribute"])] if value else []

    # -- the decision (under the lock) -------------------------------------------------------------------------

    def _decide(self, facts: _Facts, journaled: bool = False) -> Decision:
        """Observe and decide; ``journaled`` means the observation was already recorded for the shared log."""
        keys = facts.keys
        count = len(keys)
        _PACK_KEYS[count](self._key_bytes, 0, *keys)
        masks = self._masks
        young = facts.standing is _YOUNG
        self._observe(  # observe_one_packed, for the argument types _observe was made for: keep them exactly
            *self._packed,
            self._keys,
            count,
            facts.account,
            facts.content,
            facts.network_item,
            young,
            facts.now,
            facts.request.cost,
            self._young_gate if young else self._elder_gate,
            facts.copy_count,
            self._out,
            self._conditions,
            self._starts,
            masks,
        )
        return self._conclude(facts, self._out, 0, masks.tolist(), journaled)

    def _decide_many(self, facts: Sequence[_Facts]) -> list[Decision]:
        """:meth:`_decide` for each of ``facts`` in order, with one kernel call for all the observations."""
        total = sum(len(fact.keys) for fact in facts)
        keys = np.fromiter((key for fact in facts for key in fact.keys), dtype=np.uint64, count=total)
        offsets = np.fromiter(
            itertools.accumulate((len(fact.keys) for fact in facts), initial=0), dtype=np.int64, count=len(facts) + 1
        )
        out = np.empty((total, 7), dtype=np.float64)
        masks = np.empty((len(facts), len(self._compiled.pattern_rules)), dtype=np.uint64)
        young = np.array([fact.standing is _YOUNG for fact in facts], dtype=np.bool_)
        # Every estimate of a request some rule applies to (see observe_batch), none of the others'.
        gates = np.where(young, 0 if self._young_rules else NEVER, 0 if self._elder_rules else NEVER)
        observe_batch(
            *self._state,
            keys,
            offsets,
            np.array([fact.account for fact in facts], dtype=np.uint64),
            np.array([fact.content for fact in facts], dtype=np.uint64),
            np.array([fact.network_item for fact in facts], dtype=np.uint64),
            young,
            np.array([fact.now for fact in facts], dtype=np.float64),
            np.array([fact.request.cost for fact in facts], dtype=np.int64),
            np.array([fact.copy_count for fact in facts], dtype=np.int64),
            gates,
            self._compiled.gate,
            self._conditions,
            self._starts,
            out,
            masks,
        )
        return [
            self._conclude(fact, out, start, matched)
            for fact, start, matched in zip(facts, offsets[:-1].tolist(), masks.tolist(), strict=True)
        ]

    def _conclude(
        self, facts: _Facts, out: np.ndarray, start: int, matched: list[int], journaled: bool = False
    ) -> Decision:
        """Decide on an observed request: ``out[start : start + len(facts.keys)]`` are its keys' measures as the
        observe kernel wrote them (sliced only when read: most requests never read them),
        ``matched`` the rule kernel's masks (one per pattern rule)."""
        now = facts.now
        compiled = self._compiled
        if self._journal is not None and not journaled:
            self._record(facts)
        if compiled.needs_age:
            self._first_sightings(facts.keys, now)
        self._label_tick += 1
        if self._label_tick >= _LABEL_STRIDE:
            self._label_tick = 0
            self._remember_labels(facts, out[start : start + len(facts.keys), HITS].tolist())

        record = self._book.get(facts.account)
        if record is not None and record.offences and facts.standing is _TRUSTED:
            # Trust needs a clean record: an old account caught on a flagged pattern keeps no extra allowance.
            facts.standing = _ESTABLISHED
        outcomes: list[Decision] = []
        if record is not None and record.penalty_until > now:
            outcomes.append(self._penalty(record, now))
        for limit_rule in compiled.limit_rules:
            decision = self._limit(limit_rule, facts)
            if decision is not None:
                outcomes.append(decision)
        # Most requests meet no rule on any key and touch no flagged key: then no pattern rule can answer.
        flags = self._escalation.flags
        rules = self._young_rules if facts.standing is _YOUNG else self._elder_rules
        if rules and (any(matched) or (flags and not flags.isdisjoint(facts.keys))):
            measures = out[start : start + len(facts.keys)].tolist()
            for index, pattern_rule in rules:
                decision = self._pattern(index, pattern_rule, facts, measures, matched[index])
                if decision is not None:
                    outcomes.append(decision)
        if facts.standing is _YOUNG and self._escalation.taints and not any(outcome.enforced for outcome in outcomes):
            decision = self._taint(facts)
            if decision is not None:
                outcomes.append(decision)
        if not outcomes:
            return ALLOW
        if len(outcomes) == 1:
            return outcomes[0]
        return max(outcomes, key=lambda decision: (decision.enforced, decision.action.severity))

    def _first_sightings(self, keys: Iterable[int], now: float) -> None:
        """Remember when each of ``keys`` was first seen (for the ``pattern_age`` measure), bounded like the flags."""
        for key in keys:
            if key not in self._first_seen:
                _bounded_put(self._first_seen, key, now, self.policy.capacity.flags)

    def _penalty(self, record: AccountRecord, now: float) -> Decision:
        action = Action.BLOCK if self._blocks(record) else Action.THROTTLE
        return Decision(
            action,
            rule=record.penalty_rule,
            pattern=record.penalty_pattern if isinstance(record.penalty_pattern, PatternRef) else None,
            reason=(
                f"this account was caught by rule {record.penalty_rule!r} and stays "
                f"{'blocked' if action is Action.BLOCK else 'throttled'} for {record.penalty_until - now:.0f} s more "
                f"(caught {record.offences} time{'s' if record.offences != 1 else ''})"
            ),
            retry_after=record.penalty_until - now,
            scores=MappingProxyType({"offences": float(record.offences)}),
        )

    def _limit(self, rule: CompiledLimitRule, facts: _Facts) -> Decision | None:
        # per account, the common case, inline: the call and the lookups below cost about 0.3 us a request
        identifiers = [f"a{facts.account:x}"] if rule.per == "account" else self._identifiers(rule.per, facts)
        if not identifiers:
            return None
        item = rule.items[facts.standing]
        strategy = self._strategies[rule.strategy]
        self._limits_storage.now = facts.now
        for identifier in identifiers:
            if strategy.hit(item, identifier, cost=max(1, facts.request.cost)):
                continue
            reset, _ = strategy.get_window_stats(item, identifier)
            action = rule.action
            reason = (
                f"{rule.per} is over its limit of {item.amount} per {item.get_expiry():.0f} s "
                f"({facts.standing} account, weight {item.amount / rule.items[Standing.ESTABLISHED].amount:g})"
            )
            return self._finish(
                rule.name,
                action,
                rule.shadow,
                PatternRef(rule.per, identifier if rule.per != "account" else "this account", 0),
                reason,
                max(0.0, reset - facts.now) if action is Action.THROTTLE else None,
                {"limit": float(item.amount), "weight": item.amount / rule.items[Standing.ESTABLISHED].amount},
            )
        return None

    def _identifiers(self, per: str, facts: _Facts) -> list[str]:
        """The identifiers of a limit rule ``per`` a pattern kind (``per="account"`` is handled by the caller)."""
        index = self._kind_index.get(per)
        if index is not None:
            start, end = facts.spans[index]
            counted = [f"{per}:{key:x}" for key in facts.keys[start:end]]
            if counted:
                return counted
        return [f"{per}:{key:x}" for key in self._kind_keys(per, facts.request, facts.network, facts.account, {})]

    def _pattern(
        self, index: int, rule: CompiledPatternRule, facts: _Facts, measures: list[list[float]], matched: int
    ) -> Decision | None:
        """Flag every key of the rule's kind that meets it; decide on the first matching (or remembered) one.
        ``matched`` has bit ``p`` set when key ``p`` meets the rule's conditions (all but ``pattern_age``)."""
        now, flags = facts.now, self._escalation.flags
        chosen: tuple[int, bool] | None = None
        start, end = facts.spans[self._kind_index[rule.kind]]
        aged = self._aged[index]
        for position in range(start, end):
            key = facts.keys[position]
            if matched >> position & 1 and (not aged or self._aged_enough(rule, key, now)):
                if not rule.shadow:
                    self._escalation.flag(key, rule.name, now)
                    if self._journal is not None:
                        self._journal.event("f", key, rule.name, now + self._escalation.memory)
                if chosen is None or not chosen[1]:
                    chosen = (position, True)
            elif chosen is None and key in flags:
                flag = self._escalation.flagged(key, now)
                if flag is not None and flag.rule == rule.name and self._fits(index, facts, key, measures[position]):
                    chosen = (position, False)
        if chosen is None:
            return None
        position, matches = chosen
        key = facts.keys[position]
        values = self._measures(key, measures[position], now, facts.network_item)
        return self._on_flagged(rule, facts, rule.kind, key, values, matches)

    def _fits(self, index: int, facts: _Facts, key: int, row: list[float]) -> bool:
        """Whether the request meets rule ``index``'s ``network_share`` and ``network_concentration`` bounds on
        ``key`` (true without any): a flagged pattern's request from a NAT cohort (a class, an office) is not acted
        on, while the same pattern's proxy-pool requests are."""
        bounds = self._network_bounds[index]
        if not bounds:
            return True
        values = self._measures(key, row, facts.now, facts.network_item)
        return all(low <= values.get(measure, math.nan) <= high for measure, low, high in bounds)

    def _aged_enough(self, rule: CompiledPatternRule, key: int, now: float) -> bool:
        """Whether ``key`` meets the rule's ``pattern_age`` conditions (the kernel checked all the others)."""
        age = now - self._first_seen.get(key, now)
        return all(
            condition.low <= age <= condition.high for condition in rule.conditions if condition.code == _AGE_CODE
        )

    def _measures(self, key: int, row: list[float], now: float, network: int) -> dict[str, float]:
        if math.isnan(row[ACCOUNTS]):
            # The kernel skipped the estimates (hits below the gate) but a remembered flag needs them for the reason.
            row = list(row)
            row[ACCOUNTS] = self._accounts.estimate(key, now)
            row[YOUNG] = self._young.estimate(key, now)
            if not math.isnan(row[COPIES]):
                row[NOVEL] = float(self._hits.estimate(int(novel_key(np.uint64(key))), now))
                row[COHORT] = self._young.estimate(int(cohort_key(np.uint64(key), np.uint64(network))), now)
                requests = self._hits.estimate(int(young_requests_key(np.uint64(key))), now)
                squares = self._hits.estimate(int(squares_key(np.uint64(key))), now)
                row[CONCENTRATION] = min(1.0, squares / (float(requests) * float(requests))) if requests > 0 else 0.0
        hits, young = row[HITS], row[YOUNG]
        accounts = max(row[ACCOUNTS], young)  # young accounts are accounts: keep the two estimates consistent
        values = {
            "hits": hits,
            "accounts": accounts,
            "young_accounts": young,
            "young_share": min(1.0, young / accounts) if accounts > 0 else 0.0,
            "filler_diversity": _ratio(row[NOVEL], hits),
            "copies": row[COPIES],
            "pattern_age": now - self._first_seen[key] if key in self._first_seen else math.nan,
            "network_share": _ratio(row[COHORT], young),
            "network_concentration": row[CONCENTRATION],
        }
        # A measure the kernel did not count for this kind (NaN) is left out, not reported as a number.
        return {name: value for name, value in values.items() if not math.isnan(value)}

    def _on_flagged(
        self,
        rule: CompiledPatternRule,
        facts: _Facts,
        kind: str,
        key: int,
        values: dict[str, float],
        matches: bool,
    ) -> Decision | None:
        if facts.standing not in rule.standings:
            return None
        now = facts.now
        pattern = PatternRef(kind, self._label(facts, kind, key), key)
        reason = self._reason(rule, kind, values, matches)
        if rule.action is Action.LOG:
            # A log rule reports; it neither counts towards persistence nor catches anyone.
            return Decision(Action.LOG, rule.name, pattern, reason, None, MappingProxyType(values), enforced=False)
        first = not facts.counted
        facts.counted = True
        if first:
            record = self._flagged_hit(facts.account, now)
            if self._journal is not None:
                self._journal.event("h", facts.account, now)
        else:
            record = self._book.record(facts.account)
        context = {"account_flagged_hits": float(record.flagged_hits)}
        if facts.age is not None:
            context["account_age_days"] = facts.age / 86400.0
        scores = MappingProxyType({**values, **context})
        if record.flagged_hits < rule.min_account_hits:
            watching = (
                f"{reason}; this account's request {record.flagged_hits} on flagged patterns, "
                f"acted on from {rule.min_account_hits}"
            )
            return Decision(Action.LOG, rule.name, pattern, watching, None, scores, enforced=False, shadowed=None)
        action = rule.action
        if not rule.shadow:
            if first or not record.penalty_until > now:
                self._catch(record, facts, rule.name, pattern, now)
            if self._blocks(record):
                action = Action.BLOCK
        retry = rule.retry_after if action is Action.THROTTLE else None
        return self._finish(rule.name, action, rule.shadow, pattern, reason, retry, scores)

    def _flagged_hit(self, account: int, now: float) -> AccountRecord:
        """Count one request of ``account`` on a flagged pattern (the persistence count) and return its record."""
        record = self._book.record(account)
        if now - record.flagged_since > self.policy.escalation.memory:
            record.flagged_hits, record.flagged_since = 0, now
        record.flagged_hits += 1
        return record

    def _catch(self, record: AccountRecord, facts: _Facts, rule: str, pattern: PatternRef, now: float) -> None:
        network = facts.network_key
        client = keyed_hash(facts.request.client, self._seeds["client"]) if facts.request.client else 0
        self._caught(record, rule, pattern, now, network, client)
        if self._journal is not None:
            self._journal.event(
                "c", facts.account, rule, pattern.kind, pattern.label, pattern.key, now, network, client
            )

    def _caught(
        self, record: AccountRecord, rule: str, pattern: PatternRef, now: float, network: int, client: int
    ) -> None:
        escalation = self.policy.escalation
        record.offences += 1
        record.penalty_until = max(record.penalty_until, now + escalation.account_penalty)
        record.penalty_rule, record.penalty_pattern = rule, pattern
        if not record.tainted:
            record.tainted = True
            if escalation.network_taint:
                self._escalation.taint(network, now)
            if escalation.client_taint and client:
                self._escalation.taint(client, now)

    def _blocks(self, record: AccountRecord) -> bool:
        after = self.policy.escalation.block_after
        return bool(after) and record.offences >= after

    def _taint(self, facts: _Facts) -> Decision | None:
        escalation, now = self.policy.escalation, facts.now
        checks = []
        if escalation.network_taint:
            checks.append(("network", facts.network_key, escalation.network_taint, facts.network or "(invalid)"))
        if escalation.client_taint and facts.request.client:
            client_key = keyed_hash(facts.request.client, self._seeds["client"])
            checks.append(("client", client_key, escalation.client_taint, facts.request.client[:40]))
        for kind, key, threshold, label in checks:
            caught = self._escalation.tainted(key, now)
            if caught >= threshold:
                reason = (
                    f"{caught} accounts caught on flagged patterns used this {kind} in the last "
                    f"{_duration(escalation.memory)}; young accounts from it start throttled (threshold {threshold})"
                )
                return self._finish(
                    f"escalation:{kind}-taint",
                    Action.THROTTLE,
                    self.policy.shadow,
                    PatternRef(kind, label, key),
                    reason,
                    escalation.account_penalty,
                    {"caught_accounts": float(caught)},
                )
        return None

    def _finish(
        self,
        rule: str,
        action: Action,
        shadow: bool,
        pattern: PatternRef,
        reason: str,
        retry_after: float | None,
        scores: dict[str, float] | MappingProxyType[str, float],
    ) -> Decision:
        frozen = scores if isinstance(scores, MappingProxyType) else MappingProxyType(scores)
        if shadow:
            return Decision(Action.LOG, rule, pattern, f"shadow: {reason}", None, frozen, False, action)
        return Decision(action, rule, pattern, reason, retry_after, frozen)

    def _reason(self, rule: CompiledPatternRule, kind: str, values: dict[str, float], matches: bool) -> str:
        window = _duration(self.policy.window)
        young_age = _duration(self.policy.context.young_age)
        allowed = next((condition.low for condition in rule.conditions if condition.measure == "young_accounts"), None)
        sentence = (
            f"{values['young_accounts']:.0f} distinct accounts younger than {young_age} "
            f"({values['young_share']:.0%} of {values['accounts']:.0f}) sent this {kind.replace('_', '-')} in the "
            f"last {window}"
        )
        if "filler_diversity" in values:
            sentence += f", {values['filler_diversity']:.0%} of its {values['hits']:.0f} requests with new text"
        else:
            sentence += f" in {values['hits']:.0f} requests"
        if allowed is not None:
            sentence += f"; the rule allows {allowed:.0f}"
        if not matches:
            sentence += f" (pattern flagged earlier, remembered for {_duration(self.policy.escalation.memory)})"
        return sentence

    # -- shared state (see patternlimit.replication) ----------------------------------------------------------

    def _record(self, facts: _Facts) -> None:
        """Put ``facts``' observation in the journal, as the sketch kernel consumes it."""
        assert self._journal is not None
        self._journal.observe(
            facts.now,
            facts.account,
            facts.content,
            facts.network_item,
            facts.request.cost,
            facts.standing is _YOUNG,
            facts.copy_count,
            tuple(facts.keys),
        )

    def _apply(self, batch: Batch) -> int:
        """Apply another process's records (the lock is held); returns how many records were malformed."""
        observations = batch.observations
        records = observations.shape[0]
        if records:
            offsets = np.zeros(records + 1, dtype=np.int64)
            np.cumsum(observations["count"], out=offsets[1:])
            observe_batch(
                *self._state,
                np.ascontiguousarray(batch.keys, dtype=np.uint64),
                offsets,
                np.ascontiguousarray(observations["account"], dtype=np.uint64),
                np.ascontiguousarray(observations["content"], dtype=np.uint64),
                np.ascontiguousarray(observations["network"], dtype=np.uint64),
                np.ascontiguousarray(observations["young"], dtype=np.bool_),
                np.ascontiguousarray(observations["now"], dtype=np.float64),
                np.ascontiguousarray(observations["cost"], dtype=np.int64),
                np.ascontiguousarray(observations["copy_count"], dtype=np.int64),
                np.full(records, NEVER, dtype=np.int64),  # replaying needs no estimates
                0,
                self._no_conditions,
                self._no_starts,
                np.empty((int(offsets[-1]), 7), dtype=np.float64),
                np.empty((records, 0), dtype=np.uint64),
            )
            if self._compiled.needs_age:
                bounds = offsets.tolist()
                for index, now in enumerate(observations["now"].tolist()):
                    self._first_sightings(batch.keys[bounds[index] : bounds[index + 1]].tolist(), now)
        malformed = 0
        for event in batch.events:
            try:
                self._apply_event(event)
            except (TypeError, ValueError, IndexError, KeyError):
                malformed += 1
        return malformed

    def _apply_event(self, event: list[Any]) -> None:
        kind = event[0]
        if kind == "f":
            _, key, rule, until = event
            flag = self._escalation.flags.get(int(key))
            if flag is None or flag.until < until:
                self._escalation.flags.put(int(key), Flag(str(rule), float(until)))
        elif kind == "h":
            _, account, now = event
            self._flagged_hit(int(account), float(now))
        elif kind == "l":
            _, key, pattern_kind, label = event
            _bounded_put(self._labels, int(key), (str(pattern_kind), str(label)), self.policy.capacity.flags)
        elif kind == "c":
            _, account, rule, pattern_kind, label, key, now, network, client = event
            pattern = PatternRef(str(pattern_kind), str(label), int(key))
            self._caught(self._book.record(int(account)), str(rule), pattern, float(now), int(network), int(client))
        else:
            self._limits_storage.replay(event)

    def _state_arrays(self) -> list[np.ndarray]:
        return [part for part in self._state if isinstance(part, np.ndarray)]

    def _snapshot(self) -> bytes:
        """The sketch state and the flags (the lock is held): what a process joining later starts from."""
        flags = [[key, flag.rule, flag.until] for key, flag in self._escalation.flags.items()]
        taints = [[key, taint.caught, taint.until] for key, taint in self._escalation.taints.items()]
        header = json.dumps(
            {
                "secret": self.secret_id,
                "arrays": [[part.dtype.str, part.shape] for part in self._state_arrays()],
                "flags": flags,
                "taints": taints,
                "labels": [[key, kind, label] for key, (kind, label) in self._labels.items()],
            }
        ).encode()
        return len(header).to_bytes(4, "little") + header + b"".join(part.tobytes() for part in self._state_arrays())

    def _restore(self, blob: bytes) -> None:
        """Load a :meth:`_snapshot` (the lock is held); raises :class:`StorageError` if it does not fit."""
        try:
            size = int.from_bytes(blob[:4], "little")
            header = json.loads(blob[4 : 4 + size])
            arrays = self._state_arrays()
            shapes = [[part.dtype.str, list(part.shape)] for part in arrays]
            if header["secret"] != self.secret_id or header["arrays"] != shapes:
                raise ValueError("the snapshot was written by a limiter with another secret or capacity")
            if 4 + size + sum(part.nbytes for part in arrays) != len(blob):
                raise ValueError("the snapshot's length does not match its header")
            offset = 4 + size
            for part in arrays:
                part[...] = np.frombuffer(blob, dtype=part.dtype, count=part.size, offset=offset).reshape(part.shape)
                offset += part.nbytes
            for key, rule, until in header["flags"]:
                self._escalation.flags.put(int(key), Flag(str(rule), float(until)))
            for key, caught, until in header["taints"]:
                self._escalation.taints.put(int(key), Taint(int(caught), float(until)))
            for key, kind, label in header["labels"]:
                _bounded_put(self._labels, int(key), (str(kind), str(label)), self.policy.capacity.flags)
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"the shared snapshot cannot be loaded: {exc}") from exc

    # -- labels --------------------------------------------------------------------------------------------------

    def _label(self, facts: _Facts, kind: str, key: int) -> str:
        known = self._labels.get(key)
        if known is not None:
            return known[1]
        return self._labelled(key, kind, _Sample.of(facts))

    def _labelled(self, key: int, kind: str, sample: _Sample) -> str:
        label = self._describe(sample, kind)
        _bounded_put(self._labels, key, (kind, label), self.policy.capacity.flags)
        if self._journal is not None:
            self._journal.event("l", key, kind, label)  # other processes may lack a sample of this key
        self._samples.pop(key, None)
        return label

    def _known_label(self, key: int) -> tuple[str, str]:
        """The label of ``key`` if known, else made now from its kept sample (a label costs ~1 ms: off the hot path)."""
        known = self._labels.get(key)
        if known is not None:
            return known
        sample = self._samples.get(key)
        if sample is None:
            return ("?", "(no sample kept)")
        kind, kept = sample
        return kind, self._labelled(key, kind, kept)

    def _describe(self, sample: _Sample, kind: str) -> str:
        parts = []
        for part in kind.split("+"):
            if part in ("template", "near_duplicate"):
                parts.append(self._text.label(sample.text))
            elif part == "network":
                parts.append(sample.network)
            elif part == "client":
                parts.append(sample.client)
            elif part == "route":
                parts.append(sample.route)
            elif part == "account":
                parts.append(sample.account)
            else:
                parts.append(sample.attributes.get(part.removeprefix("attribute:"), ""))
        return " + ".join(parts)

    def _remember_labels(self, facts: _Facts, hits: list[float]) -> None:
        sample: _Sample | None = None
        labels, samples = self._labels, self._samples
        for kind, (start, end) in zip(self._compiled.kinds, facts.spans, strict=True):
            for position in range(start, end):
                key = facts.keys[position]
                if hits[position] >= _LABEL_AFTER_HITS and key not in labels and key not in samples:
                    sample = sample or _Sample.of(facts)
                    _bounded_put(samples, key, (kind, sample), _SAMPLES)


class _Sample(NamedTuple):
    """What a label needs of a request, copied and clipped so that a kept sample is at most a few KiB."""

    text: str | bytes
    network: str
    account: str
    client: str
    route: str
    attributes: dict[str, str]

    @classmethod
    def of(cls, facts: _Facts) -> _Sample:
        request = facts.request
        text = request.text
        if len(text) > 2 * _CLIP:
            text = text[:_CLIP] + text[-_CLIP:]  # type: ignore[operator]  # both halves are str, or both bytes
        attributes = {
            str(name)[:_SHORT]: str(value)[:_SHORT] for name, value in list(request.attributes.items())[:_SHORT]
        }
        return cls(
            text,
            facts.network or "(invalid)",
            facts.account_name[:_SHORT],
            request.client[:_SHORT],
            request.route[:_SHORT],
            attributes,
        )


def _ratio(part: float, whole: float) -> float:
    """``part / whole`` capped at 1; 0 for an empty whole; NaN stays NaN (a measure that was not counted)."""
    if whole <= 0:
        return 0.0
    share = part / whole
    return share if share < 1.0 or math.isnan(share) else 1.0


def _check_input(request: Request, now: float) -> None:
    if type(request) is not Request and not isinstance(request, Request):
        raise TypeError(f"check() takes a patternlimit.Request, got {type(request).__name__}")
    if not (type(now) is float or isinstance(now, int | float)) or not 0.0 <= now < 1e12:
        raise ValueError(f"now must be epoch seconds in [0, 1e12), got {now!r}")
    cost = request.cost
    if type(cost) is not int or not 0 <= cost < 1 << 32:
        raise ValueError(f"Request.cost must be an int in [0, 2**32), got {cost!r}")


def _remember(table: dict[str, _Value], key: str, value: _Value) -> _Value:
    """Cache ``value`` under ``key`` in a table of at most ``_REMEMBERED`` entries (emptied when full)."""
    if len(table) >= _REMEMBERED:
        table.clear()
    table[key] = value
    return value


def _bounded_put(table: OrderedDict[int, _Value], key: int, value: _Value, capacity: int) -> None:
    """Insert, evicting the oldest insertion when ``table`` is full."""
    if len(table) >= capacity:
        table.popitem(last=False)
    table[key] = value


def _times(now: float | Sequence[float] | None, count: int) -> list[float]:
    if now is None:
        return [time.time()] * count
    if isinstance(now, int | float):
        return [float(now)] * count
    times = list(now)
    if len(times) != count:
        raise ValueError(f"now must be one time or one per request ({count}), got {len(times)}")
    return times


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size and seconds % size == 0:
            amount = seconds / size
            return f"{amount:.0f} {unit[:-1] if amount == 1 else unit}"
    return f"{seconds:g} s"

"""A :class:`~patternlimit.Request` reduced to what the decision needs: its account, standing, network and the
pattern keys of every counted kind. No shared state is read or written here, so the limiter builds facts outside
its lock (the text kernel releases the GIL).

Each counted kind (``CompiledPolicy.kinds``, in order) has its span of :attr:`RequestFacts.keys`. The ``template``
kind carries the whole-frame template key and, for long frames, the opening and closing keys; the
``near_duplicate`` kind the SimHash bands of long frames; ``network`` the keyed prefix; composite kinds
(``a+b``) every pair of their parts' keys, keyed again.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from time import perf_counter

import xxhash

from patternlimit._kernels.layout import MAX_KEYS
from patternlimit._tables import remember
from patternlimit.errors import InvalidRequestError
from patternlimit.fingerprint import TextFingerprinter, network_prefix
from patternlimit.fingerprint.network import MAX_ADDRESS_CHARS, is_public_network
from patternlimit.fingerprint.parts import PartFingerprinter
from patternlimit.fingerprint.text import TextFingerprint
from patternlimit.keying import Keyring, keyed_hash
from patternlimit.policy.compile import CompiledPolicy
from patternlimit.policy.models import Policy
from patternlimit.policy.standing import Standing, standing_of
from patternlimit.request import TIME_LIMIT, Request

_YOUNG, _ESTABLISHED, _TRUSTED = Standing.YOUNG, Standing.ESTABLISHED, Standing.TRUSTED
"""Module aliases: ``Standing.YOUNG`` goes through the enum's metaclass, about 75 ns a lookup."""

_REMEMBERED = 65536
"""Entries of each per-value cache (IP -> network and its key, account name -> key): the same callers repeat, and a
hash and a prefix parse cost more than a dict lookup. Emptied when full: bounded, with no eviction bookkeeping on
the hot path; about 200 B per entry."""

_REMEMBERED_CHARS = 256
"""Longer account names are hashed every time rather than cached, so the caches' memory stays bounded."""

_TEMPLATE, _NEAR_DUPLICATE, _NETWORK, _ACCOUNT, _OTHER = range(5)
_PLAN_CODES = {"template": _TEMPLATE, "near_duplicate": _NEAR_DUPLICATE, "network": _NETWORK, "account": _ACCOUNT}
_PRESET_PLAN = ((_TEMPLATE, "template"), (_NEAR_DUPLICATE, "near_duplicate"), (_NETWORK, "network"))
"""The default preset's kinds, which :meth:`FactsBuilder.facts` assembles without the plan loop."""

SEED_PURPOSES = ("account", "network", "client", "route", "attribute", "composite")


@dataclass(slots=True)
class RequestFacts:
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
    started: float = field(default=0.0, compare=False)
    """``time.perf_counter()`` when the facts were built: the start of the check, for its latency."""
    generation: int = 0
    """The generation of the builder that made these facts (:attr:`FactsBuilder.generation`)."""
    account_networks: int = 1
    """Distinct networks among the account's recent requests (set by the decider from the account's history)."""
    network_accounts: float | None = None
    """Young accounts on the request's network when they are most of its senders (set when a rule needs it)."""
    unproven: bool = False
    """Whether the account counts as young only because the limiter has no history of it (``Context.proven_after``)."""
    part_keys: int = 0
    """How many of the template span's keys, its last ones, are part keys."""
    part_counts: dict[int, int] | None = None
    """The account's request count on each flagged part key, counted once per request (several rules read it)."""
    flagged_keys: set[int] = field(default_factory=set, compare=False)
    """Those of ``keys`` that hold a flag, found once per request by the decider before any rule reads it, and kept
    current as its rules flag keys or find flags expired (several rules read it)."""
    persistence: int | None = None
    """The half-hours in which the account sent requests on flagged patterns, this one's included (set once a
    rule's routing asks for it)."""
    routed_rules: dict[int, bool] | None = None
    """Per pattern rule that reads only the request's own routing, whether the request meets it (once a request)."""
    counted: bool = False
    """Whether this request was already counted on a flagged pattern (and caught, if so) by an earlier rule: a
    request that several rules flag counts once towards persistence, and is caught once."""

    @property
    def public_network(self) -> bool:
        """Whether the request came from a public (globally routable) network: only such a network is shared
        evidence about the accounts behind it."""
        return self.network_item == self.network_key and self.network is not None


class FactsBuilder:
    """Builds :class:`RequestFacts` for one policy and secret, with bounded caches of per-value work."""

    def __init__(self, policy: Policy, compiled: CompiledPolicy, keyring: Keyring, generation: int = 0) -> None:
        settings = policy.fingerprint
        self.generation = generation
        """Which of the limiter's policies (one per reload) these facts are built for."""
        self.policy = policy
        self.compiled = compiled
        self.text = TextFingerprinter(
            keyring, max_bytes=settings.max_bytes, edge_tokens=settings.edge_tokens, bands=settings.bands
        )
        self.parts = PartFingerprinter(keyring, limit=settings.parts)
        self.seeds = {purpose: keyring.seed(f"pattern:{purpose}") for purpose in SEED_PURPOSES}
        self._networks: dict[str, tuple[str | None, int, bool]] = {}
        self._accounts: dict[str, int] = {}
        self._unknown_standing = standing_of(None, policy.context)
        self._young_age, self._trusted_age = policy.context.young_age, policy.context.trusted_age
        self._long_frame = 2 * settings.edge_tokens
        self._copy_kinds = sum(kind in compiled.copy_kinds for kind in compiled.kinds)
        self._plan = tuple((_PLAN_CODES.get(kind, _OTHER), kind) for kind in compiled.kinds)
        self._preset_plan = self._plan == _PRESET_PLAN and self._copy_kinds == 2

    def account_key(self, account: str) -> int:
        """The keyed hash of an account name, as the requests of that account carry it."""
        return keyed_hash(account, self.seeds["account"])

    def network_key(self, address_or_prefix: str) -> int:
        """The keyed hash of the network of an address, or of a prefix given as ``"203.0.113.0/24"``."""
        settings = self.policy.fingerprint
        network = network_prefix(
            address_or_prefix.split("/")[0], ipv4_prefix=settings.ipv4_prefix, ipv6_prefix=settings.ipv6_prefix
        )
        if network is None:
            raise ValueError(f"network must be an IP address or prefix, got {address_or_prefix!r}")
        return keyed_hash(network, self.seeds["network"])

    def template_key(self, text: str | bytes) -> int:
        """The whole-frame template key of a sample text (0 when it has no template: too short or empty)."""
        return self.text.fingerprint(text).template

    def client_key(self, client: str) -> int:
        """The keyed hash of a client fingerprint (0 for none)."""
        return keyed_hash(client, self.seeds["client"]) if client else 0

    def facts_many(self, requests: Sequence[Request], times: Sequence[float]) -> list[RequestFacts]:
        """:meth:`facts` of each request, with one text kernel call per 256 KiB of text instead of one per request."""
        texts: list[TextFingerprint | None] = [None] * len(requests)
        if self.compiled.needs_text:
            wanted = [index for index, request in enumerate(requests) if request.text]
            for index, fingerprint in zip(
                wanted, self.text.fingerprint_many(latest_turn(requests[index].text) for index in wanted), strict=True
            ):
                texts[index] = fingerprint
        return [self.facts(request, moment, text) for request, moment, text in zip(requests, times, texts, strict=True)]

    def facts(self, request: Request, now: float, text: TextFingerprint | None = None) -> RequestFacts:
        """The facts of a request already checked by :func:`check_input`."""
        started = perf_counter()
        ip = request.ip
        known = self._networks.get(ip) if type(ip) is str else None
        if known is None:
            known = self._network_of(ip)
        network, network_key, public = known
        # An anonymous request is its network's pseudo-account: anonymous fan-out from many networks still shows
        # as many accounts, and all anonymous callers behind one prefix share one allowance.
        account_name = request.account or f"anonymous:{network or 'invalid-ip'}"
        account = self._accounts.get(account_name) if type(account_name) is str else None
        if account is None:
            account = keyed_hash(account_name, self.seeds["account"])
            if type(account_name) is str and len(account_name) <= _REMEMBERED_CHARS:
                remember(self._accounts, account_name, account, _REMEMBERED)
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
        part_keys = 0
        bands: list[int] = []
        content = 0
        if self.compiled.needs_text and request.text:
            # A conversation's earlier turns (a fixed system prompt, the agent's wrapper) are context: the latest
            # turn is what varies from user to user, and what is fingerprinted.
            ask = latest_turn(request.text)
            fingerprint = text or self.text.fingerprint(ask)
            content = fingerprint.content
            # Long frames also carry their opening and closing keys: a template whose filler sits near one end is
            # still caught by its other end.
            if fingerprint.template:
                template = [fingerprint.template, *fingerprint.edges]
            # A young account's request also carries its parts' keys (frames assembled from shared parts); pattern
            # rules act on young accounts only, and parts cost a kernel pass over the text and a hash per part.
            if standing is _YOUNG and self.parts.limit:
                found = self.parts.keys(ask)
                template += found
                part_keys = len(found)
            # SimHash over the few shingles of a short frame makes unrelated short prompts that share most of their
            # words near-duplicates (3,000 new users asking "Explain how {x} works in simple terms." would fan out);
            # a short frame is keyed whole by the template key anyway, so bands count only for long frames.
            if fingerprint.frame_tokens > self._long_frame:
                bands = list(fingerprint.bands)
        if self._preset_plan:
            # The default preset's kinds (template, near_duplicate, network; copies counted on the first two)
            # without the plan loop: the same keys and spans, about 0.4 us sooner. Never more than MAX_KEYS.
            keys = template + bands
            keys.append(network_key)
            cut = len(template)
            copy_count = cut + len(bands)
            spans = [(0, cut), (cut, copy_count), (copy_count, copy_count + 1)]
        else:
            keys, spans, copy_count = self._assemble(request, network, network_key, account, template, bands)
        return RequestFacts(
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
            started=started,
            generation=self.generation,
            part_keys=part_keys,
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
        for code, kind in self._plan:  # the common kinds inline; the others as kind_keys says
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
                keys += self.kind_keys(kind, request, network, account, single)
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
        key = keyed_hash(network or "(invalid)", self.seeds["network"])
        known = (network, key, network is not None and is_public_network(network))
        if type(ip) is str and len(ip) <= MAX_ADDRESS_CHARS:
            remember(self._networks, ip, known, _REMEMBERED)
        return known

    def kind_keys(
        self, kind: str, request: Request, network: str | None, account: int, single: dict[str, list[int]]
    ) -> list[int]:
        """The keys of one counted kind (``single`` holds those already computed, by kind)."""
        if "+" in kind:
            first, second = kind.split("+")
            left = self.kind_keys(first, request, network, account, single)
            right = self.kind_keys(second, request, network, account, single)
            seed = self.seeds["composite"]
            return [
                xxhash.xxh3_64_intdigest(a.to_bytes(8, "little") + b.to_bytes(8, "little"), seed) >> 1
                for a in left
                for b in right
            ]
        if kind in single:
            return single[kind]
        if kind == "network":
            # Every invalid or missing IP shares one network pattern, "(invalid)": counted, never an exception.
            return [keyed_hash(network or "(invalid)", self.seeds["network"])]
        if kind == "account":
            return [account]
        if kind == "client":
            return [keyed_hash(request.client, self.seeds["client"])] if request.client else []
        if kind == "route":
            return [keyed_hash(request.route, self.seeds["route"])] if request.route else []
        name = kind.removeprefix("attribute:")
        value = request.attributes.get(name)
        return [keyed_hash(f"{name}\x00{value}", self.seeds["attribute"])] if value else []


TURN_SEPARATOR = "\x1e"
"""Separates a conversation's turns in :attr:`Request.text <patternlimit.Request.text>` (the ASCII record
separator): the integrations join a chat body's messages with it, and only the text after the last one is
fingerprinted."""


def latest_turn(text: str | bytes | bytearray | memoryview) -> str | bytes | bytearray | memoryview:
    """The text after the last :data:`TURN_SEPARATOR` (all of ``text`` when there is none)."""
    if type(text) is str:
        cut = text.rfind(TURN_SEPARATOR)
        return text if cut < 0 else text[cut + 1 :]
    if isinstance(text, bytes | bytearray):
        cut = text.rfind(b"\x1e")
        return text if cut < 0 else text[cut + 1 :]
    return text


def check_input(request: object, now: object, index: int | None = None) -> float:
    """``now`` as a float, after checking that ``request`` is a :class:`Request` (whose fields it checked itself)
    and ``now`` epoch seconds in ``[0, 1e12)``; else :class:`InvalidRequestError` naming the batch ``index``."""
    if type(request) is not Request and not isinstance(request, Request):
        where = "check()" if index is None else f"check_many(): requests[{index}]"
        raise InvalidRequestError(f"{where} must be a patternlimit.Request, got {type(request).__name__}")
    if type(now) is float and 0.0 <= now < TIME_LIMIT:
        return now
    seconds = math.nan
    if isinstance(now, numbers.Real) and not isinstance(now, bool):
        with contextlib.suppress(OverflowError):  # an int past the float range: not a time
            seconds = float(now)
    if not 0.0 <= seconds < TIME_LIMIT:
        shown = repr(now) if len(repr(now)) <= 40 else repr(now)[:37] + "..."
        where = "now" if index is None else f"check_many(): now[{index}]"
        raise InvalidRequestError(f"{where} must be epoch seconds in [0, 1e12), got {shown}")
    return seconds


def times_of(now: object, count: int) -> list[object]:
    """One time per request: the wall clock, one time for all, or one each (checked by :func:`check_input`)."""
    if now is None:
        return [time.time()] * count
    if isinstance(now, numbers.Real):
        return [now] * count
    if isinstance(now, str | bytes) or not isinstance(now, Iterable):
        raise InvalidRequestError(f"now must be one time or one per request, got {type(now).__name__}")
    times = list(now)
    if len(times) != count:
        raise InvalidRequestError(f"now must be one time or one per request ({count}), got {len(times)}")
    return times

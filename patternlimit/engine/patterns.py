"""The pattern rules' part of a decision: which keys a rule flags, which flagged key it acts on, and how.

A rule flags every key of its kind that meets it (the rule kernel has set the key's bit; ``pattern_age`` is checked
here, first sightings being kept outside the sketches), and acts on the first matching key, or else on a key it
flagged earlier if the request still fits the rule's network bounds (a class's request is not acted on because a
proxy pool flagged its template hours ago). Acting counts the request towards the account's persistence; once an
account has ``min_account_hits`` requests on flagged patterns it is caught: penalised, and its network and client
tainted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, NamedTuple

from patternlimit._kernels.layout import (
    ACCOUNTS,
    AGE_CODE,
    COHORT,
    CONCENTRATION,
    COPIES,
    HITS,
    NOVEL,
    REQUEST_CODES,
    ROUTING_CODES,
)
from patternlimit._kernels.layout import YOUNG as YOUNG_COLUMN
from patternlimit.engine.facts import FactsBuilder, RequestFacts
from patternlimit.engine.labels import Labels
from patternlimit.engine.memory import AccountRecord, Memory
from patternlimit.engine.reasons import finish, pattern_reason, ratio, watching_reason
from patternlimit.policy.compile import CompiledPatternRule, CompiledPolicy
from patternlimit.policy.decision import Action, Decision, PatternRef
from patternlimit.policy.models import Policy
from patternlimit.sketches.state import SketchState
from patternlimit.storage.journal import Journal

_LOG = Action.LOG.severity
_ROUTING_MEASURES = frozenset({"account_networks", "network_accounts", "account_persistence"})
POOL_SHARE = 0.8
"""``network_accounts`` counts a network's young accounts when they are at least this share of its senders: a proxy
exit serves the accounts its operator provisions, while a residential or carrier prefix crowded with new users
(a launch, a viral tool) still carries established neighbours."""


class Outcome(NamedTuple):
    """A rule's answer before it is worded: what the choice among a request's answers reads, and how to make the
    decision (its reason, label and measures) once it is the one reported."""

    enforced: bool
    severity: int
    decision: Callable[[], Decision]


class PatternRules:
    """Evaluates the compiled pattern rules on observed requests; see the module docstring."""

    def __init__(
        self,
        policy: Policy,
        compiled: CompiledPolicy,
        state: SketchState,
        memory: Memory,
        labels: Labels,
        builder: FactsBuilder,
        journal: Journal | None,
    ) -> None:
        self.policy = policy
        self.state = state
        self.memory = memory
        self.labels = labels
        self.builder = builder
        self.journal = journal
        rules = compiled.pattern_rules
        self._rules = rules
        self._kind_index = {kind: index for index, kind in enumerate(compiled.kinds)}
        self._part_hits = policy.fingerprint.part_hits
        self._network_span = self._kind_index.get("network")
        self._aged = [any(condition.code == AGE_CODE for condition in rule.conditions) for rule in rules]
        self._routed = [
            (
                tuple(
                    (condition.measure, condition.low, condition.high)
                    for condition in rule.conditions
                    if condition.code in ROUTING_CODES
                ),
                tuple((condition.measure, condition.low, condition.high) for condition in rule.any_conditions),
            )
            for rule in rules
        ]
        self._counts_persistence = any(
            measure == "account_persistence" for every, one_of in self._routed for measure, _, _ in (*every, *one_of)
        )
        # Rules whose routing conditions read only the request's own routing (the default preset's): those are
        # decided from the request's facts, without a key's measures (the attack path evaluates them per key).
        self._routing_only = [
            all(measure in _ROUTING_MEASURES for measure, _, _ in (*every, *one_of)) for every, one_of in self._routed
        ]
        self._network_bounds = [
            tuple(
                (condition.measure, condition.low, condition.high)
                for condition in rule.conditions
                if condition.code in REQUEST_CODES and condition.code not in ROUTING_CODES
            )
            for rule in rules
        ]

    def evaluate(
        self,
        index: int,
        rule: CompiledPatternRule,
        facts: RequestFacts,
        measures: list[list[float]],
        matched: int,
        allowed: frozenset[int] = frozenset(),
    ) -> Outcome | None:
        """Flag every key of the rule's kind that meets it; decide on the first matching (or remembered) one.
        ``matched`` has bit ``p`` set when key ``p`` meets the rule's conditions (all but ``pattern_age``);
        ``allowed`` keys (an operator's override) are neither flagged nor acted on."""
        now, memory = facts.now, self.memory
        flags = facts.flagged_keys
        chosen: tuple[int, bool] | None = None
        start, end = facts.spans[self._kind_index[rule.kind]]
        aged = self._aged[index]
        routed = self._routed[index] if any(self._routed[index]) else None
        if routed and facts.network_accounts is None:
            facts.network_accounts = self._network_accounts(facts, measures)
        parts = end - facts.part_keys if rule.kind == "template" and facts.part_keys else end
        for position in range(start, end):
            key = facts.keys[position]
            if allowed and key in allowed:
                continue
            if position >= parts and (matched >> position & 1 or key in flags) and not self._persistent(facts, key):
                continue
            if (
                matched >> position & 1
                and (not aged or self._aged_enough(rule, key, now))
                and (not routed or self._routed_enough(index, facts, key, measures[position]))
            ):
                if not rule.shadow:
                    memory.flag(key, rule.name, now)
                    flags.add(key)
                    if self.journal is not None:
                        self.journal.event("f", key, rule.name, now + self.policy.escalation.memory)
                if chosen is None or not chosen[1]:
                    chosen = (position, True)
            elif chosen is None and key in flags:
                flag = memory.flagged(key, now)
                if flag is None:
                    flags.discard(key)  # expired, and dropped from the table
                elif flag.rule == rule.name and self._fits(index, facts, key, measures[position]):
                    chosen = (position, False)
        if chosen is None:
            return None
        position, matches = chosen
        return self._on_flagged(rule, facts, rule.kind, facts.keys[position], measures[position], matches)

    def _persistent(self, facts: RequestFacts, key: int) -> bool:
        """Whether the request's account has sent part ``key`` on ``part_hits`` requests (this one included) while
        it met a rule or was flagged: a stock sentence that many new users each send once is no campaign's part.
        Counted once per request, whichever rules read it."""
        counts = facts.part_counts
        if counts is None:
            counts = facts.part_counts = {}
        count = counts.get(key)
        if count is None:
            count = counts[key] = self.memory.part_hits.hit(facts.account, key, facts.now)
        return count >= self._part_hits

    def measures(self, key: int, row: list[float], facts: RequestFacts) -> dict[str, float]:
        """The named measures of ``key`` from its output row (estimates the kernel skipped are computed now)."""
        now = facts.now
        row = self.state.fill_estimates(key, row, now, facts.network_item)
        hits, young = row[HITS], row[YOUNG_COLUMN]
        accounts = max(row[ACCOUNTS], young)  # young accounts are accounts: keep the two estimates consistent
        first_seen = self.memory.first_seen.get(key)
        values = {
            "hits": hits,
            "accounts": accounts,
            "young_accounts": young,
            "young_share": min(1.0, young / accounts) if accounts > 0 else 0.0,
            "filler_diversity": ratio(row[NOVEL], hits),
            "copies": row[COPIES],
            "pattern_age": now - first_seen if first_seen is not None else math.nan,
            "network_share": ratio(row[COHORT], young),
            "network_concentration": row[CONCENTRATION],
            "account_networks": float(facts.account_networks),
            "network_accounts": facts.network_accounts if facts.network_accounts is not None else math.nan,
            "account_persistence": float(facts.persistence) if facts.persistence is not None else math.nan,
        }
        # A measure the kernel did not count for this kind (NaN) is left out, not reported as a number.
        return {name: value for name, value in values.items() if not math.isnan(value)}

    def _fits(self, index: int, facts: RequestFacts, key: int, row: list[float]) -> bool:
        """Whether the request meets rule ``index``'s ``network_share`` and ``network_concentration`` bounds on
        ``key`` (true without any): a flagged pattern's request from a NAT cohort (a class, an office) is not acted
        on, while the same pattern's proxy-pool requests are."""
        bounds, routed = self._network_bounds[index], self._routed[index]
        if any(routed) and not self._routed_enough(index, facts, key, row):
            return False
        if not bounds:
            return True
        values = self.measures(key, row, facts)
        return all(low <= values.get(measure, math.nan) <= high for measure, low, high in bounds)

    def _network_accounts(self, facts: RequestFacts, measures: list[list[float]]) -> float:
        """The young accounts on the request's network (its key's estimate, over every pattern), or 0 when they are
        under :data:`POOL_SHARE` of its senders (a carrier's, a campus's or an office's prefix, where established
        customers send too, is no proxy pool) or when the policy does not count networks."""
        if self._network_span is None or not facts.public_network:
            return 0.0
        start, end = facts.spans[self._network_span]
        if start == end:
            return 0.0
        row = self.state.fill_estimates(facts.network_key, measures[start], facts.now, facts.network_item)
        young = row[YOUNG_COLUMN]
        accounts = max(row[ACCOUNTS], young)
        return young if accounts > 0 and young >= POOL_SHARE * accounts else 0.0

    def routed(self, facts: RequestFacts, out: Any = None, start: int = 0) -> bool:
        """Whether the request meets an enforcing rule's routing conditions (``when_any``) apart from any pattern:
        the account hops networks (a rotating proxy hands out a prefix per request) or, given the kernel's output
        rows ``out``, its network is a proxy pool's. A shared network alone is no evidence against one account's
        other requests (a residential or carrier prefix carries many new users), so a penalty asks for hopping. A
        request from a private or unknown address carries no evidence either way."""
        if not facts.public_network:
            return False
        for rule, (_, one_of) in zip(self._rules, self._routed, strict=True):
            if rule.action is Action.LOG or rule.shadow:
                continue
            for measure, low, high in one_of:
                if measure == "account_networks":
                    value = float(facts.account_networks)
                elif measure == "network_accounts" and out is not None:
                    value = self.network_young(facts, out, start)
                else:
                    continue
                if low <= value <= high:
                    return True
        return False

    def network_young(self, facts: RequestFacts, out: Any, start: int) -> float:
        """The young accounts on the request's network when they are most of its senders (0 otherwise), from the
        kernel's output rows ``out``; computed once per request."""
        if facts.network_accounts is None:
            facts.network_accounts = self._network_accounts(facts, out[start : start + len(facts.keys)].tolist())
        return facts.network_accounts

    def _routed_enough(self, index: int, facts: RequestFacts, key: int, row: list[float]) -> bool:
        """Whether the request meets a rule's routing conditions (``when``) and one of its ``when_any`` conditions
        on ``key`` (the kernel checked all the others). A request from a private, loopback or unknown address
        (behind a proxy not configured as trusted) carries no routing evidence either way: it loses the exemption,
        never the detection."""
        every, one_of = self._routed[index]
        if not facts.public_network and not any(
            measure not in _ROUTING_MEASURES for measure, _, _ in (*every, *one_of)
        ):
            return True
        if self._routing_only[index]:
            # The same for every key of the request: decided once.
            known = facts.routed_rules
            if known is None:
                known = facts.routed_rules = {}
            answer = known.get(index)
            if answer is None:
                answer = known[index] = _meets(every, one_of, self._routing(facts))
            return answer
        return _meets(every, one_of, {**self.measures(key, row, facts), **self._routing(facts)})

    def _routing(self, facts: RequestFacts) -> dict[str, float]:
        """The request's routing measures (the same for every key of the request)."""
        values = {
            "account_networks": float(facts.account_networks),
            "network_accounts": facts.network_accounts if facts.network_accounts is not None else math.nan,
        }
        if self._counts_persistence:
            values["account_persistence"] = float(self._persistence(facts))
        return values

    def _persistence(self, facts: RequestFacts) -> int:
        """The half-hours of the escalation memory in which the account sent requests on flagged patterns (this
        one's included), whatever their routing: counted once per request, the first time a rule asks."""
        count = facts.persistence
        if count is None:
            seen = self.memory.history.accounts.get(facts.account)
            since = facts.now if seen is None else seen.first_seen
            count = facts.persistence = self.memory.persistence.mark(facts.account, facts.now, since)
        return count

    def _aged_enough(self, rule: CompiledPatternRule, key: int, now: float) -> bool:
        """Whether ``key`` meets the rule's ``pattern_age`` conditions (the kernel checked all the others)."""
        first_seen = self.memory.first_seen.get(key)
        age = now - (now if first_seen is None else first_seen)
        return all(
            condition.low <= age <= condition.high for condition in rule.conditions if condition.code == AGE_CODE
        )

    def _on_flagged(
        self,
        rule: CompiledPatternRule,
        facts: RequestFacts,
        kind: str,
        key: int,
        row: list[float],
        matches: bool,
    ) -> Outcome | None:
        """Count the request on the flagged ``key`` (persistence, catch) now; word the decision only if asked:
        of the rules that answer a request, one decision is reported."""
        if facts.standing not in rule.standings:
            return None
        now = facts.now
        if rule.action is Action.LOG:
            # A log rule reports; it neither counts towards persistence nor catches anyone.
            return Outcome(False, _LOG, functools.partial(self._word, rule, facts, kind, key, row, matches, Action.LOG))
        first = not facts.counted
        facts.counted = True
        if first:
            record = self.memory.flagged_hit(facts.account, now)
            if self.journal is not None:
                self.journal.event("h", facts.account, now)
        else:
            record = self.memory.record(facts.account)
        flagged_hits = record.flagged_hits
        if flagged_hits < rule.min_account_hits:
            word = functools.partial(self._word, rule, facts, kind, key, row, matches, None, flagged_hits)
            return Outcome(False, _LOG, word)
        action = rule.action
        if not rule.shadow:
            if first or not record.penalty_until > now:
                self._catch(record, facts, rule.name, self.pattern(facts, kind, key), now)
            if self.memory.blocks(record):
                action = Action.BLOCK
        word = functools.partial(self._word, rule, facts, kind, key, row, matches, action, flagged_hits)
        return Outcome(not rule.shadow, _LOG if rule.shadow else action.severity, word)

    def pattern(self, facts: RequestFacts, kind: str, key: int) -> PatternRef:
        return PatternRef(kind, self.labels.label(facts, kind, key), key)

    def _word(
        self,
        rule: CompiledPatternRule,
        facts: RequestFacts,
        kind: str,
        key: int,
        row: list[float],
        matches: bool,
        action: Action | None,
        flagged_hits: int = 0,
    ) -> Decision:
        """The decision :meth:`_on_flagged` settled on, with its pattern, measures and reason. ``action`` is
        ``LOG`` for a log rule, None while the account is watched (under ``min_account_hits``)."""
        policy = self.policy
        values = self.measures(key, row, facts)
        pattern = self.pattern(facts, kind, key)
        reason = pattern_reason(
            rule,
            kind,
            values,
            matches,
            window=policy.window,
            young_age=policy.context.young_age,
            memory=policy.escalation.memory,
        )
        if action is Action.LOG:
            return Decision(Action.LOG, rule.name, pattern, reason, None, MappingProxyType(values), enforced=False)
        context = {"account_flagged_hits": float(flagged_hits)}
        if facts.age is not None:
            context["account_age_days"] = facts.age / 86400.0
        scores = MappingProxyType({**values, **context})
        if action is None:
            watching = watching_reason(reason, flagged_hits, rule.min_account_hits)
            return Decision(Action.LOG, rule.name, pattern, watching, None, scores, enforced=False, shadowed=None)
        retry = rule.retry_after if action is Action.THROTTLE else None
        return finish(rule.name, action, rule.shadow, pattern, reason, retry, scores)

    def _catch(self, record: AccountRecord, facts: RequestFacts, rule: str, pattern: PatternRef, now: float) -> None:
        # A private, loopback or unknown address says nothing about who else is behind it (every request of a
        # deployment whose proxy is not configured as trusted comes from one), so it is never tainted.
        network = facts.network_key if facts.public_network else 0
        client = self.builder.client_key(facts.request.client)
        self.memory.caught(record, rule, pattern, now, network, client, facts.account)
        if self.journal is not None:
            self.journal.event("c", facts.account, rule, pattern.kind, pattern.label, pattern.key, now, network, client)


def _meets(
    every: tuple[tuple[str, float, float], ...], one_of: tuple[tuple[str, float, float], ...], values: dict[str, float]
) -> bool:
    """Whether ``values`` meet every condition of ``every`` and one of ``one_of`` (when there are any)."""
    if not all(low <= values.get(measure, math.nan) <= high for measure, low, high in every):
        return False
    return not one_of or any(low <= values.get(measure, math.nan) <= high for measure, low, high in one_of)

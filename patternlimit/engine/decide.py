"""The decision, under the limiter's lock: observe a request's keys in every sketch, then weigh every rule.

In order: an account penalty from an earlier catch; the exact ``limits`` rules; the pattern rules
(:mod:`patternlimit.engine.patterns`); a taint of a young account's network or client. The most severe enforced
outcome wins; shadowed rules only ever produce ``LOG``. Every request is counted, whatever the decision: pattern
state reflects what was attempted, so a throttled campaign keeps its pattern flagged.
"""

from __future__ import annotations

import itertools
import math
import struct
import threading
from time import perf_counter
from types import MappingProxyType

import numpy as np
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from patternlimit._kernels.layout import COLUMNS, MAX_KEYS, NEVER
from patternlimit.engine.clock import Clock
from patternlimit.engine.facts import FactsBuilder, RequestFacts
from patternlimit.engine.memory import AccountRecord, Memory
from patternlimit.engine.overrides import Override, Overrides
from patternlimit.engine.patterns import Outcome, PatternRules
from patternlimit.engine.reasons import finish, limit_reason, penalty_reason, taint_reason
from patternlimit.engine.stats import Stats
from patternlimit.keying import keyed_hash
from patternlimit.policy.compile import CompiledLimitRule, CompiledPolicy
from patternlimit.policy.decision import ALLOW, Action, Decision, PatternRef
from patternlimit.policy.models import Policy
from patternlimit.policy.standing import Standing
from patternlimit.sketches.state import SketchState
from patternlimit.storage.clocked import ClockedMemoryStorage
from patternlimit.storage.journal import Journal

_YOUNG, _ESTABLISHED, _TRUSTED = Standing.YOUNG, Standing.ESTABLISHED, Standing.TRUSTED
"""Module aliases: ``Standing.YOUNG`` goes through the enum's metaclass, about 75 ns a lookup."""

_PACK_KEYS = tuple(struct.Struct(f"={count}Q").pack_into for count in range(MAX_KEYS + 1))
"""``_PACK_KEYS[n](buffer, 0, *keys)`` writes ``n`` keys into a ``uint64`` buffer: cheaper than a numpy slice
assignment from a list."""


def _rank(outcome: Decision | Outcome) -> tuple[bool, int]:
    """Enforced answers first, then the most severe; among equals the first (``max`` keeps it)."""
    if isinstance(outcome, Outcome):
        return outcome.enforced, outcome.severity
    return outcome.enforced, outcome.action.severity


class Decider:
    """Observes and decides (see the module docstring). Its :attr:`lock` serialises every call that reads or
    writes the state; the caller holds it."""

    def __init__(
        self,
        policy: Policy,
        compiled: CompiledPolicy,
        state: SketchState,
        memory: Memory,
        patterns: PatternRules,
        builder: FactsBuilder,
        limits_storage: ClockedMemoryStorage,
        journal: Journal | None,
    ) -> None:
        self.policy = policy
        self.compiled = compiled
        self.state = state
        self.memory = memory
        self.patterns = patterns
        self.labels = patterns.labels
        self.builder = builder
        self.journal = journal
        self.lock = threading.Lock()
        self.overrides = Overrides()
        self.stats = Stats()
        self.clock = Clock("replay")
        """The clock records from other processes are admitted by (the limiter sets its own)."""
        self.limits_storage = limits_storage
        self._strategies = {
            "moving-window": MovingWindowRateLimiter(limits_storage),
            "fixed-window": FixedWindowRateLimiter(limits_storage),
        }
        rules = compiled.pattern_rules
        self.conditions = np.array(
            [[condition.code, condition.low, condition.high] for rule in rules for condition in rule.conditions],
            dtype=np.float64,
        ).reshape(-1, 3)
        self.starts = np.cumsum([0, *(len(rule.conditions) for rule in rules)], dtype=np.int64)
        self._masks = np.zeros(len(rules), dtype=np.uint64)
        # A request is measured and matched only against the pattern rules that apply to its standing. Trusted
        # and established accounts share every rule (``applies_to`` groups them), so demoting a caught trusted
        # account to established in conclude changes neither its gate nor its rules.
        gates, applicable = compiled.gates, compiled.applicable
        self._young_gate, self._elder_gate = gates[Standing.YOUNG], gates[Standing.ESTABLISHED]
        self._young_rules = tuple((index, rules[index]) for index in applicable[Standing.YOUNG])
        self._elder_rules = tuple((index, rules[index]) for index in applicable[Standing.ESTABLISHED])
        self._account_scope = policy.escalation.scope == "account"
        self._enforcing = frozenset(rule.name for rule in rules if rule.action is not Action.LOG)
        self._key_bytes = state.keys.data  # a memoryview of the key buffer, which _PACK_KEYS writes into
        self._observe = state.single_entry(compiled.gate, self.conditions, self.starts, self._masks)

    def decide(self, facts: RequestFacts, journaled: bool = False) -> Decision:
        """Observe and decide; ``journaled`` means the observation was already recorded for the shared log."""
        if facts.generation != self.builder.generation:  # built just before a policy reload
            facts = self.builder.facts(facts.request, facts.now)
        self._history(facts)
        state = self.state
        keys = facts.keys
        count = len(keys)
        _PACK_KEYS[count](self._key_bytes, 0, *keys)
        masks = self._masks
        young = facts.standing is _YOUNG
        self._observe(  # observe_one_packed, for the argument types the entry was made for: keep them exactly
            *state.packed,
            state.keys,
            count,
            facts.account,
            facts.content,
            facts.network_item,
            young,
            facts.now,
            facts.request.cost,
            self._young_gate if young else self._elder_gate,
            facts.copy_count,
            state.out,
            self.conditions,
            self.starts,
            masks,
        )
        decision = self.conclude(facts, state.out, 0, masks.tolist(), journaled)
        self.stats.record(decision, perf_counter() - facts.started)
        return decision

    def decide_many(self, facts: list[RequestFacts]) -> list[Decision]:
        """:meth:`decide` for each of ``facts`` in order, with one kernel call for all the observations."""
        generation = self.builder.generation
        if any(fact.generation != generation for fact in facts):  # built just before a policy reload
            facts = [self.builder.facts(fact.request, fact.now) for fact in facts]
        for fact in facts:
            self._history(fact)
        total = sum(len(fact.keys) for fact in facts)
        keys = np.fromiter((key for fact in facts for key in fact.keys), dtype=np.uint64, count=total)
        offsets = np.fromiter(
            itertools.accumulate((len(fact.keys) for fact in facts), initial=0), dtype=np.int64, count=len(facts) + 1
        )
        out = np.empty((total, COLUMNS), dtype=np.float64)
        masks = np.empty((len(facts), len(self.compiled.pattern_rules)), dtype=np.uint64)
        young = np.array([fact.standing is _YOUNG for fact in facts], dtype=np.bool_)
        # Every estimate of a request some rule applies to (see observe_batch), none of the others'.
        gates = np.where(young, 0 if self._young_rules else NEVER, 0 if self._elder_rules else NEVER)
        columns = {
            "now": np.array([fact.now for fact in facts], dtype=np.float64),
            "account": np.array([fact.account for fact in facts], dtype=np.uint64),
            "content": np.array([fact.content for fact in facts], dtype=np.uint64),
            "network": np.array([fact.network_item for fact in facts], dtype=np.uint64),
            "cost": np.array([fact.request.cost for fact in facts], dtype=np.int64),
            "young": young,
            "copy_count": np.array([fact.copy_count for fact in facts], dtype=np.int64),
        }
        self.state.observe_many(
            keys, offsets, columns, gates, self.compiled.gate, self.conditions, self.starts, out, masks
        )
        decisions = [
            self.conclude(fact, out, start, matched)
            for fact, start, matched in zip(facts, offsets[:-1].tolist(), masks.tolist(), strict=True)
        ]
        self.stats.record_many(decisions, perf_counter() - facts[0].started if facts else 0.0)
        return decisions

    def _history(self, facts: RequestFacts) -> None:
        """Record the request in its account's history, which gives the account's recent networks and may make an
        account the limiter has no history of young (see :mod:`patternlimit.engine.history`)."""
        unproven, facts.account_networks = self.memory.history.observe(facts.account, facts.network_key, facts.now)
        if unproven and facts.standing is not _YOUNG:
            facts.standing = _YOUNG
            facts.unproven = True

    def record(self, facts: RequestFacts) -> None:
        """Put ``facts``' observation in the journal, as the sketch kernel consumes it."""
        assert self.journal is not None  # only called with shared storage, which has a journal
        self.journal.observe(
            facts.now,
            facts.account,
            facts.content,
            facts.network_item,
            facts.request.cost,
            facts.standing is _YOUNG,
            facts.copy_count,
            tuple(facts.keys),
        )

    def conclude(
        self, facts: RequestFacts, out: np.ndarray, start: int, matched: list[int], journaled: bool = False
    ) -> Decision:
        """Decide on an observed request: ``out[start : start + len(facts.keys)]`` are its keys' measures as the
        observe kernel wrote them (sliced only when read: most requests never read them), ``matched`` the rule
        kernel's masks (one per pattern rule)."""
        now = facts.now
        compiled = self.compiled
        if self.journal is not None and not journaled:
            self.record(facts)
        if compiled.needs_age:
            self.memory.first_sightings(facts.keys, now)
        self.labels.observe(facts, out, start)

        allowed: frozenset[int] = frozenset()
        if self.overrides:
            override, allowed = self.overrides.match(
                now, facts.account, facts.network_key, self.builder.client_key(facts.request.client), facts.keys
            )
            if override is not None:
                return self._overridden(override, facts)
        record = self.memory.accounts.get(facts.account)
        if record is not None and record.offences and facts.standing is _TRUSTED:
            # Trust needs a clean record: an old account caught on a flagged pattern keeps no extra allowance.
            facts.standing = _ESTABLISHED
        outcomes: list[Decision | Outcome] = []
        flags = self.memory.flags
        # Most requests touch no flagged key: the disjointness test is cheaper than building the intersection.
        flagged = bool(flags) and not flags.isdisjoint(facts.keys)
        facts.flagged_keys = flags.intersection(facts.keys) if flagged else set()
        # A penalty and a taint apply to the requests on patterns an enforcing rule flagged (scope "pattern"): a
        # hackathon participant caught on the shared starter prompt is still served on their own work. A penalty
        # also follows an account that hops networks as an enforcing rule's routing conditions say, whatever its
        # text (a caught account that pads its prompts still rotates through its proxies); a taint also applies on
        # a network that is itself a proxy pool's by those conditions (a newcomer shows no hopping yet).
        scoped = self._account_scope or (flagged and self._enforced_flag(facts.keys))
        if record is not None and record.penalty_until > now and (scoped or self.patterns.routed(facts)):
            outcomes.append(self._penalty(record, now))
        for limit_rule in compiled.limit_rules:
            decision = self._limit(limit_rule, facts)
            if decision is not None:
                outcomes.append(decision)
        # Most requests meet no rule on any key and touch no flagged key: then no pattern rule can answer.
        rules = self._young_rules if facts.standing is _YOUNG else self._elder_rules
        if rules and (any(matched) or flagged):
            measures = out[start : start + len(facts.keys)].tolist()
            for index, pattern_rule in rules:
                outcome = self.patterns.evaluate(index, pattern_rule, facts, measures, matched[index], allowed)
                if outcome is not None:
                    outcomes.append(outcome)
        if (
            facts.standing is _YOUNG
            and self.memory.taints
            and (scoped or self.patterns.routed(facts, out, start))
            and not any(outcome.enforced for outcome in outcomes)
        ):
            decision = self._taint(facts, out, start)
            if decision is not None:
                outcomes.append(decision)
        if not outcomes:
            return ALLOW
        chosen = outcomes[0] if len(outcomes) == 1 else max(outcomes, key=_rank)
        return chosen.decision() if isinstance(chosen, Outcome) else chosen

    def _enforced_flag(self, keys: list[int]) -> bool:
        """Whether one of ``keys`` is flagged by a rule that enforces (a log rule's flag is no pattern family)."""
        flags, enforcing = self.memory.flags, self._enforcing
        for key in keys:
            flag = flags.get(key)
            if flag is not None and flag.rule in enforcing:
                return True
        return False

    def clear(self, scope: str, key: int) -> bool:
        """Forget what the limiter holds against ``key`` of ``scope`` (an account's penalty and persistence, a
        pattern's flag, a network's or client's taint) and any override of it; whether anything was held."""
        memory = self.memory
        held = self.overrides.remove(scope, key)
        if scope == "account":
            held = memory.accounts.pop(key) is not None or held
        elif scope == "pattern":
            held = memory.flags.pop(key) is not None or held
        else:
            held = memory.taints.pop(key) is not None or held
        return held

    def _overridden(self, override: Override, facts: RequestFacts) -> Decision:
        """The decision under an operator's override of the account, network or client: a deny blocks; an allow
        leaves only the exact limits to answer."""
        pattern = PatternRef(override.scope, override.label, override.key)
        reason = f"operator override: {override.describe()} for {override.until - facts.now:.0f} s more"
        if override.action == "deny":
            return Decision(Action.BLOCK, "override:deny", pattern, reason, None, MappingProxyType({}))
        for limit_rule in self.compiled.limit_rules:
            decision = self._limit(limit_rule, facts)
            if decision is not None:
                return decision
        return Decision(Action.ALLOW, "override:allow", pattern, f"{reason}; pattern rules not applied")

    def _penalty(self, record: AccountRecord, now: float) -> Decision:
        action = Action.BLOCK if self.memory.blocks(record) else Action.THROTTLE
        reason = penalty_reason(record.penalty_rule, action, record.penalty_until - now, record.offences)
        scores = MappingProxyType({"offences": float(record.offences)})
        if self.policy.shadow:
            # A penalty earned before the policy was switched to shadow mode is reported, not enforced.
            pattern = record.penalty_pattern
            return Decision(Action.LOG, record.penalty_rule, pattern, f"shadow: {reason}", None, scores, False, action)
        return Decision(
            action,
            rule=record.penalty_rule,
            pattern=record.penalty_pattern,
            reason=reason,
            retry_after=record.penalty_until - now,
            scores=scores,
        )

    def _limit(self, rule: CompiledLimitRule, facts: RequestFacts) -> Decision | None:
        # per account, the common case, inline: the call and the lookups below cost about 0.3 us a request
        identifiers = [f"a{facts.account:x}"] if rule.per == "account" else self._identifiers(rule.per, facts)
        if not identifiers:
            return None
        item = rule.items[facts.standing]
        strategy = self._strategies[rule.strategy]
        self.limits_storage.now = facts.now
        for identifier in identifiers:
            if strategy.hit(item, identifier, cost=max(1, facts.request.cost)):
                continue
            return self._exceeded(rule, identifier, facts)
        return None

    def _exceeded(self, rule: CompiledLimitRule, identifier: str, facts: RequestFacts) -> Decision:
        """The decision of limit ``rule`` on ``identifier``, whose window is full."""
        item = rule.items[facts.standing]
        reset, _ = self._strategies[rule.strategy].get_window_stats(item, identifier)
        action = rule.action
        weight = item.amount / rule.items[Standing.ESTABLISHED].amount
        return finish(
            rule.name,
            action,
            rule.shadow,
            PatternRef(rule.per, identifier if rule.per != "account" else "this account", 0),
            limit_reason(rule.per, item.amount, item.get_expiry(), facts.standing, weight),
            max(0.0, reset - facts.now) if action is Action.THROTTLE else None,
            {"limit": float(item.amount), "weight": weight},
        )

    def charge(self, facts: RequestFacts, cost: int, names: frozenset[str] | None) -> Decision:
        """Charge ``cost`` more to the limit rules named in ``names`` (every one when None) on ``facts``' keys,
        for a request already decided and served. A cost the window cannot take still counts: a fixed window
        counts past its limit, and a moving window (which only takes what fits) is filled to it, so the key's
        next request is refused either way. ALLOW when every window took the cost, else the decision of the
        first rule it filled (the one the key's next request meets)."""
        decision = ALLOW
        self.limits_storage.now = facts.now
        for rule in self.compiled.limit_rules:
            if names is not None and rule.name not in names:
                continue
            identifiers = [f"a{facts.account:x}"] if rule.per == "account" else self._identifiers(rule.per, facts)
            item = rule.items[facts.standing]
            strategy = self._strategies[rule.strategy]
            for identifier in identifiers:
                if strategy.hit(item, identifier, cost=cost):
                    continue
                _, left = strategy.get_window_stats(item, identifier)
                if left > 0:
                    strategy.hit(item, identifier, cost=left)
                if decision is ALLOW:
                    decision = self._exceeded(rule, identifier, facts)
        return decision

    def limit_state(self, facts: RequestFacts) -> list[tuple[str, int, int, float]]:
        """``(rule, limit, remaining, reset seconds)`` of every limit rule for ``facts``' keys, counting nothing:
        of a rule counted on several keys (a pattern kind with several keys), the key with the least left."""
        self.limits_storage.now = facts.now
        states = []
        for rule in self.compiled.limit_rules:
            identifiers = [f"a{facts.account:x}"] if rule.per == "account" else self._identifiers(rule.per, facts)
            if not identifiers:
                continue
            item = rule.items[facts.standing]
            strategy = self._strategies[rule.strategy]
            reset, left = min(
                (strategy.get_window_stats(item, identifier) for identifier in identifiers),
                key=lambda stats: stats[1],
            )
            # An untouched fixed window has no end yet: the next hit starts a whole one.
            seconds = max(0.0, reset - facts.now) if left < item.amount else float(item.get_expiry())
            states.append((rule.name, int(item.amount), int(left), seconds))
        return states

    def _identifiers(self, per: str, facts: RequestFacts) -> list[str]:
        """The identifiers of a limit rule ``per`` a pattern kind (``per="account"`` is handled by the caller)."""
        index = self.compiled.kinds.index(per) if per in self.compiled.kinds else None
        if index is not None:
            start, end = facts.spans[index]
            counted = [f"{per}:{key:x}" for key in facts.keys[start:end]]
            if counted:
                return counted
        return [
            f"{per}:{key:x}" for key in self.builder.kind_keys(per, facts.request, facts.network, facts.account, {})
        ]

    def _taint(self, facts: RequestFacts, out: np.ndarray, start: int) -> Decision | None:
        escalation, now = self.policy.escalation, facts.now
        checks = []
        if escalation.network_taint and facts.public_network:
            checks.append(("network", facts.network_key, escalation.network_taint, facts.network or "(invalid)"))
        if escalation.client_taint and facts.request.client:
            client_key = keyed_hash(facts.request.client, self.builder.seeds["client"])
            checks.append(("client", client_key, escalation.client_taint, facts.request.client[:40]))
        for kind, key, threshold, label in checks:
            caught = self.memory.tainted(key, now)
            if caught >= threshold and kind == "network" and escalation.network_taint_share:
                # Relative to the young accounts on the prefix: a few caught among a campus NAT's thousands of
                # new accounts do not make the campus a proxy pool; most of a pool's accounts get caught.
                pool = self.patterns.network_young(facts, out, start)
                threshold = max(threshold, math.ceil(escalation.network_taint_share * pool))
            if caught >= threshold:
                return finish(
                    f"escalation:{kind}-taint",
                    Action.THROTTLE,
                    self.policy.shadow,
                    PatternRef(kind, label, key),
                    taint_reason(kind, caught, escalation.memory, threshold),
                    escalation.account_penalty,
                    {"caught_accounts": float(caught)},
                )
        return None

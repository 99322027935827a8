"""The signals that tell a campaign from an organic cohort, on hand-built traffic: standing from history, network
hopping and proxy pools, the latest turn of a conversation, part keys, and penalties scoped to flagged patterns."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from patternlimit import Action, Limiter, Policy, Request
from patternlimit._testing import traffic
from patternlimit.engine.facts import latest_turn
from patternlimit.engine.history import RECENT, History
from patternlimit.fingerprint.parts import PartFingerprinter
from patternlimit.keying import Keyring
from patternlimit.policy.presets import DISTILLATION_DEFENSE

SECRET = b"test secret for the detection tests"
DAY = 86400.0
SYSTEM = (
    "You are Wren, an autonomous coding agent running in the user's terminal. You can read files, run commands and "
    "edit code. Always explain what you are about to do before doing it. Prefer small, reviewable changes."
)
ASKS = (
    "why does my {0} loop never stop when the list is empty",
    "rename {0} everywhere and update the tests that import it",
    "the build fails with a missing module {0}, what should I install",
    "write a docstring for {0} that explains the retry logic",
    "add type hints to {0} and make mypy happy",
)


def stopped(decisions: list) -> int:  # type: ignore[type-arg]
    return sum(decision.action in (Action.THROTTLE, Action.BLOCK) for decision in decisions)


def home(rng: random.Random) -> str:
    return f"{rng.randrange(60, 90)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def viral_agent(users: int = 300, turns: int = 6, seed: int = 3) -> list[tuple[float, Request]]:
    """New users of a coding agent: its fixed system prompt, their own asks growing a conversation, each from
    their own home network."""
    rng = random.Random(seed)
    out = []
    for index in range(users):
        address, created = home(rng), traffic.START - rng.uniform(0, 3600)
        conversation = [SYSTEM]
        time = traffic.START + rng.uniform(0, 3 * 3600)
        for _ in range(turns):
            conversation.append(rng.choice(ASKS).format(f"{rng.choice('abcdefgh')}_{rng.getrandbits(24):x}"))
            text = "\x1e".join(conversation)
            out.append((time, Request(account=f"user-{index}", ip=address, text=text, account_created_at=created)))
            conversation.append("Done: I changed two files.")
            time += rng.uniform(20, 300)
    return traffic.stream(out)


def rotating_campaign(accounts: int = 150, per_account: int = 8, seed: int = 4) -> list[tuple[float, Request]]:
    """The templated campaign, each request through a fresh residential proxy address."""
    rng = random.Random(seed)
    return [
        (
            time,
            Request(
                account=request.account, ip=home(rng), text=request.text, account_created_at=request.account_created_at
            ),
        )
        for time, request in traffic.campaign(seed=seed, accounts=accounts, per_account=per_account, prefixes=None)
    ]


def test_a_viral_agents_new_users_are_served_though_they_share_its_system_prompt():
    decisions = [Limiter(secret=SECRET).check(request, now) for now, request in viral_agent()]
    assert stopped(decisions) == 0


def test_the_same_users_without_turn_separators_share_one_template_but_not_proxies():
    """Without the separator the system prompt is the template of every request; the users still keep their own
    networks, so no fan-out rule acts on them (it would, on young accounts hopping between proxies)."""
    requests = [
        (
            now,
            Request(
                account=r.account,
                ip=r.ip,
                text=str(r.text).replace("\x1e", "\n"),
                account_created_at=r.account_created_at,
            ),
        )
        for now, r in viral_agent()
    ]
    limiter = Limiter(secret=SECRET)
    assert stopped([limiter.check(request, now) for now, request in requests]) == 0


def test_a_campaign_through_rotating_residential_proxies_is_stopped():
    limiter = Limiter(secret=SECRET)
    decisions = [limiter.check(request, now) for now, request in rotating_campaign()]
    assert stopped(decisions) > 0.5 * len(decisions)
    caught = next(decision for decision in decisions if decision.rule == "template-fan-out" and decision.enforced)
    assert caught.scores["account_networks"] >= 3


def test_the_latest_turn_is_what_is_fingerprinted():
    assert latest_turn("system\x1efirst\x1esecond") == "second"
    assert latest_turn(b"a\x1eb") == b"b"
    assert latest_turn("no turns") == "no turns"
    limiter = Limiter(secret=SECRET)
    facts = limiter._facts
    assert (
        facts.facts(Request(text="x" * 10 + "\x1eexplain the code"), 0.0).keys[:1]
        == facts.facts(Request(text="explain the code"), 0.0).keys[:1]
    )


def test_history_makes_an_old_account_new_to_the_limiter_young_after_its_first_day():
    history = History(proven_after=DAY)
    assert history.observe(1, 10, 0.0) == (False, 1)  # the first day: creation dates decide
    assert history.observe(2, 10, 0.5 * DAY) == (False, 1)
    assert history.observe(3, 10, 1.5 * DAY) == (True, 1)  # first seen after the first day: unproven
    assert history.observe(3, 10, 2.4 * DAY) == (True, 1)
    assert history.observe(3, 10, 2.6 * DAY) == (False, 1)  # a day of history
    history.restart(3, 3.0 * DAY)  # caught: starts again
    assert history.observe(3, 10, 3.5 * DAY)[0] is True
    assert history.observe(2, 10, 3.5 * DAY)[0] is False


def test_history_counts_distinct_networks_among_the_last_requests():
    history = History(proven_after=0.0)
    for index in range(3):
        assert history.observe(7, 100 + index, float(index))[1] == index + 1
    for index in range(RECENT):
        _, networks = history.observe(7, 5, 10.0 + index)
    assert networks == 1  # the ring forgets the old networks
    assert History(proven_after=0.0).observe(8, 1, 0.0)[0] is False  # 0 disables standing from history


def test_an_old_account_first_seen_after_a_day_is_young_in_its_decisions():
    limiter = Limiter(secret=SECRET, clock="replay")
    old = traffic.START - 400 * DAY
    limiter.check(Request(account="regular", ip="70.1.2.3", account_created_at=old), traffic.START)
    later = traffic.START + 1.5 * DAY
    facts = limiter._facts.facts(Request(account="dormant", ip="70.1.2.4", account_created_at=old), later)
    limiter._decider.decide(facts)
    assert facts.standing.value == "young" and facts.unproven
    regular = limiter._facts.facts(Request(account="regular", ip="70.1.2.3", account_created_at=old), later)
    limiter._decider.decide(regular)
    assert regular.standing.value == "trusted"


def test_a_penalty_follows_a_hopping_account_and_a_taint_a_proxy_pools_network():
    limiter = Limiter(secret=SECRET)
    decisions = [(request, limiter.check(request, now)) for now, request in traffic.campaign(accounts=150)]
    caught = next(
        request for request, decision in decisions if decision.rule == "template-fan-out" and decision.enforced
    )
    end = max(now for now, _ in traffic.campaign(accounts=150))
    own = Request(
        account=caught.account,
        ip=caught.ip,
        text="What is the capital of France and why is it there?",
        account_created_at=caught.account_created_at,
    )
    # The campaign's accounts hop proxy prefixes: the penalty follows them onto any text.
    assert limiter.check(own, end + 1).action is Action.THROTTLE
    # An account that keeps one address on a proxy prefix is caught on the campaign's template; on its own text
    # it is not penalised, but its network is tainted (a proxy pool's, where accounts were caught).
    steady = replace(caught, account="steady")
    decisions = [limiter.check(replace(steady, text=caught.text), end + 3 + step).action for step in range(2)]
    assert decisions[-1] is Action.THROTTLE
    assert limiter.check(replace(own, account="steady"), end + 6).rule == "escalation:network-taint"
    assert limiter.check(caught, end + 7).action is Action.THROTTLE
    everywhere = Policy.model_validate(
        {
            **DISTILLATION_DEFENSE.model_dump(),
            "escalation": {**DISTILLATION_DEFENSE.escalation.model_dump(), "scope": "account"},
        }
    )
    strict = Limiter(everywhere, secret=SECRET)
    for now, request in traffic.campaign(accounts=150):
        strict.check(request, now)
    assert strict.check(own, end + 1).action is Action.THROTTLE


def test_part_keys_follow_sentences_in_any_order_and_skip_code_and_tool_output():
    parts = PartFingerprinter(Keyring(SECRET), limit=8)
    role = "You are a principal engineer who reviews production code for correctness."
    reasoning = "Before answering, reason through the problem carefully and show every step."
    first = parts.keys(f"{role}\nFix the parser in config_loader.py for me.\n{reasoning}")
    second = parts.keys(f"{reasoning} Here: parse_args(argv) fails.\n{role}")
    assert len(first) == 2 and set(first) == set(second)
    assert parts.keys("```\nYou are a principal engineer who reviews production code for correctness.\n```") == []
    assert parts.keys("===== 5 passed, 2 failed in 0.31 seconds =====\nsrc/main.py tests/test_main.py") == []
    assert len(PartFingerprinter(Keyring(SECRET), limit=1).keys(f"{role}\n{reasoning}")) == 1


@pytest.mark.parametrize(("measure", "bound"), [("account_networks", 30), ("account_persistence", 97)])
def test_a_routing_threshold_no_account_can_reach_is_refused(measure, bound):
    with pytest.raises(ValueError, match=measure):
        Policy.model_validate(
            {
                "name": "p",
                "rules": [
                    {
                        "type": "pattern",
                        "name": "r",
                        "pattern": "template",
                        "when": {"young_accounts": {"min": 5}},
                        "when_any": {measure: {"min": bound}},
                    }
                ],
            }
        )


def test_when_any_needs_one_of_its_conditions():
    policy = Policy.model_validate(
        {
            "name": "p",
            "rules": [
                {
                    "type": "pattern",
                    "name": "r",
                    "pattern": "template",
                    "when": {"young_accounts": {"min": 20}, "young_share": {"min": 0.5}},
                    "when_any": {"account_networks": {"min": 3}, "network_accounts": {"min": 1e6}},
                }
            ],
        }
    )
    limiter = Limiter(policy, secret=SECRET)
    hopping = [limiter.check(request, now) for now, request in rotating_campaign(80, 6)]
    assert stopped(hopping) > 0
    limiter = Limiter(policy, secret=SECRET)
    homes = [limiter.check(request, now) for now, request in viral_agent(120)]
    assert stopped(homes) == 0


def campus(students: int, per_student: int = 3, seed: int = 8) -> list[tuple[float, Request]]:
    """New accounts behind one campus NAT (198.51.3.0/24, which the campaign's proxy pool also uses) sending asks
    of their own, from an hour before the campaign to an hour after."""
    rng = random.Random(seed)
    out = []
    for index in range(students):
        created = traffic.START - rng.uniform(3600, 6 * 3600)
        for _ in range(per_student):
            request = Request(account=f"student-{index}", ip=f"198.51.3.{rng.randrange(1, 255)}",
                              text=traffic.organic_prompt(rng), account_created_at=created)  # fmt: skip
            out.append((traffic.START + rng.uniform(-3600, 3 * 3600), request))
    return traffic.stream(out)


def test_a_few_caught_accounts_do_not_taint_a_campus_of_thousands_of_new_accounts():
    """The campaign's accounts caught on one of its proxy /24s taint it, but that /24 is also a campus NAT: with
    its 1,000 young accounts, the caught ones are too few a share to make it a proxy pool."""

    def tainted(policy: Policy) -> int:
        limiter = Limiter(policy, secret=SECRET)
        stream = sorted(traffic.campaign(accounts=120) + campus(1000), key=lambda item: item[0])
        decisions = [(request, limiter.check(request, now)) for now, request in stream]
        return sum(
            decision.rule == "escalation:network-taint"
            for request, decision in decisions
            if request.account.startswith("student")
        )

    relative = DISTILLATION_DEFENSE
    absolute = Policy.model_validate(
        {
            **DISTILLATION_DEFENSE.model_dump(),
            "escalation": {**DISTILLATION_DEFENSE.escalation.model_dump(), "network_taint_share": 0.0},
        }
    )
    assert tainted(absolute) > 100
    assert tainted(relative) == 0


def own_homes(accounts: int, per_account: int, gap: float, seed: int = 5) -> list[tuple[float, Request]]:
    """Young accounts, each on its own home address for all its requests (no hopping, no shared prefix: the
    routing measures see nothing), sending the templated campaign prompt every ``gap`` seconds (+-20%)."""
    rng = random.Random(seed)
    out = []
    for index in range(accounts):
        address, created = home(rng), traffic.START - rng.uniform(0, DAY)
        time = traffic.START + rng.uniform(0, 600)
        for _ in range(per_account):
            text = traffic.campaign_prompt(rng)
            out.append((time, Request(account=f"own-{index}", ip=address, text=text, account_created_at=created)))
            time += gap * rng.uniform(0.8, 1.2)
    return traffic.stream(out)


def persistence_free(policy: Policy) -> Policy:
    rules = [
        rule.model_copy(update={"when_any": {k: v for k, v in rule.when_any.items() if k != "account_persistence"}})
        if rule.type == "pattern"
        else rule
        for rule in policy.rules
    ]
    return policy.model_copy(update={"rules": rules})


def test_accounts_that_keep_working_a_flagged_pattern_are_stopped_whatever_their_routing():
    """A proxy pool with a prefix per account hides the routing; persistence does not: each account is acted on
    from its fourth half-hour on flagged patterns, never before, and without the condition none would be."""
    requests = own_homes(accounts=80, per_account=10, gap=1800.0)
    decisions = _decide(DISTILLATION_DEFENSE, requests)
    assert stopped(_decide(persistence_free(DISTILLATION_DEFENSE), requests)) == 0
    assert stopped(decisions) > 0.4 * len(decisions)
    # The decisions that caught an account (the later ones are its penalty's).
    caught = [decision for decision in decisions if decision.enforced and "young_accounts" in (decision.scores or {})]
    assert caught and min(decision.scores["account_persistence"] for decision in caught) >= 4


def test_one_sitting_on_a_flagged_prompt_is_not_persistence():
    """The same accounts and prompts in one sitting each (ten requests within twenty minutes: one or two
    half-hours) are served: a hackathon's start or a viral tool's session."""
    requests = own_homes(accounts=80, per_account=10, gap=120.0)
    assert stopped(_decide(DISTILLATION_DEFENSE, requests)) == 0


def _decide(policy: Policy, requests: list[tuple[float, Request]]) -> list:  # type: ignore[type-arg]
    limiter = Limiter(policy, secret=SECRET)
    return [limiter.check(request, now) for now, request in requests]


def crowded_prefix(neighbours: int, seed: int = 6) -> tuple[list[tuple[float, Request]], set[str]]:
    """A flagged campaign template (sixty young accounts on their own homes), and ten more young accounts on one
    /24 that ``neighbours`` established accounts also send from; each young account sends three requests in one
    sitting. Returns the requests and the ten accounts on the shared /24."""
    rng = random.Random(seed)
    out = list(own_homes(accounts=60, per_account=3, gap=300.0, seed=seed))
    shared = {f"shared-{index}" for index in range(10)}
    for account in sorted(shared):
        time = traffic.START + 1800 + rng.uniform(0, 600)
        for _ in range(3):
            ip = f"81.2.69.{rng.randrange(1, 255)}"
            request = Request(account=account, ip=ip, text=traffic.campaign_prompt(rng), account_created_at=time - 600)
            out.append((time, request))
            time += rng.uniform(60, 300)
    for index in range(neighbours):
        for step in range(6):
            request = Request(
                account=f"neighbour-{index}",
                ip=f"81.2.69.{10 + index}",
                text=traffic.organic_prompt(rng),
                account_created_at=traffic.START - 400 * DAY,
            )
            out.append((traffic.START + step * 900 + rng.uniform(0, 300), request))
    return traffic.stream(out), shared


@pytest.mark.parametrize(("neighbours", "acted"), [(1, True), (4, False)])
def test_a_prefix_is_a_proxy_pool_when_its_young_accounts_are_nearly_all_its_senders(neighbours, acted):
    """Ten young accounts on one /24 with one established neighbour (91% of its senders) are a pool's; with four
    (71%) the prefix is a crowded residential one (a launch, a viral tool) and carries no routing evidence."""
    requests, shared = crowded_prefix(neighbours)
    decisions = _decide(DISTILLATION_DEFENSE, requests)
    pairs = zip(requests, decisions, strict=True)
    on_prefix = [decision for (_, request), decision in pairs if request.account in shared]
    assert (stopped(on_prefix) > 0) is acted

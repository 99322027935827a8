"""The limiter on hand-built traffic: a templated fan-out across young accounts is throttled, look-alikes are not."""

from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit import Action, Limiter, Request
from patternlimit._testing import traffic
from patternlimit.policy.presets import DISTILLATION_DEFENSE
from patternlimit.policy.standing import standing_of

SECRET = b"test secret for the engine tests"


def run(limiter: Limiter, requests: list[tuple[float, Request]]) -> list:  # type: ignore[type-arg]
    return [limiter.check(request, now) for now, request in requests]


def blocked(decisions: list) -> int:  # type: ignore[type-arg]
    return sum(decision.action in (Action.THROTTLE, Action.BLOCK) for decision in decisions)


@pytest.fixture
def limiter() -> Limiter:
    return Limiter(secret=SECRET)


def test_a_templated_fan_out_across_young_accounts_is_throttled_once_it_crosses_the_rule(limiter):
    requests = traffic.campaign(accounts=150, per_account=8)
    decisions = run(limiter, requests)
    throttled = [decision for decision in decisions if decision.action is Action.THROTTLE]
    assert len(throttled) / len(decisions) > 0.6
    first = next(index for index, decision in enumerate(decisions) if decision.action is Action.THROTTLE)
    assert first > 40  # nothing is throttled before 40 young accounts have sent the template
    pattern_catches = [decision for decision in throttled if decision.rule == "template-fan-out"]
    assert pattern_catches
    catch = pattern_catches[0]
    assert catch.pattern is not None and catch.pattern.kind == "template"
    assert "distinct accounts younger than 7 days" in catch.reason and "the rule allows 40" in catch.reason
    assert catch.retry_after == 900.0 and catch.enforced
    assert catch.scores["young_accounts"] >= 40 and catch.scores["young_share"] >= 0.5
    # once caught, the account stays throttled on its other requests
    assert any(decision.rule == "template-fan-out" for decision in throttled[-50:]) or any(
        "caught by rule" in decision.reason for decision in throttled
    )


@pytest.mark.parametrize(
    ("scenario", "make"),
    [
        ("ci harness: one established account, high volume", traffic.ci_harness),
        ("corporate NAT: established accounts behind one IP", traffic.corporate_nat),
        ("flash crowd: new accounts, varied prompts", traffic.flash_crowd),
        ("launch crowd: new accounts, one quickstart text", traffic.launch_crowd),
        ("class: new accounts behind one campus NAT, one homework frame", traffic.classroom),
    ],
)
def test_legitimate_look_alikes_are_not_throttled(limiter, scenario, make):
    decisions = run(limiter, make())
    assert blocked(decisions) == 0, scenario


def test_legitimate_traffic_mixed_with_a_campaign_is_not_throttled(limiter):
    legitimate = traffic.ci_harness(800) + traffic.corporate_nat(150, 3) + traffic.launch_crowd(300)
    campaign = traffic.campaign(accounts=150, per_account=8)
    tagged = [(now, request, False) for now, request in legitimate] + [
        (now, request, True) for now, request in campaign
    ]
    tagged.sort(key=lambda item: item[0])
    outcomes = [(limiter.check(request, now), is_campaign) for now, request, is_campaign in tagged]
    assert sum(decision.action is not Action.ALLOW and decision.enforced for decision, bad in outcomes if not bad) == 0
    assert sum(decision.action is Action.THROTTLE for decision, bad in outcomes if bad) > 0.5 * len(campaign)


def test_check_many_gives_the_same_answers_as_check():
    requests = traffic.campaign(accounts=60, per_account=4)[:200] + traffic.launch_crowd(40)
    requests.sort(key=lambda pair: pair[0])
    one, batch = Limiter(secret=SECRET), Limiter(secret=SECRET)
    singles = run(one, requests)
    many = batch.check_many([request for _, request in requests], [now for now, _ in requests])
    assert singles == many


def test_shadow_policy_logs_and_never_enforces():
    shadow = Limiter(DISTILLATION_DEFENSE.model_copy(update={"shadow": True}), secret=SECRET)
    decisions = run(shadow, traffic.campaign(accounts=150, per_account=8))
    assert blocked(decisions) == 0
    logged = [decision for decision in decisions if decision.action is Action.LOG and decision.shadowed]
    assert logged and all(not decision.enforced for decision in logged)
    assert logged[0].shadowed is Action.THROTTLE and logged[0].reason.startswith("shadow:")


def test_a_young_account_on_a_tainted_network_starts_throttled_but_an_established_one_does_not(limiter):
    # four proxy prefixes: each holds a quarter of the campaign's young senders (two would hold half each, the
    # network_share bound of the preset, where a pair of NATs and a pool of two cannot be told apart)
    run(limiter, traffic.campaign(accounts=150, per_account=8, prefixes=4))
    later = traffic.START + 7300
    newcomer = Request(account="fresh", ip="198.51.0.77", text="hello there", account_created_at=later - 60)
    veteran = Request(account="veteran", ip="198.51.0.78", text="hello there", account_created_at=later - 400 * 86400)
    decision = limiter.check(newcomer, later)
    assert decision.action is Action.THROTTLE and decision.rule == "escalation:network-taint"
    assert decision.pattern is not None and decision.pattern.label == "198.51.0.0/24"
    assert limiter.check(veteran, later).action is Action.ALLOW


@pytest.mark.parametrize("address", ["127.0.0.1", "10.20.30.40", "not an address"])
def test_catches_behind_an_untrusted_proxy_taint_no_one_else(limiter, address):
    """Behind a proxy that is not trusted every request seems to come from the proxy's private or loopback address:
    the campaign is still caught, but that address is no network evidence, so unrelated new accounts pass."""
    decisions = run(limiter, [(now, replace(request, ip=address)) for now, request in traffic.campaign(prefixes=4)])
    assert blocked(decisions) > 100  # the campaign is caught (three catches would taint a public prefix)
    later = traffic.START + 7300
    newcomers = [
        Request(account=f"new-{index}", ip=address, text=f"unrelated question {index}", account_created_at=later - 60)
        for index in range(20)
    ]
    outcomes = [limiter.check(request, later + index) for index, request in enumerate(newcomers)]
    assert [decision.rule for decision in outcomes if not decision.allowed] == []


@pytest.mark.parametrize(
    "request_",
    [
        Request(account="a", ip="not an ip", text="hi"),
        Request(account="a", ip="", text="hi"),
        Request(account="a", ip="10.0.0.1", text=""),
        Request(account="a", ip="10.0.0.1", text=b"\xff\xfe invalid utf-8 \xc3\x28"),
        Request(account="a", ip="10.0.0.1", text="x" * 3_000_000),
        Request(account=None, ip="10.0.0.1", text="anonymous"),
        Request(account="a", ip="10.0.0.1", text="unknown age", account_created_at=None),
        Request(account="a", ip="2001:db8::1", text="future creation", account_created_at=9e9),
        Request(account="a", ip="10.0.0.1", text="nan age", account_created_at=float("nan")),
    ],
)
def test_odd_but_valid_requests_are_allowed(limiter, request_):
    assert limiter.check(request_, traffic.START).action is Action.ALLOW


def test_invalid_arguments_raise(limiter):
    with pytest.raises(TypeError, match="Request"):
        limiter.check({"account": "a"}, traffic.START)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="now"):
        limiter.check(Request(), float("inf"))
    with pytest.raises(ValueError, match="cost"):
        limiter.check(Request(cost=-1), traffic.START)
    with pytest.raises(ValueError, match="one per request"):
        limiter.check_many([Request(), Request()], [1.0])


def test_per_account_limit_uses_limits_and_the_explicit_clock():
    policy = {"rules": [{"type": "limit", "name": "per-account", "limit": "5/minute", "per": "account"}]}
    limiter = Limiter(policy, secret=SECRET)
    established = Request(account="e", text="hi", account_created_at=traffic.START - 30 * 86400)
    decisions = [limiter.check(established, traffic.START + second) for second in range(8)]
    assert [decision.action for decision in decisions].count(Action.THROTTLE) == 3
    assert decisions[-1].rule == "per-account" and 0 < decisions[-1].retry_after <= 60
    assert limiter.check(established, traffic.START + 61).action is Action.ALLOW  # simulated time, not real time
    # context weighting: a trusted account (400 days) gets twice the allowance, a young one half
    trusted = Request(account="t", text="hi", account_created_at=traffic.START - 400 * 86400)
    young = Request(account="y", text="hi", account_created_at=traffic.START - 3600)
    assert sum(limiter.check(trusted, traffic.START + 0.1 * n).allowed for n in range(20)) == 10
    assert sum(limiter.check(young, traffic.START + 0.1 * n).allowed for n in range(20)) == 2


def test_concurrent_checks_lose_no_updates():
    limiter = Limiter(secret=SECRET)
    requests = [
        Request(account=f"t{index % 50}", text="same text for all threads", ip="10.1.1.1") for index in range(400)
    ]

    def worker(chunk: list[Request]) -> None:
        for request in chunk:
            limiter.check(request, traffic.START)

    threads = [threading.Thread(target=worker, args=(requests[index::4],)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    top = limiter.top_patterns(3, traffic.START)
    assert top[0].hits == 400  # every update counted: the template key saw all 400 requests


def test_top_patterns_name_the_campaign_template(limiter):
    run(limiter, traffic.campaign(accounts=150, per_account=8))
    top = limiter.top_patterns(5, traffic.START + 7200)
    template = next(row for row in top if row.kind == "template")
    assert template.flagged_by == "template-fan-out"
    assert template.young_accounts > 100 and "expert software engineer" in template.label.lower()


REQUESTS = st.builds(
    Request,
    account=st.sampled_from([None, "", "a1", "a2", "a3", "young-1", "young-2"]),
    ip=st.sampled_from(["203.0.113.7", "203.0.113.8", "2001:db8::1", "bogus", ""]),
    text=st.sampled_from(["", "hello", b"\xff\xfe", "Write a Python function that sorts a list. Return only code."]),
    account_created_at=st.one_of(st.none(), st.floats(traffic.START - 400 * 86400, traffic.START)),
    cost=st.integers(0, 3),
)


@settings(max_examples=30, deadline=None)
@given(requests=st.lists(REQUESTS, min_size=1, max_size=30), steps=st.lists(st.floats(0, 30), min_size=30, max_size=30))
def test_check_many_equals_check_on_generated_streams(requests, steps):
    times = [traffic.START + sum(steps[: index + 1]) for index in range(len(requests))]
    policy = {
        "rules": [
            {"type": "limit", "name": "tight", "limit": "3/minute"},
            {"type": "pattern", "name": "fan-out", "pattern": "template", "when": {"accounts": {"min": 2}}},
            {"type": "pattern", "name": "net", "pattern": "network", "when": {"hits": {"min": 3}}, "action": "log"},
        ]
    }
    one, batch = Limiter(policy, secret=SECRET), Limiter(policy, secret=SECRET)
    assert [one.check(request, now) for request, now in zip(requests, times, strict=True)] == batch.check_many(
        requests, times
    )


def test_every_table_stays_bounded():
    policy = {
        "capacity": {"accounts": 100, "flags": 100},
        "rules": [
            {"type": "limit", "name": "acct", "limit": "1000/minute"},
            {
                "type": "pattern",
                "name": "any",
                "pattern": "template",
                "when": {"hits": {"min": 1}, "pattern_age": {"min": 0}},
            },
        ],
    }
    limiter = Limiter(policy, secret=SECRET)
    for index in range(3000):
        request = Request(
            account=f"acct-{index}", ip=f"10.{index % 250}.{index // 250}.1", text=f"prompt number {index} x"
        )
        limiter.check(request, traffic.START + index)
    assert len(limiter._decider.memory.accounts) <= 100
    assert (
        len(limiter._decider.memory.first_seen) <= 100
        and len(limiter._decider.labels.labels) <= 100
        and len(limiter._decider.labels.samples) <= 4096
    )
    assert len(limiter._decider.memory.flags) <= 100 and len(limiter._decider.memory.taints) <= 100
    assert len(limiter._decider.limits_storage._counters) <= 100


def test_a_trusted_account_caught_once_loses_its_larger_allowance():
    policy = {
        "escalation": {"account_penalty": 1},
        "rules": [
            {"type": "limit", "name": "acct", "limit": "4/minute"},
            {
                "type": "pattern",
                "name": "any-template",
                "pattern": "template",
                "when": {"hits": {"min": 1}},
                "applies_to": "all",
            },
        ],
    }
    limiter = Limiter(policy, secret=SECRET)
    old = Request(account="old", text="a prompt", account_created_at=traffic.START - 400 * 86400)
    first = limiter.check(old, traffic.START)
    assert first.rule == "any-template" and first.action is Action.THROTTLE and first.scores["account_age_days"] > 399
    later = traffic.START + 120  # penalty over; a new minute for the limit
    plain = Request(account="old", account_created_at=old.account_created_at)  # no text: only the limit can act
    quiet = Limiter({"rules": policy["rules"][:1]}, secret=SECRET)
    assert sum(quiet.check(plain, later + 0.1 * n).allowed for n in range(20)) == 8  # trusted: 4 x 2
    assert sum(limiter.check(plain, later + 0.1 * n).allowed for n in range(20)) == 4  # demoted: 4 x 1


def test_a_short_template_with_its_filler_near_the_start_is_still_caught(limiter):
    rng = random.Random(12)
    requests = []
    for index in range(150):
        created = traffic.START - rng.uniform(0, 2 * 86400)
        for _ in range(6):
            task = f"{rng.choice(traffic.TASKS)} for {rng.choice(traffic.SUBJECTS)}"
            text = (
                f"Implement {task} in Rust with error handling and unit tests. Explain each step and list assumptions."
            )
            request = Request(account=f"short-{index}", ip=traffic.ip(rng), text=text, account_created_at=created)
            requests.append((traffic.START + rng.uniform(0, 7200), request))
    decisions = run(limiter, traffic.stream(requests))
    assert blocked(decisions) > 0.4 * len(decisions)
    assert any(decision.rule == "template-fan-out" for decision in decisions)


def test_a_crowd_of_new_users_asking_generic_short_questions_is_not_throttled(limiter):
    rng = random.Random(13)
    frames = [
        "Explain how {} works in simple terms.",
        "Write a short poem about {}.",
        "What are the main causes of {}?",
    ]
    requests = []
    for index in range(1500):
        created = traffic.START + rng.uniform(0, 6 * 3600)
        for _ in range(3):
            subject = f"{rng.choice(traffic.SUBJECTS)} and {rng.choice(traffic.SUBJECTS)}"
            request = Request(
                account=f"curious-{index}",
                ip=traffic.ip(rng),
                text=rng.choice(frames).format(subject),
                account_created_at=created,
            )
            requests.append((created + rng.uniform(0, 1800), request))
    assert blocked(run(limiter, traffic.stream(requests))) == 0


def test_check_many_equals_check_when_a_remembered_flag_falls_under_the_gate():
    """A key flagged earlier whose hits fell under the gate as the window moved on: the single path computes its
    estimates afterwards for the reason, the batch path inside the kernel; the decisions must still be equal."""
    policy = {
        "window": 60.0,
        "buckets": 2,
        "escalation": {"memory": 3600.0, "account_penalty": 1.0},
        "rules": [
            {
                "type": "pattern",
                "name": "fan-out",
                "pattern": "template",
                "when": {"accounts": {"min": 3}},
                "applies_to": "all",
                "min_account_hits": 1,
            }
        ],
    }
    text = "Write a Python function that {task}. Return only code."
    stream = [
        (traffic.START + index, Request(account=f"a{index}", text=text.format(task=f"t{index}"))) for index in range(4)
    ]
    late = text.format(task="t9")
    stream += [(traffic.START + 500 + index, Request(account=f"late{index}", text=late)) for index in range(2)]
    one, batch = Limiter(policy, secret=SECRET), Limiter(policy, secret=SECRET)
    singles = [one.check(request, now) for now, request in stream]
    assert singles == batch.check_many([request for _, request in stream], [now for now, _ in stream])
    remembered = singles[-1]
    assert remembered.rule == "fan-out" and "flagged earlier" in remembered.reason
    assert remembered.scores["hits"] < 3 and remembered.scores["accounts"] >= 1


@pytest.mark.parametrize("batched", [False, True])
def test_a_rule_measures_and_flags_only_the_requests_it_applies_to(batched):
    """A young-only rule neither measures nor flags a pattern on established accounts' requests (the kernel skips
    their estimates: no rule could read them); the first young account's request on it is measured and flags it."""
    policy = {
        "rules": [
            {
                "type": "pattern",
                "name": "young-fan-out",
                "pattern": "template",
                "when": {"accounts": {"min": 3}},
                "applies_to": "young",
                "action": "log",
            }
        ]
    }
    text = "Summarise the following document in three bullet points: {}"
    old = traffic.START - 400 * 86400
    stream = [Request(account=f"elder-{index}", text=text.format(index), account_created_at=old) for index in range(5)]
    stream.append(Request(account="newcomer", text=text.format(99), account_created_at=traffic.START))
    times = [traffic.START + index for index in range(len(stream))]
    limiter = Limiter(policy, secret=SECRET)

    def decide(requests, moments):  # type: ignore[no-untyped-def]
        if batched:
            return limiter.check_many(requests, moments)
        return [limiter.check(request, moment) for request, moment in zip(requests, moments, strict=True)]

    elders = decide(stream[:5], times[:5])
    assert all(decision.action is Action.ALLOW for decision in elders)
    # the policy counts one kind, the template (labels are sampled, so the kind is not always named here)
    assert [pattern.flagged_by for pattern in limiter.top_patterns(now=times[4])] == [None]
    (young,) = decide(stream[5:], times[5:])
    assert young.rule == "young-fan-out" and young.action is Action.LOG and young.scores["accounts"] >= 5
    assert [pattern.flagged_by for pattern in limiter.top_patterns(now=times[5])] == ["young-fan-out"]


@given(age_days=st.floats(min_value=-30, max_value=400, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_the_engine_classifies_standing_as_standing_of_does(age_days):
    limiter = Limiter(secret=SECRET)
    created = traffic.START - age_days * 86400
    facts = limiter._facts.facts(Request(account="a", account_created_at=created), traffic.START)
    assert facts.standing is standing_of(max(0.0, traffic.START - created), limiter.policy.context)
    for boundary in (limiter.policy.context.young_age, limiter.policy.context.trusted_age):
        at = limiter._facts.facts(Request(account="b", account_created_at=traffic.START - boundary), traffic.START)
        assert at.standing is standing_of(boundary, limiter.policy.context)


_PLAN_LIMITER = Limiter(secret=SECRET)


@given(
    text=st.one_of(
        st.text(max_size=400),
        st.builds(lambda seed: traffic.campaign_prompt(random.Random(seed)), st.integers(0, 10_000)),
        st.builds(lambda seed: traffic.organic_prompt(random.Random(seed)), st.integers(0, 10_000)),
    ),
    ip=st.sampled_from(["203.0.113.7", "2001:db8::1", "not an ip", ""]),
)
@settings(max_examples=150, deadline=None)
def test_the_default_presets_facts_shortcut_builds_what_the_plan_loop_builds(text, ip):
    assert _PLAN_LIMITER._facts._preset_plan  # the default preset takes the shortcut
    request = Request(account="a", ip=ip, text=text)
    quick = _PLAN_LIMITER._facts.facts(request, traffic.START)
    _PLAN_LIMITER._facts._preset_plan = False
    try:
        looped = _PLAN_LIMITER._facts.facts(request, traffic.START)
    finally:
        _PLAN_LIMITER._facts._preset_plan = True
    assert quick == looped


def test_a_class_is_a_cohort_but_the_same_traffic_through_a_proxy_pool_is_a_campaign(limiter):
    """The class's young senders share one network (network_share near 1); spread over 40 proxy prefixes, the very
    same accounts and texts give each request a share near 1/40 and are throttled. Without a public address (none,
    a private one, loopback: what an app behind an untrusted proxy sees), a request is its own network: the cohort
    exemption needs a known public NAT."""
    assert blocked(run(limiter, traffic.classroom())) == 0
    rng = random.Random(9)
    pooled = [(now, replace(request, ip=traffic.ip(rng, 40))) for now, request in traffic.classroom(seed=7)]
    decisions = run(Limiter(secret=SECRET), pooled)
    assert blocked(decisions) > 0.5 * len(decisions)
    caught = next(decision for decision in decisions if decision.rule == "template-fan-out")
    assert caught.scores["network_share"] < 0.2
    for campus in (None, "10.1.2.3", "127.0.0.1"):  # unknown, private (a proxy not trusted), loopback
        unknown = run(Limiter(secret=SECRET), traffic.classroom(seed=8, campus=campus))
        assert blocked(unknown) > 0.5 * len(unknown), campus


def test_a_remembered_flag_acts_on_a_patterns_proxy_requests_but_not_on_a_nat_cohort():
    """A campaign flags the homework template through a proxy pool, then stops. Ten hours later (out of the
    window, within the flag's memory) a class uses the template from its NAT while a few new proxy accounts return
    to it: the remembered flag acts on the proxies' requests (their network_share is small) and not on the class's
    (its NAT holds most of the pattern's young senders again)."""
    rng = random.Random(10)

    def proxied(stream, prefix, shift):  # type: ignore[no-untyped-def]
        return [
            (now + shift, replace(request, account=f"{prefix}-{request.account}", ip=traffic.ip(rng, 40)))
            for now, request in stream
        ]

    later = 10 * 3600.0
    campaign = proxied(traffic.classroom(seed=11), "proxy", 0.0)
    returning = proxied(traffic.classroom(students=15, seed=13), "back", later)
    students = [(now + later, request) for now, request in traffic.classroom(students=60, seed=12)]
    limiter = Limiter(secret=SECRET)
    assert blocked(run(limiter, campaign)) > 0.5 * len(campaign)
    tagged = sorted([(now, request, True) for now, request in returning] + [(now, r, False) for now, r in students])
    outcomes = [(limiter.check(request, now), proxy) for now, request, proxy in tagged]
    assert sum(decision.action is Action.THROTTLE for decision, proxy in outcomes if proxy) > 0.5 * len(returning)
    # a few students whose near-duplicate band was, at that moment, sent by hardly anyone but the proxies (one
    # student and one proxy give each a share of 0.5) are the measure's noise at small counts; without the
    # re-check every student would be throttled from its second request on the remembered flag
    assert sum(decision.action is Action.THROTTLE for decision, proxy in outcomes if not proxy) <= 0.02 * len(students)


def test_a_request_that_several_rules_flag_counts_once_towards_persistence():
    """Two rules on one template (as the preset's fan-out and mass fan-out are): an account's first request on
    the flagged pattern is its first, however many rules flag it, so it is only logged; its second is acted on."""
    rule = {"type": "pattern", "pattern": "template", "when": {"accounts": {"min": 3}}, "min_account_hits": 2}
    limiter = Limiter({"rules": [{**rule, "name": "one"}, {**rule, "name": "two"}]}, secret=SECRET)
    text = "Write a Python function that {}. Return only code."
    for index in range(4):
        limiter.check(Request(account=f"a{index}", text=text.format(index)), traffic.START + index)
    first = limiter.check(Request(account="b", text=text.format(8)), traffic.START + 10)
    assert first.action is Action.LOG and first.scores["account_flagged_hits"] == 1.0
    second = limiter.check(Request(account="b", text=text.format(9)), traffic.START + 11)
    assert second.action is Action.THROTTLE and second.scores["account_flagged_hits"] == 2.0
    assert (
        limiter._decider.memory.record(limiter._facts.facts(Request(account="b"), traffic.START).account).offences == 1
    )


def test_a_class_stays_a_cohort_at_any_size_and_the_mass_fan_out_needs_hopping_accounts(limiter):
    """Eighteen of 120 students off campus: each is its own network's only sender (network_share near 0), but the
    pattern's concentration (about 0.72) marks it a NAT cohort. A class of 260 is a cohort too: its members keep
    their networks. A campaign of as many accounts that hop between proxies, most requests through one of them,
    is stopped all the same."""
    assert blocked(run(limiter, traffic.classroom(remote=18))) == 0
    huge = run(Limiter(secret=SECRET), traffic.classroom(students=260, per_student=6, seed=14))
    assert blocked(huge) == 0
    rng = random.Random(5)
    funnelled = [
        (now, replace(request, ip=f"198.51.100.{rng.randrange(1, 250)}") if rng.random() < 0.6 else request)
        for now, request in traffic.campaign(accounts=260, per_account=8, prefixes=8)
    ]
    decisions = run(Limiter(secret=SECRET), funnelled)
    assert blocked(decisions) > 0.2 * len(decisions)

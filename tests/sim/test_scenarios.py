"""The traffic generators' shapes, checked with numbers: what the evaluation's verdicts rest on."""

from __future__ import annotations

import collections
import dataclasses
import itertools
import random
import re
import statistics
import time
from collections.abc import Iterable

import pytest

from patternlimit import ConfigurationError, Request
from patternlimit.fingerprint import network_prefix
from patternlimit.sim import SCENARIOS, START, CampaignShape, Labelled, generate, paraphrase
from patternlimit.sim import campaign as campaign_module
from patternlimit.sim import legitimate as legitimate_module
from patternlimit.sim import scenarios as scenarios_module
from patternlimit.sim import text as text_module

HOUR = 3600.0
DAY = 86400.0
YOUNG = 7 * DAY


@pytest.fixture(scope="module")
def mix() -> list[Labelled]:
    """Every scenario at a fifth of the default scale over a day (about 65,000 requests)."""
    return generate(11, scale=0.2)


@pytest.fixture(scope="module")
def full() -> tuple[list[Labelled], float]:
    """The default run (scale 1, 24 hours) and the seconds it took."""
    began = time.perf_counter()
    stream = generate(7)
    return stream, time.perf_counter() - began


def of(stream: Iterable[Labelled], scenario: str) -> list[Labelled]:
    return [item for item in stream if item.scenario == scenario]


def by_account(stream: Iterable[Labelled]) -> dict[str, list[Labelled]]:
    accounts: dict[str, list[Labelled]] = collections.defaultdict(list)
    for item in stream:
        accounts[str(item.request.account)].append(item)
    return accounts


def created(item: Labelled) -> float:
    assert item.request.account_created_at is not None
    return item.request.account_created_at


def age(item: Labelled) -> float:
    return item.time - created(item)


def prefix(item: Labelled) -> str:
    network = network_prefix(item.request.ip)
    assert network is not None, item.request.ip
    return network


# --- the stream as a whole -----------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_stream_and_another_seed_another():
    first = generate(3, scale=0.03, duration_hours=6)
    assert first == generate(3, scale=0.03, duration_hours=6)
    other = generate(4, scale=0.03, duration_hours=6)
    assert [item.request.text for item in other[:200]] != [item.request.text for item in first[:200]]
    assert {item.request.account for item in other}.isdisjoint({item.request.account for item in first})


@pytest.mark.parametrize("scenario", ["campaign", "classroom"])
def test_a_scenario_does_not_depend_on_the_others_generated_with_it(mix, scenario):
    alone = generate(11, scale=0.2, scenarios=[scenario])
    assert alone and alone == of(mix, scenario)


def test_every_scenario_is_labelled_and_the_label_stays_outside_the_request(mix):
    assert {item.scenario for item in mix} == set(SCENARIOS)
    assert all(item.campaign == (item.scenario == "campaign") for item in mix)
    request_fields = {field.name for field in dataclasses.fields(Request)}
    assert not request_fields & {"scenario", "campaign", "label"}
    # Nothing the limiter sees names the scenario: account ids are opaque.
    assert all(re.fullmatch(r"acct_[0-9a-f]{16}", str(item.request.account)) for item in mix)
    assert len({item.request.account for item in mix}) == sum(
        len({item.request.account for item in of(mix, name)}) for name in SCENARIOS
    )


def test_the_stream_is_sorted_within_the_run_and_every_request_is_filled_in(mix):
    times = [item.time for item in mix]
    assert times == sorted(times)
    assert times[0] >= START and times[-1] < START + 24 * HOUR
    for item in mix:
        request = item.request
        assert request.account and request.ip and request.text and request.client
        assert request.route.startswith("/v1/") and request.cost == 1
        assert request.account_created_at is not None and network_prefix(request.ip) is not None
    messages = sum(item.request.route == "/v1/messages" for item in mix)
    assert 0.95 < messages / len(mix) < 1.0


def test_the_default_run_has_at_least_300_000_requests_and_is_quick(full):
    stream, seconds = full
    counts = collections.Counter(item.scenario for item in stream)
    assert len(stream) >= 300_000, counts
    assert counts["organic"] > len(stream) / 2
    assert counts["campaign"] > 30_000
    assert seconds < 30  # a few seconds on two cores; the bound leaves room for a busy CI runner


def test_arguments_out_of_range_name_what_is_wrong():
    with pytest.raises(ConfigurationError, match="unknown scenario"):
        generate(1, scenarios=["organic", "botnet"])
    with pytest.raises(ConfigurationError, match="scale"):
        generate(1, scale=0)
    with pytest.raises(ConfigurationError, match="duration_hours"):
        generate(1, duration_hours=float("nan"))
    with pytest.raises(ConfigurationError, match=r"CampaignShape\.waves"):
        CampaignShape(waves=0)
    with pytest.raises(ConfigurationError, match=r"CampaignShape\.templates must be at most"):
        CampaignShape(templates=text_module.CAMPAIGN_TEMPLATE_COUNT + 1)
    with pytest.raises(ConfigurationError, match=r"CampaignShape\.paraphrase_rate"):
        CampaignShape(paraphrase_rate=1.5)


# --- the campaign --------------------------------------------------------------------------------------------------


def test_campaign_accounts_are_created_in_waves_just_before_their_wave(mix):
    shape = CampaignShape()
    campaign = of(mix, "campaign")
    accounts = by_account(campaign)
    assert len(accounts) == round(shape.accounts * 0.2)
    creations = sorted({created(items[0]) for items in accounts.values()})
    spacing = (24 - shape.start_offset_hours) * HOUR / shape.waves
    groups = [[creations[0]]]
    for moment in creations[1:]:
        if moment - groups[-1][-1] > spacing / 4:
            groups.append([])
        groups[-1].append(moment)
    assert len(groups) == shape.waves
    assert all(len(group) == len(accounts) // shape.waves for group in groups)
    for wave, group in enumerate(groups):
        wave_start = START + shape.start_offset_hours * HOUR + wave * spacing
        assert wave_start - 2 * HOUR <= group[0] and group[-1] < wave_start
    # Young at every request: the default preset's idea of young is 7 days.
    assert max(age(item) for item in campaign) < 1 * DAY


def test_campaign_accounts_are_retired_before_they_are_a_week_old_in_a_long_run():
    shape = CampaignShape(accounts=300, waves=3, proxy_prefixes=30)
    campaign = generate(5, duration_hours=20 * 24, scenarios=["campaign"], campaign=shape)
    assert len(by_account(campaign)) == 300
    ages = [age(item) for item in campaign]
    assert max(ages) < YOUNG
    assert max(ages) > 5 * DAY  # the waves are 6.3 days apart: the age cap is what retired them


@pytest.mark.parametrize("rate", [2.0, 6.0])
def test_every_campaign_account_stays_under_its_documented_hourly_limit(rate):
    shape = CampaignShape(accounts=200, proxy_prefixes=20, per_account_rate_per_hour=rate)
    assert shape.max_per_hour == (4 if rate == 2.0 else 12)
    campaign = generate(9, duration_hours=24, scenarios=["campaign"], campaign=shape)
    cap = shape.max_per_hour
    busiest = 0
    for items in by_account(campaign).values():
        times = sorted(item.time for item in items)
        # at most `cap` requests in any 3,600 seconds, checked on every sliding window
        assert all(later - earlier >= HOUR for earlier, later in zip(times, times[cap:], strict=False))
        busiest = max(busiest, max(sum(1 for moment in times if first <= moment < first + HOUR) for first in times))
    assert busiest == cap  # the cap binds somewhere: the test would see a scheduler that ignored it
    # the mean stays near the documented rate over each account's working time: two wave gaps (less the run's
    # end), less half an hour on average before its first request; the diurnal modulation moves it a little
    spacing = 22 * HOUR / shape.waves
    working = [min(2 * spacing, 22 * HOUR - wave * spacing) - HOUR / 2 for wave in range(shape.waves)]
    active_hours = sum(working[index % shape.waves] for index in range(200)) / HOUR
    assert 0.75 * rate < len(campaign) / active_hours < 1.2 * rate


def test_campaign_timing_is_irregular_not_a_metronome(mix):
    gaps = []
    for items in by_account(of(mix, "campaign")).values():
        times = sorted(item.time for item in items)
        gaps.extend(later - earlier for earlier, later in itertools.pairwise(times))
    assert statistics.stdev(gaps) / statistics.mean(gaps) > 0.6  # exponential gaps: about 1


def test_campaign_requests_leave_through_the_proxy_pool_with_several_accounts_per_prefix(mix):
    campaign = of(mix, "campaign")
    pool = round(CampaignShape().proxy_prefixes * 0.2)
    accounts_per_prefix: dict[str, set[str]] = collections.defaultdict(set)
    for item in campaign:
        accounts_per_prefix[prefix(item)].add(str(item.request.account))
    assert 0.9 * pool <= len(accounts_per_prefix) <= pool
    assert statistics.median(len(accounts) for accounts in accounts_per_prefix.values()) >= 5
    for items in by_account(campaign).values():
        assert len({prefix(item) for item in items}) <= 3
        assert len({item.request.ip for item in items}) > 1 or len(items) == 1


def test_campaign_prompts_vary_within_few_frames_and_some_are_paraphrased():
    shape = CampaignShape(accounts=100, proxy_prefixes=10, templates=3, paraphrase_rate=0.0)
    plain = [str(item.request.text) for item in generate(2, scenarios=["campaign"], campaign=shape)]
    assert len(set(plain)) > 0.95 * len(plain)
    # three frames: every prompt shares its first or its last three words with a large part of the campaign
    heads = collections.Counter(tuple(text.split()[:3]) for text in plain)
    tails = collections.Counter(tuple(text.split()[-3:]) for text in plain)
    assert all(
        max(heads[tuple(text.split()[:3])], tails[tuple(text.split()[-3:])]) > 0.15 * len(plain) for text in plain
    )
    # words only the paraphraser writes
    rare = re.compile(r"\b(routine|solely|performant|clarify|utilise|employ|repair|specialist|seasoned|veteran|stages?"
                      r"|enhance|refine|strive|thorough|afterwards|initially)\b", re.IGNORECASE)  # fmt: skip
    assert not any(rare.search(text) for text in plain)
    reworded = generate(2, scenarios=["campaign"], campaign=dataclasses.replace(shape, paraphrase_rate=0.5))
    share = sum(bool(rare.search(str(item.request.text))) for item in reworded) / len(reworded)
    assert 0.1 < share < 0.5


@pytest.mark.parametrize("template", range(text_module.CAMPAIGN_TEMPLATE_COUNT))
def test_each_campaign_template_keeps_a_fixed_frame_around_varied_fillers(template):
    rng = random.Random(template)
    prompts = [text_module.campaign_prompt(rng, template) for _ in range(30)]
    assert len(set(prompts)) >= 28
    words = [prompt.split() for prompt in prompts]
    prefix_words = len(_common_prefix(words))
    suffix_words = len(_common_prefix([list(reversed(split)) for split in words]))
    assert max(prefix_words, suffix_words) >= 3, prompts[:2]


def test_there_are_enough_campaign_templates_and_organic_frames():
    assert text_module.CAMPAIGN_TEMPLATE_COUNT >= 12
    assert text_module.ORGANIC_FRAME_COUNT >= 40
    with pytest.raises(ValueError, match="template must be in"):
        text_module.campaign_prompt(random.Random(1), text_module.CAMPAIGN_TEMPLATE_COUNT)


def _common_prefix(sequences: list[list[str]]) -> list[str]:
    shortest = min(sequences, key=len)
    for index, word in enumerate(shortest):
        if any(sequence[index] != word for sequence in sequences):
            return shortest[:index]
    return shortest


# --- the legitimate look-alikes ------------------------------------------------------------------------------------


def test_the_ci_harness_is_one_established_account_at_high_volume_from_one_address():
    ci = generate(6, scenarios=["ci_harness"])
    assert len(ci) >= 20_000
    assert len({item.request.account for item in ci}) == 1 and len({item.request.ip for item in ci}) == 1
    assert min(age(item) for item in ci) > 365 * DAY
    gaps = [later.time - earlier.time for earlier, later in itertools.pairwise(ci)]
    assert 3.5 < statistics.median(gaps) < 4.5 and max(gaps) < 5.0  # steady: 4 s, +-10%
    texts = [str(item.request.text) for item in ci]
    assert len(set(texts)) > 0.99 * len(texts)  # one template, different functions and cases
    assert all(text.startswith("Generate pytest unit tests for") for text in texts)
    assert all(text.endswith("Reply with the complete test module only.") for text in texts)


def test_the_corporate_nat_is_one_address_with_hundreds_of_established_accounts():
    nat = generate(6, scenarios=["corporate_nat"])
    assert len({item.request.ip for item in nat}) == 1
    assert len(by_account(nat)) >= 300
    assert min(age(item) for item in nat) >= 30 * DAY
    # short common questions repeat across people, as in real traffic (about one in eight organic prompts)
    assert len({item.request.text for item in nat}) > 0.9 * len(nat)


def test_the_flash_crowd_is_new_accounts_arriving_within_an_hour_with_varied_prompts(mix):
    crowd = of(mix, "flash_crowd")
    accounts = by_account(crowd)
    assert len(accounts) == round(3000 * 0.2)
    creations = [created(items[0]) for items in accounts.values()]
    assert max(creations) - min(creations) <= HOUR
    for items in accounts.values():
        assert 60 <= min(age(item) for item in items) <= 900  # first request minutes after signing up
        assert len(items) <= 6
    assert max(age(item) for item in crowd) < 1 * DAY
    assert len({item.request.text for item in crowd}) > 0.9 * len(crowd)
    assert len({prefix(item) for item in crowd}) > 0.8 * len(accounts)


def test_the_launch_crowd_sends_one_identical_quickstart_then_its_own_prompts(mix):
    crowd = of(mix, "launch_crowd")
    accounts = by_account(crowd)
    assert 0.97 * 4000 * 0.2 <= len(accounts) <= 4000 * 0.2  # a few sign up too late to send anything
    quickstarts = [item for item in crowd if item.request.text == text_module.QUICKSTART]
    assert len(quickstarts) > 0.4 * len(crowd)
    for items in accounts.values():
        items.sort(key=lambda item: item.time)
        assert items[0].request.text == text_module.QUICKSTART
        copies = sum(item.request.text == text_module.QUICKSTART for item in items)
        assert 1 <= copies <= 2 and len(items) - copies <= 3
    assert max(age(item) for item in crowd) < 1 * DAY
    others = [item.request.text for item in crowd if item.request.text != text_module.QUICKSTART]
    assert len(set(others)) > 0.9 * len(others)


def test_popular_tool_prompts_share_the_scaffold_around_varied_requests(mix):
    tool = of(mix, "popular_tool")
    assert len(text_module.TOOL_OPENING.split()) >= 100
    assert len(text_module.TOOL_OPENING.split()) + len(text_module.TOOL_CLOSING.split()) >= 150
    texts = [str(item.request.text) for item in tool]
    assert all(text.startswith(text_module.TOOL_OPENING) and text.endswith(text_module.TOOL_CLOSING) for text in texts)
    middles = {text[len(text_module.TOOL_OPENING) : -len(text_module.TOOL_CLOSING)] for text in texts}
    assert len(middles) > 0.95 * len(texts)
    # most of the tool's users are active on a given day (about 80%); at full scale that is thousands
    assert 0.7 * 3000 * 0.2 <= len(by_account(tool)) <= 3000 * 0.2
    assert min(age(item) for item in tool) >= 30 * DAY


def test_thousands_of_established_accounts_use_the_popular_tool_at_full_scale(full):
    stream, _ = full
    assert len({item.request.account for item in of(stream, "popular_tool")}) >= 2000
    assert len({item.request.account for item in of(stream, "organic")}) >= 9000


@pytest.fixture(scope="module")
def classroom() -> list[Labelled]:
    """One class at the default scale (about 1,400 requests)."""
    return generate(7, scenarios=["classroom"])


def test_the_classroom_is_a_class_of_new_accounts_in_one_lab_session(classroom):
    accounts = by_account(classroom)
    assert len(accounts) == legitimate_module.CLASSROOM_ACCOUNTS == 150
    # young at every request (the default preset's young is under 7 days), created in the two days before the lab
    assert min(age(item) for item in classroom) > 0 and max(age(item) for item in classroom) < YOUNG
    begin, finish = classroom[0].time, classroom[-1].time
    assert all(begin - 48 * HOUR <= created(item) < begin for item in classroom)
    # one session: starting 8-16 hours into the day, lasting at most 3 hours, every student there in its first
    # quarter hour
    assert START + 8 * HOUR <= begin <= START + 16 * HOUR and 1.5 * HOUR < finish - begin <= 3 * HOUR
    assert all(min(item.time for item in items) <= begin + 15 * 60 for items in accounts.values())
    counts = [len(items) for items in accounts.values()]
    assert min(counts) == 4 and max(counts) == 15
    gaps = [later.time - earlier.time for items in accounts.values() for earlier, later in itertools.pairwise(items)]
    assert 2 * 60 < statistics.median(gaps) < 10 * 60 and min(gaps) > 1 and max(gaps) < 2 * HOUR
    assert {item.request.client for item in classroom} <= {client for client, _ in legitimate_module._NEW_USER_CLIENTS}
    assert len({item.request.client for item in classroom}) >= 3


def test_most_of_the_class_is_behind_the_campus_address_and_the_rest_have_their_own(classroom):
    campus, sent = collections.Counter(item.request.ip for item in classroom).most_common(1)[0]
    assert sent >= 0.8 * len(classroom)
    assert network_prefix(campus) == campus.rsplit(".", 1)[0] + ".0/24"  # one IPv4 address
    accounts = by_account(classroom)
    assert all(len({item.request.ip for item in items}) == 1 for items in accounts.values())
    in_lab = [account for account, items in accounts.items() if items[0].request.ip == campus]
    assert len(in_lab) == round(0.85 * 150)
    remote = [items[0].request.ip for items in accounts.values() if items[0].request.ip != campus]
    assert len(set(remote)) == len(remote) == 150 - len(in_lab)  # one address each
    assert network_prefix(campus) not in {network_prefix(address) for address in remote}


def test_the_class_sends_one_homework_handout_around_each_students_own_work(classroom):
    texts = [str(item.request.text) for item in classroom]
    assert len({text.split("\n", 1)[0] for text in texts}) == 1  # every text opens with the same line
    (opening, closing), *others = [frame for frame in text_module.HOMEWORK_FRAMES if texts[0].startswith(frame[0])]
    assert not others
    assert all(text.startswith(opening) and text.endswith(closing) for text in texts)
    assert len(opening.split()) >= 30 and len(closing.split()) >= 15
    assert len(set(texts)) > 0.9 * len(texts)
    middles = [text[len(opening) : -len(closing)] for text in texts]
    assert len(set(middles)) > 0.9 * len(middles)
    # another class has another assignment: the handout is the class's, not the scenario's
    openings = {
        generate(seed, scale=0.05, scenarios=["classroom"])[0].request.text.split("\n", 1)[0] for seed in range(8)
    }
    assert len(openings) >= 2


@pytest.mark.parametrize("assignment", range(len(text_module.HOMEWORK_FRAMES)))
def test_each_homework_keeps_its_handout_around_varied_work(assignment):
    rng = random.Random(assignment)
    opening, closing = text_module.HOMEWORK_FRAMES[assignment]
    prompts = [text_module.homework_prompt(rng, assignment) for _ in range(50)]
    assert all(prompt.startswith(opening + "\n\n") and prompt.endswith("\n\n" + closing) for prompt in prompts)
    assert len(set(prompts)) >= 48
    # the student's own part is tens of words (their code, query, attempt or draft), not a word or two
    own = [len(prompt[len(opening) : -len(closing)].split()) for prompt in prompts]
    assert statistics.median(own) >= 25
    # every slot and wording of the frames is filled in
    assert not any(re.search(r"\{[a-z_]+\}|\[[^\]\n]*\|[^\]\n]*\]", prompt) for prompt in prompts)


def test_there_are_a_few_distinct_homeworks_and_a_bad_index_is_refused():
    openings = [opening for opening, _ in text_module.HOMEWORK_FRAMES]
    assert 2 <= len(openings) <= 4 and len(set(openings)) == len(openings)
    with pytest.raises(ValueError, match="assignment must be in"):
        text_module.homework_prompt(random.Random(1), len(openings))


def test_the_classroom_scales_with_scale(classroom):
    for scale in (0.2, 2.0):
        stream = generate(7, scale=scale, scenarios=["classroom"])
        assert len(by_account(stream)) == round(150 * scale)
        assert 0.7 * scale * len(classroom) < len(stream) < 1.3 * scale * len(classroom)
        assert collections.Counter(item.request.ip for item in stream).most_common(1)[0][1] >= 0.8 * len(stream)


def test_the_same_seed_gives_the_same_class_and_another_seed_another(classroom):
    assert generate(7, scenarios=["classroom"]) == classroom
    other = generate(8, scenarios=["classroom"])
    assert {item.request.account for item in other}.isdisjoint({item.request.account for item in classroom})
    assert {item.request.ip for item in other}.isdisjoint({item.request.ip for item in classroom})
    assert other[0].time != classroom[0].time


def test_organic_traffic_is_established_spread_out_heavy_tailed_and_follows_the_day(mix):
    organic = of(mix, "organic")
    accounts = by_account(organic)
    assert min(age(item) for item in organic) >= 30 * DAY and max(age(item) for item in organic) <= 1501 * DAY
    assert len({prefix(item) for item in organic}) > 0.8 * len(accounts)
    ipv6 = sum(":" in item.request.ip for item in organic) / len(organic)
    assert 0.05 < ipv6 < 0.35
    assert 8 <= len({item.request.client for item in organic}) <= 15
    counts = sorted((len(items) for items in accounts.values()), reverse=True)
    assert sum(counts[: len(counts) // 100]) > 0.08 * sum(counts)  # the busiest 1% send over 8%
    assert statistics.median(counts) < statistics.mean(counts)
    hours = collections.Counter(int((item.time - START) // HOUR) for item in organic)
    assert max(hours.values()) > 1.5 * min(hours.values())
    assert len({item.request.text for item in organic}) > 0.8 * len(organic)
    coded = sum("```" in str(item.request.text) for item in organic) / len(organic)
    assert 0.1 < coded < 0.4


# --- paraphrase ----------------------------------------------------------------------------------------------------


def test_paraphrase_changes_some_words_but_not_most():
    rng = random.Random(12)
    shares = []
    for index in range(300):
        source = text_module.campaign_prompt(rng, index % text_module.CAMPAIGN_TEMPLATE_COUNT)
        reworded = paraphrase(source, rng)
        assert reworded != source
        before, after = collections.Counter(source.split()), collections.Counter(reworded.split())
        changed = 1 - sum((before & after).values()) / sum(before.values())
        assert 0 < changed < 0.5, (source, reworded)
        shares.append(changed)
        # fenced code is left exactly as it was
        assert re.findall(r"```.*?```", source, re.DOTALL) == re.findall(r"```.*?```", reworded, re.DOTALL)
    assert statistics.mean(shares) < 0.2


def test_paraphrase_at_rate_zero_is_the_identity_and_a_bad_rate_is_refused():
    text = "Write a function. Explain each step."
    assert paraphrase(text, random.Random(1), 0.0) == text
    with pytest.raises(ValueError, match="rate must be in"):
        paraphrase(text, random.Random(1), 1.5)
    assert paraphrase("nothing to swap here", random.Random(1), 1.0) == "nothing to swap here"


def test_scenario_generators_take_the_documented_arguments():
    rng = scenarios_module.scenario_rng(1, "organic")
    stream = legitimate_module.organic_traffic(rng, START, 2 * HOUR, 0.01)
    assert stream and all(START <= item.time < START + 2 * HOUR for item in stream)
    assert campaign_module.campaign_traffic(random.Random(1), START, HOUR, 1.0, CampaignShape()) == []

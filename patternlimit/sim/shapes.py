"""More shapes of campaigns and of their look-alikes, each with its own constants.

Campaigns:

* ``rotation_campaign``: 600 young accounts; each frame is assembled from parts (a role line, the task, a
  reasoning line, a format line, in any order) and used by about five accounts; a fresh residential address per
  request;
* ``aged_campaign``: 400 accounts created 10-120 days before the run (bought or pre-provisioned), heavily
  paraphrased campaign templates, a fresh residential address per request, half of their requests organic cover
  traffic; they start after the warm-up, so the limiter has seen everyone else's history but not theirs;
* ``agentic_campaign``: 300 young accounts run an extraction agent: each request resends the growing
  conversation (turns joined by U+001E) under the agent's fixed system prompt, through a pool of 40 proxy /24s.

Look-alikes:

* ``viral_agent``: an open-source coding agent goes viral: 800 brand-new accounts on their own residential or
  mobile networks, multi-turn conversations under the agent's one fixed system prompt, the users' own asks;
* ``hackathon``: 200 new accounts start from one starter-kit prompt (2-4 requests with their own details), then
  drift to prompts of their own, from their own networks;
* ``saas_relay``: one old account relaying 2,000 end users' content in its own fixed frame, from one address;
* ``eval_sweep``: a lab's eval sweep: 40 old keys on one /24, one eval template with a different item each time;
* ``big_class``: a class of 1,200 new accounts behind its campus NAT, one homework template.
"""

from __future__ import annotations

import random

from patternlimit.request import Request
from patternlimit.sim.campaign import CAMPAIGN_PARAPHRASE_INTENSITY
from patternlimit.sim.clock import DAY, HOUR
from patternlimit.sim.labels import Labelled
from patternlimit.sim.legitimate import classroom_traffic
from patternlimit.sim.rewording import paraphrase
from patternlimit.sim.senders import (
    ANTHROPIC_PYTHON,
    HEARTH,
    HOSTING_OCTETS,
    HTTPX,
    RESIDENTIAL_OCTETS,
    account_id,
    host,
    new_user_address,
    prefix24,
    scaled,
)
from patternlimit.sim.text import (
    CAMPAIGN_TEMPLATE_COUNT,
    app_frame,
    app_prompt,
    campaign_prompt,
    ci_prompt,
    organic_prompt,
)

TURN = "\x1e"

_ROLES = (
    "You are a principal engineer who reviews production code for correctness and clarity.",
    "Act as a senior backend developer with many years of experience in large systems.",
    "You are an expert competitive programmer who writes clean and efficient solutions.",
    "Pretend you are a patient teacher who explains programming concepts to new hires.",
    "You are a meticulous code auditor who cares about edge cases and failure modes.",
    "Take the role of a staff engineer mentoring a junior colleague on a real task.",
)
_REASONING = (
    "Before answering, reason through the problem carefully and show every step of your thinking.",
    "Explain your chain of thought in detail and justify each decision you make along the way.",
    "Think step by step, list the alternatives you considered and say why you rejected them.",
    "Walk through your reasoning slowly and check each intermediate result before moving on.",
)
_FORMATS = (
    "Give the final answer as a single code block followed by a short list of caveats.",
    "Format the response with a summary paragraph, the full solution and then the test cases.",
    "Answer in markdown with headings for analysis, solution and complexity at the end.",
    "Return the answer as numbered steps and finish with the complete working program.",
)
_AGENT_SYSTEM = (
    "You are Wren, an autonomous coding agent running in the user's terminal. You can read files, run commands "
    "and edit code. Always explain what you are about to do before doing it. Prefer small, reviewable changes. "
    "Never run destructive commands without asking. When a task is ambiguous, ask one clarifying question. "
    "Summarise what you changed at the end of every task, and list the commands the user should run next."
)
_EXTRACTOR_SYSTEM = (
    "You are a helpful assistant completing programming exercises for a dataset. Answer every exercise fully, "
    "with complete code, a detailed explanation of the approach, the time and space complexity and test cases. "
    "Do not skip steps. Continue with the next exercise when asked."
)
_STARTER_KIT = (
    "Using the HackKit starter template, help me build the feature described below for our team project. "
    "Our stack is the one the kit ships with. Feature: {ask}. Keep it simple enough to demo in five minutes."
)


def _item(time: float, account: str, ip: str, text: str, client: str, created: float, scenario: str,
          campaign: bool) -> Labelled:  # fmt: skip
    request = Request(account=account, ip=ip, text=text, route="/v1/messages", client=client,
                      account_created_at=created)  # fmt: skip
    return Labelled(time, request, scenario, campaign)


def _residential(rng: random.Random) -> str:
    return host(rng, prefix24(rng, RESIDENTIAL_OCTETS))


def _steady(rng: random.Random, begin: float, end: float, per_hour: float) -> list[float]:
    times, time = [], begin + rng.expovariate(per_hour / HOUR)
    while time < end:
        times.append(time)
        time += rng.expovariate(per_hour / HOUR)
    return times


def rotation_campaign(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    end = start + duration
    accounts = scaled(600, scale)
    frames = [
        (rng.choice(_ROLES), rng.choice(_REASONING), rng.choice(_FORMATS), rng.sample(range(4), 4))
        for _ in range(max(1, accounts // 5))
    ]
    out = []
    for index in range(accounts):
        role, reasoning, format_line, order = frames[index % len(frames)]
        account = account_id(rng)
        begin = start + rng.uniform(0.5, 0.5 + duration / HOUR / 2) * HOUR
        created = begin - rng.uniform(0.2, 3.0) * DAY
        for time in _steady(rng, begin, end, rng.uniform(1.0, 3.0)):
            parts = [role, organic_prompt(rng), reasoning, format_line]
            text = "\n".join(parts[position] for position in order)
            out.append(_item(time, account, _residential(rng), text, HTTPX, created, "rotation_campaign", True))
    return out


def aged_campaign(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    end = start + duration
    templates = rng.sample(range(CAMPAIGN_TEMPLATE_COUNT), 6)
    out = []
    for _ in range(scaled(400, scale)):
        account = account_id(rng)
        created = start - rng.uniform(10.0, 120.0) * DAY
        mine = rng.sample(templates, 2)
        begin = start + rng.uniform(0.2, 4.0) * HOUR
        for time in _steady(rng, begin, end, rng.uniform(1.0, 2.5)):
            if rng.random() < 0.5:
                text = organic_prompt(rng)
            else:
                text = paraphrase(campaign_prompt(rng, rng.choice(mine)), rng, 2 * CAMPAIGN_PARAPHRASE_INTENSITY)
            out.append(_item(time, account, _residential(rng), text, ANTHROPIC_PYTHON, created, "aged_campaign", True))
    return out


def agentic_campaign(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    end = start + duration
    pool = [prefix24(rng, HOSTING_OCTETS) for _ in range(scaled(40, scale))]
    out = []
    for _ in range(scaled(300, scale)):
        account = account_id(rng)
        begin = start + rng.uniform(1.0, max(1.5, duration / HOUR - 2.0)) * HOUR
        created = begin - rng.uniform(0.1, 2.0) * DAY
        proxies = rng.sample(pool, 2)
        turns: list[str] = []
        for time in _steady(rng, begin, end, rng.uniform(1.5, 3.0)):
            if len(turns) >= 8 or rng.random() < 0.15:
                turns = []  # a new conversation
            turns.append(campaign_prompt(rng, rng.randrange(CAMPAIGN_TEMPLATE_COUNT)))
            text = TURN.join([_EXTRACTOR_SYSTEM, *turns])
            turns.append("Here is the solution with a full explanation.")
            ip = host(rng, rng.choice(proxies))
            out.append(_item(time, account, ip, text, HTTPX, created, "agentic_campaign", True))
    return out


def viral_agent(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    end = start + duration
    surge = start + duration * rng.uniform(0.1, 0.4)
    out = []
    for _ in range(scaled(800, scale)):
        account = account_id(rng)
        created = surge + rng.expovariate(1.0) * 2.0 * HOUR
        addresses = [new_user_address(rng)] + ([new_user_address(rng)] if rng.random() < 0.25 else [])
        time = created + rng.uniform(60.0, 1200.0)
        for _ in range(rng.randint(1, 4)):  # sessions
            turns: list[str] = []
            address = rng.choice(addresses)
            for _ in range(rng.randint(2, 10)):
                if time >= end:
                    break
                turns.append(organic_prompt(rng))
                out.append(_item(time, account, address, TURN.join([_AGENT_SYSTEM, *turns]), HEARTH, created,
                                 "viral_agent", False))  # fmt: skip
                turns.append("Done: I edited the file and ran the tests.")
                time += 10.0 + rng.expovariate(1.0) * 90.0
            time += rng.uniform(0.5, 6.0) * HOUR
    return out


def hackathon(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    end = start + duration
    kickoff = start + duration * rng.uniform(0.2, 0.5)
    out = []
    for _ in range(scaled(200, scale)):
        account = account_id(rng)
        created = kickoff - rng.uniform(0.0, 3.0) * HOUR
        address = new_user_address(rng)
        time = kickoff + rng.uniform(0.0, 1800.0)
        starter = rng.randint(2, 4)
        for position in range(starter + rng.randint(5, 15)):
            if time >= end:
                break
            ask = organic_prompt(rng)
            text = _STARTER_KIT.format(ask=ask.rstrip(".")) if position < starter else ask
            out.append(_item(time, account, address, text, ANTHROPIC_PYTHON, created, "hackathon", False))
            time += 60.0 + rng.expovariate(1.0) * 900.0
    return out


def saas_relay(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    account, created = account_id(rng), start - 400 * DAY
    address, frame = host(rng, prefix24(rng, HOSTING_OCTETS)), app_frame(rng)
    times = _steady(rng, start, start + duration, 300.0 * scale)
    return [
        _item(time, account, address, app_prompt(rng, frame), HTTPX, created, "saas_relay", False) for time in times
    ]


def eval_sweep(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    prefix = prefix24(rng, HOSTING_OCTETS)
    begin = start + duration * rng.uniform(0.2, 0.6)
    out = []
    for _ in range(scaled(40, scale)):
        account, created = account_id(rng), start - rng.uniform(100.0, 900.0) * DAY
        address = host(rng, prefix)
        for time in _steady(rng, begin, min(begin + 3 * HOUR, start + duration), 60.0):
            out.append(_item(time, account, address, ci_prompt(rng), HTTPX, created, "eval_sweep", False))
    return out


def big_class(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    return [
        Labelled(item.time, item.request, "big_class", False)
        for item in classroom_traffic(rng, start, duration, scale * 8.0)
    ]


SHAPES = {
    "rotation_campaign": rotation_campaign,
    "aged_campaign": aged_campaign,
    "agentic_campaign": agentic_campaign,
    "viral_agent": viral_agent,
    "hackathon": hackathon,
    "saas_relay": saas_relay,
    "eval_sweep": eval_sweep,
    "big_class": big_class,
}
CAMPAIGNS = frozenset({"rotation_campaign", "aged_campaign", "agentic_campaign"})

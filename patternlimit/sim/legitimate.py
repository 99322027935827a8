"""The legitimate traffic a campaign hides in, and that naive defences punish: organic users, a CI harness, flash
and launch crowds, a corporate NAT, users of a popular agent, a class behind its campus NAT.

Every generator takes ``(rng, start, duration, scale)`` and returns its :class:`~patternlimit.sim.labels.Labelled`
requests, none of them marked ``campaign``; :mod:`patternlimit.sim.scenarios` describes the shapes.
"""

from __future__ import annotations

import random

from patternlimit.request import Request
from patternlimit.sim.clock import DAY, HOUR, activity, regional_peak_hour, sessions
from patternlimit.sim.labels import Labelled
from patternlimit.sim.senders import (
    ANTHROPIC_JS,
    ANTHROPIC_PYTHON,
    AXIOS,
    CAMPUS_OCTETS,
    CHROME,
    CURL,
    FIREFOX,
    GO,
    HEARTH,
    HOSTING_OCTETS,
    HTTPX,
    REQUESTS,
    SAFARI,
    account_id,
    api_route,
    home_addresses,
    host,
    new_user_address,
    prefix24,
    scaled,
    weighted,
)
from patternlimit.sim.text import (
    HOMEWORK_FRAMES,
    QUICKSTART,
    app_frame,
    app_prompt,
    ci_prompt,
    homework_prompt,
    organic_prompt,
    tool_prompt,
)

ORGANIC_ACCOUNTS = 10_000
CI_INTERVAL = 4.0
"""Seconds between the CI harness's requests at scale 1 (21,600 a day)."""
FLASH_CROWD_ACCOUNTS = 3000
LAUNCH_CROWD_ACCOUNTS = 4000
CORPORATE_ACCOUNTS = 400
TOOL_ACCOUNTS = 3000
CLASSROOM_ACCOUNTS = 150
"""Students in the class at scale 1."""
CLASSROOM_ON_CAMPUS = 0.85
"""The share of the class in the lab, behind the campus NAT; the others work from home or a phone."""
CLASSROOM_ONSET = (1 / 3, 2 / 3)
"""Where in the run the lab session starts, as fractions of its duration (uniform): 8-16 hours into a day."""
CLASSROOM_SESSION_HOURS = (2.0, 3.0)
"""How long the lab session lasts (uniform)."""
CLASSROOM_SIGNUP_HOURS = (0.25, 48.0)
"""How long before the session a student's account was created (uniform): signing up was the first exercise."""
CLASSROOM_LATE_ARRIVAL = 15 * 60.0
"""Seconds after the session starts by which every student has sent a first request."""
CLASSROOM_REQUESTS = (4, 15)
"""Requests per student in the session (uniform, both ends included)."""
CLASSROOM_MIN_GAP = 10.0
CLASSROOM_MEAN_GAP = 360.0
"""Seconds between a student's requests: :data:`CLASSROOM_MIN_GAP` plus an exponential of this mean (they read
the answer, edit their work and ask again)."""


_ORGANIC_CLIENTS = (
    (CHROME, 0.25), (SAFARI, 0.12), (FIREFOX, 0.08), (ANTHROPIC_PYTHON, 0.18), (HTTPX, 0.07),
    (REQUESTS, 0.08), (ANTHROPIC_JS, 0.09), (AXIOS, 0.04), (CURL, 0.03), (GO, 0.06),
)  # fmt: skip
_NEW_USER_CLIENTS = ((CHROME, 0.4), (SAFARI, 0.25), (FIREFOX, 0.1), (ANTHROPIC_PYTHON, 0.15), (CURL, 0.1))
_QUICKSTART_CLIENTS = ((ANTHROPIC_PYTHON, 0.5), (ANTHROPIC_JS, 0.25), (CURL, 0.25))
_CORPORATE_CLIENTS = ((CHROME, 0.7), (ANTHROPIC_PYTHON, 0.2), (HTTPX, 0.1))


def _labelled(
    time: float, account: str, ip: str, text: str, route: str, client: str, created: float, scenario: str
) -> Labelled:
    request = Request(account=account, ip=ip, text=text, route=route, client=client, account_created_at=created)
    return Labelled(time, request, scenario, False)


def organic_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """Established accounts with varied prompts, sessions that follow their region's day, spread-out networks.

    Activity is Pareto (shape 1.4) from 7 requests a day, capped at 300: the median account sends about 11 a day,
    the mean is about 20. About 3% of the accounts are apps that wrap their users' content in a fixed instruction
    of their own (:func:`~patternlimit.sim.text.app_frame`); the rest send :func:`organic_prompt` text.
    """
    end = start + duration
    out: list[Labelled] = []
    for _ in range(scaled(ORGANIC_ACCOUNTS, scale)):
        account = account_id(rng)
        created = start - rng.uniform(30.0, 1500.0) * DAY
        addresses = home_addresses(rng)
        client = weighted(rng, _ORGANIC_CLIENTS)
        frame = app_frame(rng) if rng.random() < 0.03 else None
        per_day = activity(rng, 7.0, 1.4, 300.0)
        mean_length = 1.5 + rng.expovariate(1.0) * 2.0
        times = sessions(rng, start, end, per_day, mean_length, 60.0, 0.6, regional_peak_hour(rng))
        for time in times:
            text = organic_prompt(rng) if frame is None else app_prompt(rng, frame)
            address = addresses[int(rng.random() * len(addresses))]
            out.append(_labelled(time, account, address, text, api_route(rng), client, created, "organic"))
    return out


def ci_harness_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """One established customer's CI: one structured template (tests for a different function each time), every
    :data:`CI_INTERVAL` / ``scale`` seconds (+-10%), day and night, from one address."""
    end = start + duration
    interval = CI_INTERVAL / scale
    account = account_id(rng)
    created = start - rng.uniform(400.0, 900.0) * DAY
    address = host(rng, prefix24(rng, HOSTING_OCTETS))
    out: list[Labelled] = []
    time = start + rng.uniform(0.0, interval)
    while time < end:
        jittered = time + rng.uniform(-0.1, 0.1) * interval
        if start <= jittered < end:
            out.append(_labelled(jittered, account, address, ci_prompt(rng), "/v1/messages", HTTPX, created,
                                 "ci_harness"))  # fmt: skip
        time += interval
    return out


def flash_crowd_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """Brand-new accounts signing up within one hour (sign-ups peak early and tail off), each sending 2-6 varied
    prompts from its own residential or mobile address, the first a few minutes after signing up."""
    end = start + duration
    onset = start + duration * rng.uniform(0.3, 0.6)
    out: list[Labelled] = []
    for _ in range(scaled(FLASH_CROWD_ACCOUNTS, scale)):
        account = account_id(rng)
        created = onset + HOUR * rng.betavariate(1.3, 3.0)
        address = new_user_address(rng)
        client = weighted(rng, _NEW_USER_CLIENTS)
        time = created + rng.uniform(60.0, 900.0)
        for _ in range(rng.randint(2, 6)):
            if time >= end:
                break
            out.append(_labelled(time, account, address, organic_prompt(rng), "/v1/messages", client, created,
                                 "flash_crowd"))  # fmt: skip
            time += 20.0 + rng.expovariate(1.0) * 300.0
    return out


def launch_crowd_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """Brand-new accounts after a launch: sign-ups decay over hours (mean 3 h after the launch); each runs the
    quickstart example once or twice (the second a re-run seconds to minutes later), then 0-3 prompts of its own."""
    end = start + duration
    launch = start + duration * rng.uniform(0.1, 0.3)
    out: list[Labelled] = []
    for _ in range(scaled(LAUNCH_CROWD_ACCOUNTS, scale)):
        account = account_id(rng)
        created = launch + rng.expovariate(1.0) * 3.0 * HOUR
        address = new_user_address(rng)
        client = weighted(rng, _QUICKSTART_CLIENTS)
        time = created + rng.uniform(30.0, 600.0)
        texts = [QUICKSTART] * rng.randint(1, 2) + [organic_prompt(rng) for _ in range(rng.randint(0, 3))]
        for position, text in enumerate(texts):
            if time >= end:
                break
            out.append(_labelled(time, account, address, text, "/v1/messages", client, created, "launch_crowd"))
            time += rng.uniform(5.0, 180.0) if position == 0 else rng.uniform(60.0, 1800.0)
    return out


def corporate_nat_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """One company's established accounts behind its one egress address, busy in office hours (one time zone)."""
    end = start + duration
    address = host(rng, prefix24(rng, HOSTING_OCTETS))
    office_peak = rng.uniform(9.0, 16.0)
    out: list[Labelled] = []
    for _ in range(scaled(CORPORATE_ACCOUNTS, scale)):
        account = account_id(rng)
        created = start - rng.uniform(30.0, 1500.0) * DAY
        client = weighted(rng, _CORPORATE_CLIENTS)
        per_day = activity(rng, 5.0, 1.6, 200.0)
        for time in sessions(rng, start, end, per_day, 2.5, 90.0, 0.9, office_peak):
            out.append(_labelled(time, account, address, organic_prompt(rng), api_route(rng), client, created,
                                 "corporate_nat"))  # fmt: skip
    return out


def popular_tool_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """Established users of a popular open-source agent: every prompt is its fixed opening, the user's
    environment and request, its fixed closing (:func:`~patternlimit.sim.text.tool_prompt`), sent in agent-loop
    bursts of several requests seconds apart."""
    end = start + duration
    out: list[Labelled] = []
    for _ in range(scaled(TOOL_ACCOUNTS, scale)):
        account = account_id(rng)
        created = start - rng.uniform(30.0, 1500.0) * DAY
        addresses = home_addresses(rng)
        per_day = activity(rng, 4.0, 1.5, 300.0)
        for time in sessions(rng, start, end, per_day, 4.0, 20.0, 0.6, regional_peak_hour(rng)):
            address = addresses[int(rng.random() * len(addresses))]
            out.append(_labelled(time, account, address, tool_prompt(rng), "/v1/messages", HEARTH, created,
                                 "popular_tool"))  # fmt: skip
    return out


def classroom_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """A class of students with new accounts in one lab session, most of them behind the campus NAT's one address,
    every prompt the class's homework handout around the student's own work
    (:func:`~patternlimit.sim.text.homework_prompt`).

    The session starts at :data:`CLASSROOM_ONSET` of the run and lasts :data:`CLASSROOM_SESSION_HOURS`; the first
    :data:`CLASSROOM_ON_CAMPUS` of the students are in the lab, the others on an address of their own. A student
    sends :data:`CLASSROOM_REQUESTS` requests, the first within :data:`CLASSROOM_LATE_ARRIVAL` of the start; one
    whose gaps would run past the end of the session hurries (the gaps shrink in proportion so that the last
    request goes before the end). Requests past the end of the run are dropped.
    """
    end = start + duration
    onset = start + duration * rng.uniform(*CLASSROOM_ONSET)
    session_end = onset + HOUR * rng.uniform(*CLASSROOM_SESSION_HOURS)
    campus = host(rng, prefix24(rng, CAMPUS_OCTETS))
    assignment = int(rng.random() * len(HOMEWORK_FRAMES))
    students = scaled(CLASSROOM_ACCOUNTS, scale)
    in_lab = round(CLASSROOM_ON_CAMPUS * students)
    out: list[Labelled] = []
    for index in range(students):
        account = account_id(rng)
        created = onset - HOUR * rng.uniform(*CLASSROOM_SIGNUP_HOURS)
        address = campus if index < in_lab else new_user_address(rng)
        client = weighted(rng, _NEW_USER_CLIENTS)
        time = onset + rng.uniform(0.0, CLASSROOM_LATE_ARRIVAL)
        requests = rng.randint(*CLASSROOM_REQUESTS)
        gaps = [CLASSROOM_MIN_GAP + rng.expovariate(1.0) * CLASSROOM_MEAN_GAP for _ in range(requests - 1)]
        # 0.99 of the time left, so that the last request lands before the session's end, not on it
        hurry = min(1.0, 0.99 * (session_end - time) / sum(gaps)) if gaps else 1.0
        for gap in [0.0, *gaps]:
            time += gap * hurry
            if time >= end:
                break
            out.append(_labelled(time, account, address, homework_prompt(rng, assignment), "/v1/messages", client,
                                 created, "classroom"))  # fmt: skip
    return out

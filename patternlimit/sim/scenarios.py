"""Seeded traffic scenarios on a simulated clock: a distillation campaign and the legitimate traffic it hides in.

Each generator returns :class:`Labelled` requests: the :class:`~patternlimit.Request` the limiter sees, its time,
and the ground truth (scenario name, campaign or not), which stays outside the request so the limiter can never
read it. :func:`generate` merges the scenarios and sorts them by time.

The shapes, at ``scale=1.0`` over 24 simulated hours from :data:`START` (midnight UTC, so the diurnal curves read
as hours of the day):

* ``organic``: 10,000 established accounts (created 30-1,500 days earlier), a heavy-tailed activity (Pareto, from
  a few requests a day to hundreds), sessions of a few prompts following the day in their region, home addresses
  over many /24s (and /48s for IPv6), some on mobile carriers' shared prefixes, ten client programs. About 3%
  are apps built on the API, sending their users' content inside their own fixed instruction;
* ``campaign``: see :class:`CampaignShape`; 2,500 young accounts in 5 waves behind 200 proxy prefixes;
* ``ci_harness``: one established account sending one structured test-generation template every 4 seconds from
  one address;
* ``flash_crowd``: 3,000 accounts created within one hour (a link went viral), each sending 2-6 varied prompts
  from its own residential, mobile or IPv6 address minutes after signing up;
* ``launch_crowd``: 4,000 accounts signing up after a launch (arrivals decaying over hours), each running the
  quickstart example (:data:`~patternlimit.sim.text.QUICKSTART`) once or twice, then 0-3 prompts of its own;
* ``corporate_nat``: 400 established accounts of one company behind one address, in office hours;
* ``popular_tool``: 3,000 established users of an open-source agent whose prompts share its 126-word opening and
  56-word closing, with their own request in between, in agent-loop bursts;
* ``classroom``: a class of 150 students whose accounts were created in the two days before one lab session (which
  starts 8-16 hours into the day and lasts 2-3 hours); 85% of them behind the campus NAT's one address, the rest
  on their own residential, mobile or IPv6 address; each sends 4-15 requests seconds to minutes apart, all of them
  the same homework handout (one of :data:`~patternlimit.sim.text.HOMEWORK_FRAMES` per class) around the
  student's own code, query, proof or draft.

``scale`` multiplies the number of accounts of every scenario (and the CI harness's request rate), so the shapes
stay the same while the volume changes. Each scenario draws from its own generator, seeded from ``seed`` and its
name, so a scenario's traffic does not depend on which other scenarios are generated with it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from patternlimit.errors import ConfigurationError
from patternlimit.fingerprint.client import client_fingerprint
from patternlimit.request import Request
from patternlimit.sim.grammar import pick
from patternlimit.sim.text import (
    CAMPAIGN_TEMPLATE_COUNT,
    HOMEWORK_FRAMES,
    QUICKSTART,
    app_frame,
    app_prompt,
    campaign_prompt,
    ci_prompt,
    homework_prompt,
    organic_prompt,
    paraphrase,
    tool_prompt,
)

START = 1_767_225_600.0
"""2026-01-01 00:00 UTC, where :func:`generate` starts its clock."""

HOUR = 3600.0
DAY = 86400.0

SCENARIOS: tuple[str, ...] = (
    "organic",
    "campaign",
    "ci_harness",
    "flash_crowd",
    "launch_crowd",
    "corporate_nat",
    "popular_tool",
    "classroom",
)
"""Every scenario name, in the order :func:`generate` builds them."""

CAMPAIGN_MAX_AGE = 6 * DAY
"""A campaign account is retired this long after its creation, so it is younger than 7 days at every request:
the campaign relies on fresh accounts, and the default preset's ``young_age`` is 7 days."""


@dataclass(frozen=True, slots=True)
class Labelled:
    """One generated request with its ground truth. Only ``request`` may be given to a limiter."""

    time: float
    """Epoch seconds on the simulated clock."""
    request: Request
    """What the limiter sees."""
    scenario: str
    """The scenario that produced it (one of :data:`SCENARIOS`): ground truth, never given to the limiter."""
    campaign: bool
    """True only for the distillation campaign's requests."""


@dataclass(frozen=True, slots=True)
class CampaignShape:
    """The knobs of the distillation campaign, modelled on the reported one: many young accounts, each kept under
    a per-account limit, proxies, structured templates with varied fillers.

    * ``accounts`` are provisioned in ``waves``, spread evenly from ``start_offset_hours`` to the end of the run;
      each wave's accounts are created in the two hours (at most half the gap between waves) before the wave
      starts, begin within its first hour, and work for two wave gaps (so consecutive waves overlap, as a
      replacement wave takes over), and never past :data:`CAMPAIGN_MAX_AGE` after their creation;
    * each account sends ``per_account_rate_per_hour`` requests an hour on average (exponential gaps, modulated
      by +-30% over the day like the organic traffic), and never more than :attr:`max_per_hour` in any 3,600
      seconds: a request that would exceed it is pushed back, as the operator's scheduler would;
    * requests leave through ``proxy_prefixes`` /24 networks; each account is pinned to 1-3 of them (sticky proxy
      sessions), with a random host address per request, so several accounts share every prefix;
    * prompts come from ``templates`` of the campaign templates (a seeded choice), each account using 2-4 of them,
      with fresh fillers every time; ``paraphrase_rate`` of the prompts are lightly reworded.

    ``scale`` (in the generators) multiplies ``accounts`` and ``proxy_prefixes``, so the accounts per prefix stay
    the same.
    """

    accounts: int = 2500
    waves: int = 5
    per_account_rate_per_hour: float = 2.0
    templates: int = 12
    paraphrase_rate: float = 0.15
    proxy_prefixes: int = 200
    start_offset_hours: float = 2.0

    def __post_init__(self) -> None:
        for name in ("accounts", "waves", "templates", "proxy_prefixes"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigurationError(f"CampaignShape.{name} must be an int >= 1, got {value!r}")
        if self.templates > CAMPAIGN_TEMPLATE_COUNT:
            raise ConfigurationError(
                f"CampaignShape.templates must be at most {CAMPAIGN_TEMPLATE_COUNT} (the templates there are), "
                f"got {self.templates}"
            )
        if not (math.isfinite(self.per_account_rate_per_hour) and self.per_account_rate_per_hour > 0):
            raise ConfigurationError(
                f"CampaignShape.per_account_rate_per_hour must be a finite number > 0, "
                f"got {self.per_account_rate_per_hour!r}"
            )
        if not 0.0 <= self.paraphrase_rate <= 1.0:
            raise ConfigurationError(f"CampaignShape.paraphrase_rate must be in [0, 1], got {self.paraphrase_rate!r}")
        if not (math.isfinite(self.start_offset_hours) and self.start_offset_hours >= 0):
            raise ConfigurationError(
                f"CampaignShape.start_offset_hours must be a finite number >= 0, got {self.start_offset_hours!r}"
            )

    @property
    def max_per_hour(self) -> int:
        """The per-account limit the campaign keeps under: at most this many requests in any 3,600 seconds,
        twice the mean rate rounded up (4 for the default 2 an hour)."""
        return math.ceil(2 * self.per_account_rate_per_hour)


# --- shared pieces -------------------------------------------------------------------------------------------------

ORGANIC_ACCOUNTS = 10_000
CAMPAIGN_PARAPHRASE_INTENSITY = 0.3
"""The ``rate`` passed to :func:`~patternlimit.sim.text.paraphrase` for a paraphrased campaign prompt."""
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


def _client(user_agent: str, *names: str) -> str:
    """The fingerprint :func:`~patternlimit.fingerprint.client_fingerprint` gives a client sending these headers,
    so the simulated clients look like what the limiter would compute from real ones."""
    return client_fingerprint([(name, user_agent if name == "user-agent" else "-") for name in names])


_SDK_HEADERS = ("host", "accept-encoding", "connection", "accept", "content-type", "user-agent", "x-stainless-lang")
_BROWSER_HEADERS = ("host", "connection", "sec-ch-ua", "content-type", "user-agent", "accept", "origin", "referer")
_ANTHROPIC_PYTHON = _client("Anthropic/Python 0.39.0", *_SDK_HEADERS, "anthropic-version", "x-api-key")
_ANTHROPIC_JS = _client("Anthropic/JS 0.32.1", "accept", "content-type", "user-agent", "x-stainless-lang", "x-api-key")
_HTTPX = _client("python-httpx/0.27.2", "host", "accept", "accept-encoding", "connection", "user-agent", "x-api-key")
_REQUESTS = _client("python-requests/2.32.3", "host", "user-agent", "accept-encoding", "accept", "connection")
_CURL = _client("curl/8.5.0", "host", "user-agent", "accept", "content-type", "x-api-key", "anthropic-version")
_AXIOS = _client("axios/1.7.2", "accept", "content-type", "user-agent", "x-api-key", "host", "connection")
_GO = _client("Go-http-client/2.0", "host", "user-agent", "content-type", "x-api-key", "accept-encoding")
_CHROME = _client(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    *_BROWSER_HEADERS,
)
_FIREFOX = _client(
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "host", "user-agent", "accept", "accept-language", "accept-encoding", "content-type", "origin", "referer",
)  # fmt: skip
_SAFARI = _client(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Safari/605.1.15",
    "host", "content-type", "origin", "accept", "user-agent", "referer", "accept-language", "accept-encoding",
)  # fmt: skip
_HEARTH = _client("hearth/1.8.2 node/22.3.0", "accept", "content-type", "user-agent", "x-api-key", "x-hearth-session")

_ORGANIC_CLIENTS = (
    (_CHROME, 0.25), (_SAFARI, 0.12), (_FIREFOX, 0.08), (_ANTHROPIC_PYTHON, 0.18), (_HTTPX, 0.07),
    (_REQUESTS, 0.08), (_ANTHROPIC_JS, 0.09), (_AXIOS, 0.04), (_CURL, 0.03), (_GO, 0.06),
)  # fmt: skip
# The campaign drives its accounts with common SDKs, so the client fingerprint alone does not single it out.
_CAMPAIGN_CLIENTS = ((_ANTHROPIC_PYTHON, 0.6), (_HTTPX, 0.3), (_REQUESTS, 0.1))
_NEW_USER_CLIENTS = ((_CHROME, 0.4), (_SAFARI, 0.25), (_FIREFOX, 0.1), (_ANTHROPIC_PYTHON, 0.15), (_CURL, 0.1))
_QUICKSTART_CLIENTS = ((_ANTHROPIC_PYTHON, 0.5), (_ANTHROPIC_JS, 0.25), (_CURL, 0.25))
_CORPORATE_CLIENTS = ((_CHROME, 0.7), (_ANTHROPIC_PYTHON, 0.2), (_HTTPX, 0.1))


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    roll = rng.random() * sum(weight for _, weight in options)
    for value, weight in options:
        roll -= weight
        if roll < 0:
            return value
    return options[-1][0]


# First octets of address space that ISPs hand to homes, and of hosting providers' space (where most proxy exits
# and company egress addresses sit). Private, reserved and documentation ranges are left out.
_RESIDENTIAL_OCTETS = (
    24, 31, 37, 46, 47, 49, 50, 58, 59, 60, 61, 62, 67, 68, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83,
    84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 101, 110, 111, 112, 114, 115, 116, 117, 118,
    119, 120, 121, 122, 123, 124, 125, 171, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 186, 187, 189, 190,
    191, 201,
)  # fmt: skip
# First octets of the old class B blocks that universities were given early on, where many campuses' addresses
# (and their NAT egress) still are.
_CAMPUS_OCTETS = (128, 129, 130, 131, 132, 134, 136, 137, 138, 140, 141, 143, 146, 147, 150, 152, 155, 157, 158, 160)
_HOSTING_OCTETS = (
    5, 23, 34, 35, 45, 51, 52, 54, 64, 66, 104, 107, 138, 139, 141, 142, 143, 144, 146, 147, 149, 152, 154, 155, 157,
    158, 159, 161, 162, 163, 164, 165, 167, 185, 188, 193, 194, 195, 199, 206, 207, 209, 212, 213, 216, 217,
)  # fmt: skip
_IPV6_ISPS = ("2a02:810", "2601:1c0", "2600:1700", "2a01:e0a", "2406:3003", "2804:14c", "2003:e6", "2a00:23c8")


def _prefix24(rng: random.Random, octets: Sequence[int]) -> str:
    return f"{octets[int(rng.random() * len(octets))]}.{rng.randrange(256)}.{rng.randrange(256)}"


def _host(rng: random.Random, prefix: str) -> str:
    return f"{prefix}.{rng.randint(1, 254)}"


def _ipv6(rng: random.Random) -> str:
    # The ISP's /32, the home's /48 below it, a /64 subnet, and a random interface identifier (privacy addresses).
    site, subnet = rng.getrandbits(16), rng.getrandbits(16)
    interface = ":".join(f"{rng.getrandbits(16):x}" for _ in range(4))
    return f"{pick(rng, _IPV6_ISPS)}:{site:x}:{subnet:x}:{interface}"


# Mobile carriers put many subscribers behind a few carrier-grade NAT prefixes; the pool is fixed (not seeded per
# run) because carriers are the same for everyone, so organic users and new users share them.
_CARRIER_PREFIXES = tuple(_prefix24(random.Random(f"patternlimit.sim.carriers/{index}"), _RESIDENTIAL_OCTETS)
                          for index in range(300))  # fmt: skip


def _home_addresses(rng: random.Random) -> list[str]:
    """A person's addresses: home (IPv4, or IPv6 for about a sixth), sometimes a mobile carrier and an office."""
    addresses = [_ipv6(rng) if rng.random() < 0.17 else _host(rng, _prefix24(rng, _RESIDENTIAL_OCTETS))]
    if rng.random() < 0.3:
        addresses.append(_host(rng, pick(rng, _CARRIER_PREFIXES)))
    if rng.random() < 0.15:
        addresses.append(_host(rng, _prefix24(rng, _HOSTING_OCTETS)))
    return addresses


def _new_user_address(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.2:
        return _host(rng, pick(rng, _CARRIER_PREFIXES))
    if roll < 0.35:
        return _ipv6(rng)
    return _host(rng, _prefix24(rng, _RESIDENTIAL_OCTETS))


def _account_id(rng: random.Random) -> str:
    """An opaque id: nothing in it tells the scenario, so a limiter cannot learn the label from the name."""
    return f"acct_{rng.getrandbits(64):016x}"


def _route(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.96:
        return "/v1/messages"
    return "/v1/messages/count_tokens" if roll < 0.99 else "/v1/complete"


def _scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def _diurnal(time: float, amplitude: float, peak_hour: float) -> float:
    """The day's rate multiplier: ``1 + amplitude * cos(...)``, highest at ``peak_hour`` UTC, mean 1 over a day."""
    return 1.0 + amplitude * math.cos(2.0 * math.pi * ((time % DAY) / HOUR - peak_hour) / 24.0)


def _arrivals(
    rng: random.Random, begin: float, end: float, rate: float, amplitude: float, peak_hour: float
) -> list[float]:
    """Times of a Poisson process of mean ``rate`` per second, modulated by :func:`_diurnal`, in ``[begin, end)``.

    By thinning (Lewis & Shedler, 1979): candidates at the peak rate, each kept with probability
    ``diurnal / peak``, which gives exactly the modulated process.
    """
    peak = 1.0 + amplitude
    times: list[float] = []
    time = begin
    gap = 1.0 / (rate * peak)
    while True:
        time += rng.expovariate(1.0) * gap
        if time >= end:
            return times
        if rng.random() * peak < _diurnal(time, amplitude, peak_hour):
            times.append(time)


def _under_cap(rng: random.Random, times: Iterable[float], cap: int, end: float) -> list[float]:
    """``times`` with any request that would make ``cap + 1`` in 3,600 seconds pushed back past the window (and
    the ones after it kept in order), dropping what is pushed to ``end`` or beyond."""
    kept: list[float] = []
    for candidate in times:
        time = max(candidate, kept[-1] + 1.0) if kept else candidate
        if len(kept) >= cap and time - kept[-cap] < HOUR:
            time = kept[-cap] + HOUR + rng.uniform(1.0, 300.0)
        if time >= end:
            break
        kept.append(time)
    return kept


def _peak_hour(rng: random.Random) -> float:
    """An afternoon in the account's region, in UTC: the Americas, Europe and Africa, or Asia and Oceania."""
    roll = rng.random()
    centre = 19.0 if roll < 0.45 else (13.0 if roll < 0.8 else 5.0)
    return centre + rng.uniform(-2.0, 2.0)


def _activity(rng: random.Random, per_day: float, alpha: float, most: float) -> float:
    """Requests a day: Pareto with shape ``alpha`` (heavy-tailed: most accounts are light, a few very busy),
    scaled so the lightest send ``per_day``, capped at ``most``."""
    return min(most, per_day * rng.paretovariate(alpha))


def _sessions(
    rng: random.Random,
    start: float,
    end: float,
    per_day: float,
    mean_length: float,
    mean_gap: float,
    amplitude: float,
    peak_hour: float,
) -> list[float]:
    """Request times of an account that works in sessions: session starts follow the day, and each session holds
    a geometric number of requests (mean ``mean_length``) a few seconds to minutes apart (mean ``mean_gap``)."""
    times: list[float] = []
    continue_probability = 1.0 - 1.0 / mean_length
    for session in _arrivals(rng, start, end, per_day / mean_length / DAY, amplitude, peak_hour):
        time = session
        while time < end:
            times.append(time)
            if rng.random() >= continue_probability:
                break
            time += 5.0 + rng.expovariate(1.0) * mean_gap
    return times


def _labelled(
    time: float, account: str, ip: str, text: str, route: str, client: str, created: float, scenario: str
) -> Labelled:
    request = Request(account=account, ip=ip, text=text, route=route, client=client, account_created_at=created)
    return Labelled(time, request, scenario, False)


# --- the scenarios -------------------------------------------------------------------------------------------------


def organic_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """Established accounts with varied prompts, sessions that follow their region's day, spread-out networks.

    Activity is Pareto (shape 1.4) from 7 requests a day, capped at 300: the median account sends about 11 a day,
    the mean is about 20. About 3% of the accounts are apps that wrap their users' content in a fixed instruction
    of their own (:func:`~patternlimit.sim.text.app_frame`); the rest send :func:`organic_prompt` text.
    """
    end = start + duration
    out: list[Labelled] = []
    for _ in range(_scaled(ORGANIC_ACCOUNTS, scale)):
        account = _account_id(rng)
        created = start - rng.uniform(30.0, 1500.0) * DAY
        addresses = _home_addresses(rng)
        client = _weighted(rng, _ORGANIC_CLIENTS)
        frame = app_frame(rng) if rng.random() < 0.03 else None
        per_day = _activity(rng, 7.0, 1.4, 300.0)
        mean_length = 1.5 + rng.expovariate(1.0) * 2.0
        times = _sessions(rng, start, end, per_day, mean_length, 60.0, 0.6, _peak_hour(rng))
        for time in times:
            text = organic_prompt(rng) if frame is None else app_prompt(rng, frame)
            address = addresses[int(rng.random() * len(addresses))]
            out.append(_labelled(time, account, address, text, _route(rng), client, created, "organic"))
    return out


def campaign_traffic(
    rng: random.Random, start: float, duration: float, scale: float, shape: CampaignShape | None = None
) -> list[Labelled]:
    """The distillation campaign, shaped by ``shape`` (the defaults when ``None``); see :class:`CampaignShape`."""
    shape = CampaignShape() if shape is None else shape
    end = start + duration
    begin = start + shape.start_offset_hours * HOUR
    if begin >= end:
        return []
    accounts = _scaled(shape.accounts, scale)
    waves = min(shape.waves, accounts)
    spacing = (end - begin) / waves
    pool: list[str] = []
    seen: set[str] = set()
    while len(pool) < _scaled(shape.proxy_prefixes, scale):
        # Mostly hosting space, some residential proxy exits.
        prefix = _prefix24(rng, _HOSTING_OCTETS if rng.random() < 0.7 else _RESIDENTIAL_OCTETS)
        if prefix not in seen:
            seen.add(prefix)
            pool.append(prefix)
    templates = rng.sample(range(CAMPAIGN_TEMPLATE_COUNT), shape.templates)
    lead = min(2.0 * HOUR, spacing / 2.0)
    out: list[Labelled] = []
    for index in range(accounts):
        wave_start = begin + (index % waves) * spacing
        account = _account_id(rng)
        created = wave_start - rng.uniform(5.0 * 60.0, max(lead, 5.0 * 60.0))
        first = wave_start + rng.uniform(0.0, min(HOUR, spacing / 2.0))
        retire = min(end, wave_start + 2.0 * spacing, created + CAMPAIGN_MAX_AGE)
        prefixes = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
        own_templates = rng.sample(templates, min(len(templates), rng.randint(2, 4)))
        client = _weighted(rng, _CAMPAIGN_CLIENTS)
        arrivals = _arrivals(rng, first, retire, shape.per_account_rate_per_hour / HOUR, 0.3, 15.0)
        for time in _under_cap(rng, arrivals, shape.max_per_hour, retire):
            text = campaign_prompt(rng, own_templates[int(rng.random() * len(own_templates))])
            if rng.random() < shape.paraphrase_rate:
                text = paraphrase(text, rng, CAMPAIGN_PARAPHRASE_INTENSITY)
            ip = _host(rng, prefixes[int(rng.random() * len(prefixes))])
            request = Request(
                account=account, ip=ip, text=text, route="/v1/messages", client=client, account_created_at=created
            )
            out.append(Labelled(time, request, "campaign", True))
    return out


def ci_harness_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """One established customer's CI: one structured template (tests for a different function each time), every
    :data:`CI_INTERVAL` / ``scale`` seconds (+-10%), day and night, from one address."""
    end = start + duration
    interval = CI_INTERVAL / scale
    account = _account_id(rng)
    created = start - rng.uniform(400.0, 900.0) * DAY
    address = _host(rng, _prefix24(rng, _HOSTING_OCTETS))
    out: list[Labelled] = []
    time = start + rng.uniform(0.0, interval)
    while time < end:
        jittered = time + rng.uniform(-0.1, 0.1) * interval
        if start <= jittered < end:
            out.append(_labelled(jittered, account, address, ci_prompt(rng), "/v1/messages", _HTTPX, created,
                                 "ci_harness"))  # fmt: skip
        time += interval
    return out


def flash_crowd_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """Brand-new accounts signing up within one hour (sign-ups peak early and tail off), each sending 2-6 varied
    prompts from its own residential or mobile address, the first a few minutes after signing up."""
    end = start + duration
    onset = start + duration * rng.uniform(0.3, 0.6)
    out: list[Labelled] = []
    for _ in range(_scaled(FLASH_CROWD_ACCOUNTS, scale)):
        account = _account_id(rng)
        created = onset + HOUR * rng.betavariate(1.3, 3.0)
        address = _new_user_address(rng)
        client = _weighted(rng, _NEW_USER_CLIENTS)
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
    for _ in range(_scaled(LAUNCH_CROWD_ACCOUNTS, scale)):
        account = _account_id(rng)
        created = launch + rng.expovariate(1.0) * 3.0 * HOUR
        address = _new_user_address(rng)
        client = _weighted(rng, _QUICKSTART_CLIENTS)
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
    address = _host(rng, _prefix24(rng, _HOSTING_OCTETS))
    office_peak = rng.uniform(9.0, 16.0)
    out: list[Labelled] = []
    for _ in range(_scaled(CORPORATE_ACCOUNTS, scale)):
        account = _account_id(rng)
        created = start - rng.uniform(30.0, 1500.0) * DAY
        client = _weighted(rng, _CORPORATE_CLIENTS)
        per_day = _activity(rng, 5.0, 1.6, 200.0)
        for time in _sessions(rng, start, end, per_day, 2.5, 90.0, 0.9, office_peak):
            out.append(_labelled(time, account, address, organic_prompt(rng), _route(rng), client, created,
                                 "corporate_nat"))  # fmt: skip
    return out


def popular_tool_traffic(rng: random.Random, start: float, duration: float, scale: float) -> list[Labelled]:
    """Established users of a popular open-source agent: every prompt is its fixed opening, the user's
    environment and request, its fixed closing (:func:`~patternlimit.sim.text.tool_prompt`), sent in agent-loop
    bursts of several requests seconds apart."""
    end = start + duration
    out: list[Labelled] = []
    for _ in range(_scaled(TOOL_ACCOUNTS, scale)):
        account = _account_id(rng)
        created = start - rng.uniform(30.0, 1500.0) * DAY
        addresses = _home_addresses(rng)
        per_day = _activity(rng, 4.0, 1.5, 300.0)
        for time in _sessions(rng, start, end, per_day, 4.0, 20.0, 0.6, _peak_hour(rng)):
            address = addresses[int(rng.random() * len(addresses))]
            out.append(_labelled(time, account, address, tool_prompt(rng), "/v1/messages", _HEARTH, created,
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
    campus = _host(rng, _prefix24(rng, _CAMPUS_OCTETS))
    assignment = int(rng.random() * len(HOMEWORK_FRAMES))
    students = _scaled(CLASSROOM_ACCOUNTS, scale)
    in_lab = round(CLASSROOM_ON_CAMPUS * students)
    out: list[Labelled] = []
    for index in range(students):
        account = _account_id(rng)
        created = onset - HOUR * rng.uniform(*CLASSROOM_SIGNUP_HOURS)
        address = campus if index < in_lab else _new_user_address(rng)
        client = _weighted(rng, _NEW_USER_CLIENTS)
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


_Generator = Callable[[random.Random, float, float, float], list[Labelled]]
_GENERATORS: dict[str, _Generator] = {
    "organic": organic_traffic,
    "ci_harness": ci_harness_traffic,
    "flash_crowd": flash_crowd_traffic,
    "launch_crowd": launch_crowd_traffic,
    "corporate_nat": corporate_nat_traffic,
    "popular_tool": popular_tool_traffic,
    "classroom": classroom_traffic,
}


def scenario_rng(seed: int, scenario: str) -> random.Random:
    """The generator a scenario draws from: seeded from ``seed`` and the scenario's name (a string seed is hashed
    with SHA-512, so it does not depend on ``PYTHONHASHSEED``), independent of the other scenarios."""
    return random.Random(f"patternlimit.sim/{seed}/{scenario}")


def generate(
    seed: int,
    scale: float = 1.0,
    duration_hours: float = 24.0,
    scenarios: Iterable[str] | None = None,
    campaign: CampaignShape | None = None,
) -> list[Labelled]:
    """Every request of the chosen ``scenarios`` (all of :data:`SCENARIOS` when ``None``) over ``duration_hours``
    from :data:`START`, sorted by time. The same arguments give the same list.

    At the defaults: about 326,000 requests (324,000-334,000 over seeds 10-19), generated in 4-6 seconds on the
    project's 2-core machine.
    Raises :class:`~patternlimit.errors.ConfigurationError` for a ``scale`` or ``duration_hours`` that is not a
    finite number > 0, or an unknown scenario name.
    """
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise ConfigurationError(f"scale must be a finite number > 0, got {scale!r}")
    if not (isinstance(duration_hours, int | float) and math.isfinite(duration_hours) and duration_hours > 0):
        raise ConfigurationError(f"duration_hours must be a finite number > 0, got {duration_hours!r}")
    chosen = SCENARIOS if scenarios is None else tuple(scenarios)
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        raise ConfigurationError(f"unknown scenario(s) {unknown}; valid: {', '.join(SCENARIOS)}")
    duration = duration_hours * HOUR
    merged: list[Labelled] = []
    for name in SCENARIOS:
        if name not in chosen:
            continue
        rng = scenario_rng(seed, name)
        if name == "campaign":
            merged.extend(campaign_traffic(rng, START, duration, scale, campaign))
        else:
            merged.extend(_GENERATORS[name](rng, START, duration, scale))
    merged.sort(key=attrgetter("time"))
    return merged

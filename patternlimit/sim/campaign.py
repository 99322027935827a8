"""The distillation campaign: many young accounts in waves behind a proxy pool, each kept under a per-account
limit, sending structured templates with fresh fillers (see :class:`CampaignShape`)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from patternlimit.errors import ConfigurationError
from patternlimit.request import Request
from patternlimit.sim.clock import DAY, HOUR, poisson_arrivals, under_cap
from patternlimit.sim.labels import Labelled
from patternlimit.sim.rewording import paraphrase
from patternlimit.sim.senders import (
    ANTHROPIC_PYTHON,
    HOSTING_OCTETS,
    HTTPX,
    REQUESTS,
    RESIDENTIAL_OCTETS,
    account_id,
    host,
    prefix24,
    scaled,
    weighted,
)
from patternlimit.sim.text import CAMPAIGN_TEMPLATE_COUNT, campaign_prompt

CAMPAIGN_MAX_AGE = 6 * DAY
"""A campaign account is retired this long after its creation, so it is younger than 7 days at every request:
the campaign relies on fresh accounts, and the default preset's ``young_age`` is 7 days."""

CAMPAIGN_PARAPHRASE_INTENSITY = 0.3
"""The ``rate`` passed to :func:`~patternlimit.sim.rewording.paraphrase` for a paraphrased campaign prompt."""
# The campaign drives its accounts with common SDKs, so the client fingerprint alone does not single it out.
_CAMPAIGN_CLIENTS = ((ANTHROPIC_PYTHON, 0.6), (HTTPX, 0.3), (REQUESTS, 0.1))


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


def campaign_traffic(
    rng: random.Random, start: float, duration: float, scale: float, shape: CampaignShape | None = None
) -> list[Labelled]:
    """The distillation campaign, shaped by ``shape`` (the defaults when ``None``); see :class:`CampaignShape`."""
    shape = CampaignShape() if shape is None else shape
    end = start + duration
    begin = start + shape.start_offset_hours * HOUR
    if begin >= end:
        return []
    accounts = scaled(shape.accounts, scale)
    waves = min(shape.waves, accounts)
    spacing = (end - begin) / waves
    pool: list[str] = []
    seen: set[str] = set()
    while len(pool) < scaled(shape.proxy_prefixes, scale):
        # Mostly hosting space, some residential proxy exits.
        prefix = prefix24(rng, HOSTING_OCTETS if rng.random() < 0.7 else RESIDENTIAL_OCTETS)
        if prefix not in seen:
            seen.add(prefix)
            pool.append(prefix)
    templates = rng.sample(range(CAMPAIGN_TEMPLATE_COUNT), shape.templates)
    lead = min(2.0 * HOUR, spacing / 2.0)
    out: list[Labelled] = []
    for index in range(accounts):
        wave_start = begin + (index % waves) * spacing
        account = account_id(rng)
        created = wave_start - rng.uniform(5.0 * 60.0, max(lead, 5.0 * 60.0))
        first = wave_start + rng.uniform(0.0, min(HOUR, spacing / 2.0))
        retire = min(end, wave_start + 2.0 * spacing, created + CAMPAIGN_MAX_AGE)
        prefixes = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
        own_templates = rng.sample(templates, min(len(templates), rng.randint(2, 4)))
        client = weighted(rng, _CAMPAIGN_CLIENTS)
        arrivals = poisson_arrivals(rng, first, retire, shape.per_account_rate_per_hour / HOUR, 0.3, 15.0)
        for time in under_cap(rng, arrivals, shape.max_per_hour, retire):
            text = campaign_prompt(rng, own_templates[int(rng.random() * len(own_templates))])
            if rng.random() < shape.paraphrase_rate:
                text = paraphrase(text, rng, CAMPAIGN_PARAPHRASE_INTENSITY)
            ip = host(rng, prefixes[int(rng.random() * len(prefixes))])
            request = Request(
                account=account, ip=ip, text=text, route="/v1/messages", client=client, account_created_at=created
            )
            out.append(Labelled(time, request, "campaign", True))
    return out

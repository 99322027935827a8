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
from collections.abc import Callable, Iterable
from operator import attrgetter

from patternlimit.errors import ConfigurationError
from patternlimit.sim.campaign import CampaignShape, campaign_traffic
from patternlimit.sim.clock import HOUR
from patternlimit.sim.labels import Labelled
from patternlimit.sim.legitimate import (
    ci_harness_traffic,
    classroom_traffic,
    corporate_nat_traffic,
    flash_crowd_traffic,
    launch_crowd_traffic,
    organic_traffic,
    popular_tool_traffic,
)
from patternlimit.sim.shapes import CAMPAIGNS, SHAPES

__all__ = ["ALL_SCENARIOS", "SCENARIOS", "START", "CampaignShape", "Labelled", "generate", "scenario_rng"]

START = 1_767_225_600.0
"""2026-01-01 00:00 UTC, where :func:`generate` starts its clock."""

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
"""The default scenarios, in the order :func:`generate` builds them."""

ALL_SCENARIOS: tuple[str, ...] = (*SCENARIOS, *SHAPES)
"""Every scenario name: the defaults, then the further shapes of :mod:`patternlimit.sim.shapes`."""

CAMPAIGN_SCENARIOS = frozenset({"campaign", *CAMPAIGNS})
"""The scenarios whose requests are a campaign's (``--legit-scale`` leaves them as they are)."""

WARMUP = "warmup"
"""The scenario name of the warm-up traffic: decided, never counted in the figures."""


_Generator = Callable[[random.Random, float, float, float], list[Labelled]]
_GENERATORS: dict[str, _Generator] = {
    "organic": organic_traffic,
    "ci_harness": ci_harness_traffic,
    "flash_crowd": flash_crowd_traffic,
    "launch_crowd": launch_crowd_traffic,
    "corporate_nat": corporate_nat_traffic,
    "popular_tool": popular_tool_traffic,
    "classroom": classroom_traffic,
    **SHAPES,
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
    *,
    legit_scale: float = 1.0,
    warmup_hours: float = 0.0,
) -> list[Labelled]:
    """Every request of the chosen ``scenarios`` (all of :data:`SCENARIOS` when ``None``) over ``duration_hours``
    from :data:`START`, sorted by time. The same arguments give the same list.

    At the defaults: about 326,000 requests (324,000-334,000 over seeds 10-19), built in a few seconds.
    Raises :class:`~patternlimit.errors.ConfigurationError` for a ``scale`` or ``duration_hours`` that is not a
    finite number > 0, or an unknown scenario name.
    """
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise ConfigurationError(f"scale must be a finite number > 0, got {scale!r}")
    if not (isinstance(duration_hours, int | float) and math.isfinite(duration_hours) and duration_hours > 0):
        raise ConfigurationError(f"duration_hours must be a finite number > 0, got {duration_hours!r}")
    if not (isinstance(legit_scale, int | float) and math.isfinite(legit_scale) and legit_scale > 0):
        raise ConfigurationError(f"legit_scale must be a finite number > 0, got {legit_scale!r}")
    if not (isinstance(warmup_hours, int | float) and math.isfinite(warmup_hours) and 0 <= warmup_hours <= 24 * 14):
        raise ConfigurationError(f"warmup_hours must be a number in [0, 336], got {warmup_hours!r}")
    chosen = SCENARIOS if scenarios is None else tuple(scenarios)
    unknown = sorted(set(chosen) - set(ALL_SCENARIOS))
    if unknown:
        raise ConfigurationError(f"unknown scenario(s) {unknown}; valid: {', '.join(ALL_SCENARIOS)}")
    duration = duration_hours * HOUR
    merged: list[Labelled] = []
    for name in ALL_SCENARIOS:
        if name not in chosen:
            continue
        rng = scenario_rng(seed, name)
        if name == "campaign":
            merged.extend(campaign_traffic(rng, START, duration, scale, campaign))
        else:
            share = scale if name in CAMPAIGN_SCENARIOS else scale * legit_scale
            merged.extend(_GENERATORS[name](rng, START, duration, share))
    if warmup_hours:
        # The established customers' history before the run: the same people, their run's traffic moved
        # ``warmup_hours`` earlier (the same seed and duration draw the same accounts; a generator's draws per
        # account depend on the duration) and cut at the run's start.
        warmup = warmup_hours * HOUR
        for name in ("organic", "corporate_nat", "popular_tool", "ci_harness", "saas_relay", "eval_sweep"):
            if name in chosen:
                rng = scenario_rng(seed, name)
                for item in _GENERATORS[name](rng, START - warmup, duration, scale * legit_scale):
                    if item.time < START:
                        merged.append(Labelled(item.time, item.request, WARMUP, False))
    merged.sort(key=attrgetter("time"))
    return merged

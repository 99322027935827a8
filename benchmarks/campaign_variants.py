"""The reported campaign shape with other constants than ``simulate``'s, on the default preset:

    python -m benchmarks.campaign_variants [--seed 11] [--hours 24] [--scale 1.0] [VARIANT ...]

Each variant is :class:`~patternlimit.sim.CampaignShape` with some constants changed (more proxy prefixes than
the default 200, fewer accounts at a higher rate, many short-lived accounts in ten waves, every template with more
paraphrase), generated with the legitimate scenarios whose new accounts look most like it (a flash and a launch
crowd, a class, a hackathon, a viral agent's users) and the established traffic, after a day of the established
customers' history. Reports per variant the campaign's leak (its requests served) and the legitimate requests
stopped per scenario. A detection that holds only for the generator's own constants shows here.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from patternlimit import Action, Limiter
from patternlimit.sim import CampaignShape, generate
from patternlimit.sim.evaluate import SIMULATION_SECRET

VARIANTS = {
    "default": CampaignShape(),
    "600-prefixes": CampaignShape(proxy_prefixes=600),
    "1000-accounts-4-an-hour": CampaignShape(accounts=1000, per_account_rate_per_hour=4.0, proxy_prefixes=150),
    "5000-accounts-10-waves": CampaignShape(accounts=5000, per_account_rate_per_hour=1.0, waves=10, proxy_prefixes=400),
    "17-templates-40%-paraphrased": CampaignShape(templates=17, paraphrase_rate=0.4, proxy_prefixes=300),
}
SCENARIOS = (
    "campaign", "organic", "flash_crowd", "launch_crowd", "classroom", "popular_tool", "hackathon", "viral_agent",
)  # fmt: skip
SERVED = (Action.ALLOW, Action.LOG)


def run(shape: CampaignShape, seed: int, hours: float, scale: float) -> tuple[int, int, dict[str, int]]:
    """The campaign's requests and those served, and the legitimate requests stopped per scenario."""
    stream = generate(seed, scale, hours, SCENARIOS, campaign=shape, warmup_hours=24)
    limiter = Limiter(secret=SIMULATION_SECRET, clock="replay")
    tally: Counter[tuple[str, bool]] = Counter()
    for start in range(0, len(stream), 5000):
        batch = stream[start : start + 5000]
        decisions = limiter.check_many([item.request for item in batch], [item.time for item in batch])
        for item, decision in zip(batch, decisions, strict=True):
            if item.scenario != "warmup":
                tally[item.scenario, decision.action in SERVED] += 1
    stopped = {name: tally[name, False] for name in SCENARIOS[1:] if tally[name, False]}
    return tally["campaign", True] + tally["campaign", False], tally["campaign", True], stopped


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.campaign_variants")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("names", nargs="*", metavar="VARIANT", help=f"any of {', '.join(VARIANTS)} (default: all)")
    options = parser.parse_args(argv)
    unknown = [name for name in options.names if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    seed, hours, scale, names = options.seed, options.hours, options.scale, options.names
    for name in names or list(VARIANTS):
        requests, served, stopped = run(VARIANTS[name], seed, hours, scale)
        looks = ", ".join(f"{scenario} {count}" for scenario, count in stopped.items()) or "none"
        print(f"{name}: campaign leak {served / max(requests, 1):.1%} of {requests:,}; legitimate stopped: {looks}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Traffic scenarios and the detection evaluation behind ``patternlimit simulate``.

:func:`generate` builds a seeded, time-sorted stream of :class:`Labelled` requests: a distillation campaign shaped
by :class:`CampaignShape`, and the legitimate traffic that naive defences punish (organic users, a CI harness, flash
and launch crowds, a corporate NAT, users of a popular agent, a class behind its campus NAT). The ground truth
stays in :class:`Labelled`, outside the :class:`~patternlimit.Request` the limiter sees. See
:mod:`patternlimit.sim.scenarios` for the shapes and :mod:`patternlimit.sim.text` for the prompt grammar.
"""

from __future__ import annotations

from patternlimit.sim.scenarios import SCENARIOS, START, CampaignShape, Labelled, generate
from patternlimit.sim.text import paraphrase

__all__ = [
    "SCENARIOS",
    "START",
    "CampaignShape",
    "Labelled",
    "generate",
    "paraphrase",
]

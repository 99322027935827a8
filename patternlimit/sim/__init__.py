"""Traffic scenarios and the detection evaluation behind ``patternlimit simulate``.

:func:`generate` builds a seeded, time-sorted stream of :class:`Labelled` requests: a distillation campaign shaped
by :class:`CampaignShape`, and the legitimate traffic that naive defences punish (organic users, a CI harness, flash
and launch crowds, a corporate NAT, users of a popular agent, a class behind its campus NAT). The ground truth
stays in :class:`Labelled`, outside the :class:`~patternlimit.Request` the limiter sees.

The modules, from the top: :mod:`~patternlimit.sim.scenarios` (the shapes, and :func:`generate`), the generators in
:mod:`~patternlimit.sim.campaign` and :mod:`~patternlimit.sim.legitimate`, the shared pieces they build requests
from (:mod:`~patternlimit.sim.clock` for when, :mod:`~patternlimit.sim.senders` for who and from where,
:mod:`~patternlimit.sim.labels` for the ground truth), and the prompt text: :mod:`~patternlimit.sim.text` assembles
it from the frame grammar (:mod:`~patternlimit.sim.grammar`, :mod:`~patternlimit.sim.fillers`,
:mod:`~patternlimit.sim.snippets`), the pure-data tables of :mod:`patternlimit.sim.corpus`, and
:mod:`~patternlimit.sim.rewording`. :mod:`~patternlimit.sim.evaluate` and :mod:`~patternlimit.sim.report` run a
stream through the limiter and show the result.
"""

from __future__ import annotations

from patternlimit.sim.campaign import CampaignShape
from patternlimit.sim.labels import Labelled
from patternlimit.sim.rewording import paraphrase
from patternlimit.sim.scenarios import SCENARIOS, START, generate

__all__ = [
    "SCENARIOS",
    "START",
    "CampaignShape",
    "Labelled",
    "generate",
    "paraphrase",
]

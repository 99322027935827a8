"""The ground truth beside each generated request."""

from __future__ import annotations

from dataclasses import dataclass

from patternlimit.request import Request


@dataclass(frozen=True, slots=True)
class Labelled:
    """One generated request with its ground truth. Only ``request`` may be given to a limiter."""

    time: float
    """Epoch seconds on the simulated clock."""
    request: Request
    """What the limiter sees."""
    scenario: str
    """The scenario that produced it (one of :data:`~patternlimit.sim.scenarios.SCENARIOS`): ground truth, never
    given to the limiter."""
    campaign: bool
    """True only for the distillation campaign's requests."""

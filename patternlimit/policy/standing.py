"""An account's standing: how much the policy trusts it, from its age."""

from __future__ import annotations

from enum import StrEnum

from patternlimit.policy.models import Context


class Standing(StrEnum):
    """How much an account is trusted, from its age: young, then established from ``young_age``, then trusted
    from ``trusted_age`` (the limiter demotes a trusted account it has caught before to established)."""

    YOUNG = "young"
    ESTABLISHED = "established"
    TRUSTED = "trusted"


def standing_of(age: float | None, context: Context) -> Standing:
    """``age`` in seconds (``None`` when unknown: then ``context.unknown_age`` decides)."""
    if age is None:
        return Standing.YOUNG if context.unknown_age == "young" else Standing.ESTABLISHED
    if age < context.young_age:
        return Standing.YOUNG
    return Standing.TRUSTED if age >= context.trusted_age else Standing.ESTABLISHED

"""Named policies. ``Limiter()`` with no policy uses ``distillation-defense``.

Every threshold of the default is explained in docs/presets.md; in short, a pattern is a campaign's when it is
fanned out across many *young* accounts (not one busy account, not many established ones), those accounts are
most of its senders (not a popular template that young users also happen to use), and its texts keep changing
(coverage, not a launch crowd repeating one quickstart). Only young accounts that keep coming back to flagged
patterns are throttled; established accounts are never touched by pattern rules.
"""

from __future__ import annotations

from types import MappingProxyType

from patternlimit.policy.models import (
    Context,
    Escalation,
    LimitRule,
    Measure,
    PatternRule,
    Policy,
    Threshold,
)

_FAN_OUT: dict[Measure, Threshold] = {
    # At least 40 distinct young accounts on one pattern within the window: far above the sketch's noise floor
    # (about D / width distinct pairs per cell) and above any class, team or small launch cohort.
    "young_accounts": Threshold(min=40),
    # Young accounts are at least half of the pattern's senders: a popular scaffold used by thousands of
    # established accounts (and some new ones) stays far below.
    "young_share": Threshold(min=0.5),
    # At least 30% of the pattern's requests carry a text never seen on it before: extraction needs coverage;
    # a quickstart example repeated by a launch crowd is almost all copies.
    "filler_diversity": Threshold(min=0.3),
    # The request's own network holds at most half of the pattern's young senders: a class or an office of new
    # accounts behind one NAT is a cohort, not a proxy pool (a shared prefix alone is a NAT); a campaign routed
    # through proxies spreads its accounts over many prefixes, so each of its requests has a small share.
    "network_share": Threshold(max=0.5),
    # Two of the pattern's young requests come from one network with a chance of at most one half: a class whose
    # NAT sends most of its requests stays a cohort for its members working from home too; a proxy pool over n
    # prefixes scores about 1/n.
    "network_concentration": Threshold(max=0.5),
}


_MASS_FAN_OUT: dict[Measure, Threshold] = {
    # A cohort behind one NAT larger than any class, office or launch event: 200 distinct young accounts on one
    # pattern within the window, whatever their networks. Without it, a campaign routed through one or two
    # prefixes would pass for a NAT cohort indefinitely.
    **{measure: threshold for measure, threshold in _FAN_OUT.items() if not measure.startswith("network_")},
    "young_accounts": Threshold(min=200),
    # Through one or two prefixes, a campaign looks like a campus NAT; only its accounts' hopping between networks
    # tells it apart (a student in the lab and at home uses two).
    "account_networks": Threshold(min=3),
}


_ROUTED: dict[Measure, Threshold] = {
    # Routed through proxies, either way: the request's account used three or more networks among its last eight
    # requests (a rotating proxy hands out a prefix per request; a household keeps one, a phone adds its
    # carrier's), or its network carries six or more young accounts that are at least 80% of its senders (a proxy
    # pool of sticky sessions; a person's home network carries one or two, and at the default capacity the sketch's
    # noise floor is about one; a residential prefix crowded with a launch's new users keeps established
    # neighbours). New users of a tool that went viral, a hackathon or a launch crowd send from their own networks
    # and meet neither.
    "account_networks": Threshold(min=3),
    "network_accounts": Threshold(min=6),
    # Or, whatever the routing, persistence: the account came back to flagged patterns in four distinct half-hours
    # within a day (two hours at the least). A proxy pool with more prefixes than accounts hides the routing; it
    # cannot hide that each account keeps working the campaign's patterns. A new user who tries a shared starter
    # prompt in one sitting, or a viral tool's session of ten turns, spans one or two half-hours.
    "account_persistence": Threshold(min=4),
}


def _fan_out(name: str, pattern: str, when: dict[Measure, Threshold] = _FAN_OUT) -> PatternRule:
    """The fan-out rule for one text pattern kind: the thresholds ``when``, on proxy-routed requests
    (:data:`_ROUTED`), acting on young accounts only."""
    mass = when is _MASS_FAN_OUT
    return PatternRule(
        name=name,
        pattern=pattern,
        when=when,
        when_any={} if mass else _ROUTED,
        applies_to="young",
        # Persistence: a young account is throttled from its second request on flagged patterns within a day; a
        # curious new user who happens on a flagged template once is only logged.
        min_account_hits=2,
        action="throttle",
        retry_after=900.0,
    )


DISTILLATION_DEFENSE = Policy(
    name="distillation-defense",
    # Six hours in six one-hour buckets: a campaign whose accounts each send a request or two an hour needs hours
    # to show its fan-out; the young-share, diversity and persistence thresholds keep look-alikes out meanwhile.
    window=6 * 3600.0,
    buckets=6,
    # Standing from history: after its first day, the limiter counts accounts it has not seen before that day as
    # young, whatever their creation date (bought or pre-provisioned accounts are old and dormant).
    context=Context(young_age=7 * 86400.0, trusted_age=90 * 86400.0, unknown_age="young", proven_after=86400.0),
    escalation=Escalation(
        account_penalty=6 * 3600.0, memory=24 * 3600.0, network_taint=3, client_taint=0, block_after=0
    ),
    rules=[
        # A generous exact per-account limit, scaled by standing (young x0.5, trusted x2); fixed window, so memory
        # is one counter per active account.
        LimitRule(name="account-rate", limit="600/minute", per="account", strategy="fixed-window"),
        _fan_out("template-fan-out", "template"),
        _fan_out("near-duplicate-fan-out", "near_duplicate"),
        _fan_out("template-mass-fan-out", "template", _MASS_FAN_OUT),
        _fan_out("near-duplicate-mass-fan-out", "near_duplicate", _MASS_FAN_OUT),
        PatternRule(
            # Many young accounts on one /24 or /48 is what a proxy pool looks like, but also a campus: log only,
            # and let escalation (network_taint) act once accounts from the prefix are actually caught.
            name="network-fan-out",
            pattern="network",
            when={"young_accounts": Threshold(min=20), "young_share": Threshold(min=0.8)},  # see _FAN_OUT
            applies_to="young",
            action="log",
        ),
    ],
)

PRESETS = MappingProxyType({"distillation-defense": DISTILLATION_DEFENSE})

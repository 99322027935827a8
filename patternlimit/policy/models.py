"""The policy format: pydantic models, frozen, unknown fields forbidden. Loaded from a dict, YAML, TOML or JSON.

A policy says which patterns to count, over which window, which measures of a pattern trigger which action for
which accounts, the exact per-key limits (``limits`` rate strings), how account context weighs in, and how a
caught account or a tainted network escalates. The full format, with an example, is in ``docs/policy.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from limits import parse as parse_rate
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$")
_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def _seconds(value: object) -> object:
    """``90``, ``"90s"``, ``"15m"``, ``"6h"``, ``"7d"``, ``"1w"`` -> seconds; anything else passes to pydantic."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"a duration like 90, '90s', '15m', '6h', '7d' or '1w', got {value!r}")
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


MAX_DURATION = 10 * 365 * 86400.0
"""The longest duration a policy may give (ten years): longer ones are mistakes, and would overflow the times
they are added to."""

MAX_COUNT = 1 << 32
"""Counts (hits, accounts, copies) saturate at 2**32: a threshold above it could never be met."""

NAME = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
"""Rule and policy names: a token that is safe verbatim in an HTTP header, a metric label and a log line."""

Duration = Annotated[float, BeforeValidator(_seconds), Field(ge=0, le=MAX_DURATION)]
PositiveDuration = Annotated[float, BeforeValidator(_seconds), Field(gt=0, le=MAX_DURATION)]
Name = Annotated[str, Field(pattern=NAME)]

Measure = Literal[
    "hits",
    "accounts",
    "young_accounts",
    "young_share",
    "filler_diversity",
    "copies",
    "pattern_age",
    "network_share",
    "network_concentration",
    "account_networks",
    "network_accounts",
    "account_persistence",
]
"""What a pattern rule can test, per pattern key, over the policy's window:

* ``hits``: requests (weighted by cost) carrying the pattern;
* ``accounts``: distinct accounts that sent it;
* ``young_accounts``: distinct accounts younger than ``context.young_age`` that sent it;
* ``young_share``: ``young_accounts / accounts`` (0 to 1);
* ``filler_diversity``: share of its requests whose exact text was new on this pattern (0 to 1): a campaign's
  template carries many distinct fillers, a quickstart prompt repeated by a launch crowd carries one;
* ``copies``: how many times this request's exact text was sent on this pattern (this request included);
* ``pattern_age``: seconds since the pattern was first seen (novelty);
* ``network_share``: the share of the pattern's young senders that came from *this request's* network (its /24 or
  /48; 0 to 1): a class or an office of new accounts behind one NAT gives its own members a share near 1, a proxy
  pool spread over many prefixes gives each of its requests a small one. A request whose address is unknown or
  invalid counts as its own network. This measure describes the request, not only the pattern: a request on a
  pattern flagged earlier is acted on only if it also meets the rule's ``network_share`` bounds;
* ``network_concentration``: the chance that two of the pattern's young requests came from one network (the sum
  over networks of their squared shares of its young requests; 0 to 1): near 1 for a class behind its campus NAT,
  the members on their own networks included, about ``1 / prefixes`` for a proxy pool. Checked again on a pattern
  flagged earlier, like ``network_share``;
* ``account_networks``: the distinct networks among the last 8 requests of *this request's account* (1 to 8): a
  household or an office keeps its prefix, a phone adds its carrier's, a rotating proxy hands out a new prefix per
  request;
* ``network_accounts``: the young accounts on *this request's* network (its /24 or /48, over every pattern; an
  estimate), counted when they are at least 80% of the network's senders and 0 otherwise: about 1 for people on
  their own home networks, several for a proxy pool that puts many new accounts on each of its prefixes, 0 for a
  carrier's, a campus's or an office's prefix where established customers send too (needs the ``network`` kind
  counted, as the default preset does); a residential or carrier prefix crowded with a launch's new users keeps
  established neighbours;
* ``account_persistence``: the distinct half-hours, over ``escalation.memory``, in which *this request's account*
  sent requests on flagged patterns (this one's included), whatever their routing (0 to 96): one sitting on a
  shared starter prompt is one or two, an account that keeps working a campaign's patterns for hours is many;
The measures from ``network_share`` on describe the request (its network or account) as well as the pattern, and
are checked again on a pattern flagged earlier; ``account_networks`` and ``account_persistence`` are kept per process.
"""

PatternKind = str
"""``template``, ``near_duplicate``, ``network``, ``client``, ``route``, ``account``, ``attribute:<name>``, or two of
these joined by ``+`` (a composite such as ``template+network``)."""

_BASE_KINDS = {"template", "near_duplicate", "network", "client", "route", "account"}
_ATTRIBUTE = re.compile(r"^attribute:[A-Za-z0-9_.-]{1,64}$")

_SHARES = {"young_share", "filler_diversity", "network_share", "network_concentration"}
_MEASURE_RANGES = {
    **{measure: (0.0, 1.0) for measure in _SHARES},
    **{measure: (0.0, float(MAX_COUNT)) for measure in ("hits", "accounts", "young_accounts", "copies")},
    "pattern_age": (0.0, MAX_DURATION),
    "account_networks": (0.0, 8.0),
    "network_accounts": (0.0, float(MAX_COUNT)),
    "account_persistence": (0.0, 96.0),
}
"""The values each measure can take: a threshold outside them is a typo (a share of 30 for 30%)."""


def check_kind(kind: str) -> str:
    parts = kind.split("+")
    if len(parts) > 2:
        raise ValueError(f"a composite pattern joins at most two kinds, got {kind!r}")
    for part in parts:
        if part not in _BASE_KINDS and not _ATTRIBUTE.match(part):
            raise ValueError(
                f"unknown pattern kind {part!r:.80}: use one of {sorted(_BASE_KINDS)}, 'attribute:<name>' (a name of "
                "1 to 64 letters, digits, '_', '.' or '-'), or 'a+b'"
            )
    return kind


class _Model(BaseModel):
    # NaN and infinities are refused everywhere: a NaN threshold is never met, an infinite duration overflows.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Threshold(_Model):
    """A bound on a measure: ``min`` (inclusive) and/or ``max`` (inclusive)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class PatternRule(_Model):
    """Act on requests whose pattern key meets every threshold in ``when`` and, when ``when_any`` is given, at least
    one of the thresholds in ``when_any`` (for signals that each suffice, such as the two kinds of proxy routing).

    ``applies_to`` picks the accounts the action falls on (``young``: younger than ``context.young_age`` or of
    unknown age when ``context.unknown_age`` is ``young``); others are logged, never throttled, by this rule.
    ``min_account_hits`` is persistence: an account is acted on once it has sent that many requests on flagged
    patterns within ``escalation.memory`` (this one included); until then its requests are logged.
    """

    type: Literal["pattern"] = "pattern"
    name: Name
    pattern: PatternKind
    when: dict[Measure, Threshold] = Field(min_length=1)
    when_any: dict[Measure, Threshold] = Field(default_factory=dict)
    applies_to: Literal["all", "young", "established"] = "young"
    min_account_hits: int = Field(default=1, ge=1, le=1_000_000)
    action: Literal["log", "throttle", "block"] = "throttle"
    retry_after: PositiveDuration = 600.0
    shadow: bool = False

    @field_validator("pattern")
    @classmethod
    def _pattern_kind(cls, value: str) -> str:
        return check_kind(value)

    @field_validator("when", "when_any")
    @classmethod
    def _in_range(cls, value: dict[str, Threshold]) -> dict[str, Threshold]:
        problems = []
        for measure, threshold in value.items():
            low, high = _MEASURE_RANGES[measure]
            for bound in ("min", "max"):
                number = getattr(threshold, bound)
                if number is not None and not low <= number <= high:
                    problems.append(f"{measure}.{bound} must be in [{low:g}, {high:g}], got {number:g}")
        if problems:
            raise ValueError("; ".join(problems))
        return value


class LimitRule(_Model):
    """An exact limit per key, in ``limits``' rate-string syntax (``"100/minute"``, ``"10/second;1000/day"`` is
    two rules), enforced by ``limits``' own strategy. With ``weighted``, the allowance scales with the account's
    context weight (``context.weights``)."""

    type: Literal["limit"] = "limit"
    name: Name
    limit: str
    per: PatternKind = "account"
    strategy: Literal["moving-window", "fixed-window"] = "moving-window"
    weighted: bool = True
    action: Literal["log", "throttle", "block"] = "throttle"
    shadow: bool = False

    @field_validator("limit")
    @classmethod
    def _parse(cls, value: str) -> str:
        try:
            item = parse_rate(value)
        except ValueError as exc:
            raise ValueError(f"not a limits rate string (e.g. '100/minute'): {value!r:.80}") from exc
        if not 1 <= item.amount < MAX_COUNT or not 1 <= item.get_expiry() <= MAX_DURATION:
            raise ValueError(f"a rate of 1 to 2**32 - 1 requests per 1 second to 10 years, got {value!r:.80}")
        return value

    @field_validator("per")
    @classmethod
    def _per_kind(cls, value: str) -> str:
        return check_kind(value)


class Weights(_Model):
    """Allowance multipliers for limit rules, by account standing: a young account gets a smaller allowance, an
    established one the rule's, a trusted one (old and clean) a larger one."""

    young: float = Field(default=0.5, gt=0, le=1000)
    established: float = Field(default=1.0, gt=0, le=1000)
    trusted: float = Field(default=2.0, gt=0, le=1000)


class Context(_Model):
    """How account age and history weigh in.

    * ``young_age`` / ``trusted_age``: an account younger than ``young_age`` is young, one older than
      ``trusted_age`` trusted, the others established; ``unknown_age`` decides when the creation date is unknown;
    * ``proven_after``: standing from history. After its first ``proven_after`` seconds, the limiter counts an
      account it first saw less than ``proven_after`` ago as young whatever its creation date (bought and
      pre-provisioned accounts are old but have no history here); an account caught by a pattern rule starts its
      history again. 0 disables: creation dates alone decide.
    """

    young_age: Duration = 7 * 86400.0
    trusted_age: Duration = 90 * 86400.0
    unknown_age: Literal["young", "established"] = "young"
    proven_after: Duration = 0.0
    weights: Weights = Weights()

    @model_validator(mode="after")
    def _ordered(self) -> Context:
        if self.trusted_age < self.young_age:
            raise ValueError(f"trusted_age ({self.trusted_age}) is below young_age ({self.young_age})")
        return self


class Escalation(_Model):
    """What a catch leads to. Pattern state outlives account bans: a flagged pattern stays flagged for ``memory``.

    * ``account_penalty``: an account throttled on a flagged pattern stays throttled this long, on any request;
    * ``memory``: how long a flagged pattern, a caught account's persistence count and a taint are remembered;
    * ``network_taint`` / ``client_taint``: a *young* account arriving on a network prefix (or client fingerprint)
      on which this many accounts were already caught starts throttled (0 disables); established accounts are
      never tainted, so a corporate NAT is safe;
    * ``network_taint_share``: a network is tainted only once its caught accounts are also at least this share of
      the young accounts on it (when they are most of its senders): most of a proxy pool's accounts get caught, a
      few among a campus NAT's thousands of new accounts do not make it one (0: the count alone);
    * ``block_after``: an account caught this many times is blocked instead of throttled (0: never block);
    * ``scope``: what a penalty and a taint apply to: ``"pattern"`` (the default) the account's requests on
      flagged patterns only, so a new user caught on a shared starter prompt is still served on their own work;
      ``"account"`` every request of the account.
    """

    account_penalty: Duration = 6 * 3600.0
    memory: PositiveDuration = 24 * 3600.0
    network_taint: int = Field(default=3, ge=0, le=1_000_000)
    network_taint_share: float = Field(default=0.05, ge=0.0, le=1.0)
    client_taint: int = Field(default=0, ge=0, le=1_000_000)
    block_after: int = Field(default=0, ge=0, le=1_000_000)
    scope: Literal["pattern", "account"] = "pattern"


class Fingerprinting(_Model):
    """How requests become pattern keys."""

    max_bytes: int = Field(default=65536, ge=64, le=16 * 1024 * 1024)
    edge_tokens: int = Field(default=8, ge=1, le=64)
    bands: Literal[1, 2, 4, 8] = 4
    parts: int = Field(default=8, ge=0, le=8)
    """Part keys (instruction sentences, :mod:`patternlimit.fingerprint.parts`) counted with the template keys of a
    young account's request; 0: none."""
    part_hits: int = Field(default=2, ge=1, le=255)
    """Requests an account must send with one flagged part key before a rule acts on it through that key
    (:mod:`patternlimit.engine.persistence`): a stock sentence reaches many new users once, a campaign's parts come
    back on every request. 1: act on the first."""
    ipv4_prefix: int = Field(default=24, ge=8, le=32)
    ipv6_prefix: int = Field(default=48, ge=16, le=128)


class Capacity(_Model):
    """Fixed memory: sketch sizes and the bounds of every table. See docs/sketches.md for what each costs."""

    count_width: int = Field(default=1 << 16, ge=64, le=1 << 24)
    count_depth: int = Field(default=4, ge=1, le=16)
    spread_width: int = Field(default=1 << 16, ge=64, le=1 << 22)
    spread_depth: int = Field(default=3, ge=1, le=8)
    precision: int = Field(default=5, ge=4, le=10)
    top_capacity: int = Field(default=1024, ge=16, le=1 << 16)
    seen_bits: int = Field(default=1 << 24, ge=1 << 10, le=1 << 32)
    """Bits per bucket of the filter that tells new texts from copies: about 2% false positives at
    ``seen_bits / 8`` (pattern, text) pairs per window."""
    accounts: int = Field(default=200_000, ge=100, le=1 << 30)
    flags: int = Field(default=100_000, ge=100, le=1 << 30)

    @field_validator("count_width", "spread_width", "top_capacity", "seen_bits")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"must be a power of two, got {value}")
        return value


class Policy(_Model):
    """A whole policy. ``shadow`` turns every rule into logging only (count and report, never enforce)."""

    name: Name = "custom"
    shadow: bool = False
    window: Annotated[float, BeforeValidator(_seconds), Field(ge=1, le=MAX_DURATION)] = 3600.0
    buckets: int = Field(default=6, ge=1, le=64)
    context: Context = Context()
    escalation: Escalation = Escalation()
    fingerprint: Fingerprinting = Fingerprinting()
    capacity: Capacity = Capacity()
    rules: list[Annotated[PatternRule | LimitRule, Field(discriminator="type")]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        names = [rule.name for rule in self.rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique, repeated: {duplicates}")
        return self

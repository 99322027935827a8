"""The request model: the facts about one API request that patternlimit fingerprints and counts."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from patternlimit.errors import InvalidRequestError

_EMPTY: Mapping[str, str] = MappingProxyType({})

TIME_LIMIT = 1e12
"""Times are epoch seconds in ``[0, 1e12)`` (the sketches' range): far past year 30000, exact as doubles. A value
at or above it is most likely milliseconds."""

COST_LIMIT = 1 << 32
"""Costs are ints in ``[0, 2**32)``: the sketches' counters are ``uint32`` and saturate."""


@dataclass(frozen=True, slots=True)
class Request:
    """One request, as the limiter sees it. Frozen and cheap to build.

    Every field is optional: a missing ``account`` counts as an anonymous caller, an empty or invalid ``ip`` has
    no network prefix, empty ``text`` has no text patterns. ``text`` may be ``str`` or ``bytes`` (a ``bytearray``
    or ``memoryview`` is copied to ``bytes``); bytes that are not UTF-8 are fingerprinted as they are and never
    raise. ``cost`` weighs the request in every count (e.g. tokens), as ``limits``' ``cost=`` does. ``attributes``
    are app-supplied string facts (org, plan, ASN, country, API-key id) that policies can count as patterns; a
    mapping other than the empty default is copied, so later changes to it do not reach the limiter.

    ``account_created_at`` is epoch seconds or a ``datetime`` (aware, or naive meaning UTC), converted to epoch
    seconds; NaN and infinities mean "age unknown", as ``None`` does.

    Fields are type-checked here, once: a wrong type or value raises :class:`~patternlimit.InvalidRequestError`
    (a ``TypeError`` and a ``ValueError``) naming the field, so a request that was built is one every check takes.
    """

    account: str | None = None
    ip: str = ""
    text: str | bytes = ""
    route: str = ""
    client: str = ""
    account_created_at: float | None = None
    cost: int = 1
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def __post_init__(self) -> None:
        # The common shapes in one expression of identity and type tests (about 0.2 us); anything else takes the
        # thorough path, which converts what it can and names the field it cannot take.
        created = self.account_created_at
        cost = self.cost
        if not (
            (self.account is None or type(self.account) is str)
            and type(self.ip) is str
            and (type(self.text) is str or type(self.text) is bytes)
            and type(self.route) is str
            and type(self.client) is str
            and (created is None or (type(created) is float and 0.0 <= created < TIME_LIMIT))
            and type(cost) is int
            and 0 <= cost < COST_LIMIT
            and self.attributes is _EMPTY
        ):
            _validate(self)


def _fail(name: str, expected: str, value: object) -> InvalidRequestError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return InvalidRequestError(f"Request.{name} must be {expected}, got {type(value).__name__} {shown}")


def _validate(request: Request) -> None:
    """Check every field of ``request``; convert what has one clear meaning (bytes-likes, datetimes, numbers)."""
    account = request.account
    if account is not None and not isinstance(account, str):
        raise _fail("account", "a str or None (convert ids with str(user.id))", account)
    for name in ("ip", "route", "client"):
        value = getattr(request, name)
        if not isinstance(value, str):
            raise _fail(name, "a str ('' when unknown)", value)
    text = request.text
    if isinstance(text, bytearray | memoryview):
        object.__setattr__(request, "text", bytes(text))
    elif not isinstance(text, str | bytes):
        raise _fail("text", "a str or bytes ('' when there is none)", text)
    object.__setattr__(request, "account_created_at", _created_at(request.account_created_at))
    cost = request.cost
    if isinstance(cost, bool) or not isinstance(cost, numbers.Integral) or not 0 <= cost < COST_LIMIT:
        raise _fail("cost", "an int in [0, 2**32)", cost)
    object.__setattr__(request, "cost", int(cost))
    attributes = request.attributes
    if attributes is not _EMPTY:
        if not isinstance(attributes, Mapping):
            raise _fail("attributes", "a mapping of str to str (an empty dict when there are none)", attributes)
        copied = dict(attributes)
        for key, value in copied.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidRequestError(
                    f"Request.attributes must map str to str, got {type(key).__name__} {key!r:.40} -> "
                    f"{type(value).__name__} {value!r:.40}"
                )
        object.__setattr__(request, "attributes", MappingProxyType(copied) if copied else _EMPTY)


def _created_at(value: object) -> float | None:
    """``account_created_at`` as epoch seconds (or None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        # A naive datetime is read as UTC: the convention of user stores that keep UTC without a zone, and of
        # datetime.utcnow(). Local time would make one stored value mean different ages on different servers.
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail("account_created_at", "epoch seconds (a float or int), a datetime or None", value)
    try:
        seconds = float(value)
    except (OverflowError, ValueError) as exc:
        raise _fail("account_created_at", "epoch seconds in [0, 1e12)", value) from exc
    if not math.isfinite(seconds):
        return seconds  # NaN and infinities: age unknown, as None
    if not 0.0 <= seconds < TIME_LIMIT:
        raise _fail("account_created_at", "epoch seconds in [0, 1e12) (milliseconds divided by 1000)", value)
    return seconds

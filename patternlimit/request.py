"""The request model: the facts about one API request that patternlimit fingerprints and counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Request:
    """One request, as the limiter sees it. Frozen and cheap to build (a plain dataclass, no validation pass).

    Every field is optional: a missing ``account`` counts as an anonymous caller, an empty or invalid ``ip`` has
    no network prefix, empty ``text`` has no text patterns. ``text`` may be ``str`` or ``bytes``; bytes that are
    not UTF-8 are fingerprinted as they are and never raise. ``cost`` weighs the request in every count (e.g.
    tokens), as ``limits``' ``cost=`` does. ``attributes`` are app-supplied string facts (org, plan, ASN, country,
    API-key id) that policies can count as patterns.
    """

    account: str | None = None
    ip: str = ""
    text: str | bytes = ""
    route: str = ""
    client: str = ""
    account_created_at: float | None = None
    cost: int = 1
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

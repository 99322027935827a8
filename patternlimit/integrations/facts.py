"""HTTP request -> the facts the limiter needs, shared by every web integration and free of any framework.

An integration reduces its framework's request to a :class:`RequestInfo` (method, path, headers in order, the
socket peer) plus the first ``max_body_bytes`` of the body; the functions here derive from those

- the **account**: a user callable, or by default a keyed BLAKE2b digest of the API key (``Authorization``
  credential or ``X-API-Key``). The raw key never reaches the limiter, its logs or its storage; the key of the
  digest keeps two deployments' ids of one API key unrelated;
- the **account context** (creation time, plan, org) from the app's own user store, through a hook whose answers
  are cached in a small LRU with a TTL (:class:`ContextCache`): the default policy needs the account's age on every
  request, and a user-store lookup per request would cost more than the limiter;
- the **client IP**: the socket peer, unless that peer is a configured trusted proxy, in which case the chosen
  forwarding header is walked right to left past the trusted proxies (see :func:`client_ip` for why);
- the **client fingerprint**: header names, their order and the User-Agent's products
  (:func:`patternlimit.fingerprint.client_fingerprint`), or a JA4 header that a trusted TLS-terminating proxy sets;
- the **text**: selected JSON string fields, or the raw body bytes (``Request.text`` takes bytes; invalid UTF-8 is
  fingerprinted as it is and never raises).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from patternlimit.errors import ConfigurationError
from patternlimit.fingerprint.client import MAX_AGENT_CHARS, MAX_HEADERS, client_fingerprint
from patternlimit.request import Request

if TYPE_CHECKING:
    from patternlimit.integrations.config import Network, WebConfig

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """An HTTP request as every hook sees it, whatever the framework.

    ``headers`` are ``(name, value)`` pairs in the order received, names lower-cased, values decoded as Latin-1
    (WSGI servers keep the order in which they filled ``environ``). ``peer`` is the socket peer's address (``""``
    when unknown, e.g. a Unix socket).
    """

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    peer: str = ""
    query: str = ""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` in order (a header may be sent on several lines)."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]


@dataclass(frozen=True, slots=True)
class AccountContext:
    """What the app's user store knows of an account: ``created_at`` (epoch seconds or an aware ``datetime``),
    and optional ``plan``, ``org`` and other string ``attributes`` that policies can count (``attribute:plan``)."""

    created_at: float | datetime | None = None
    plan: str | None = None
    org: str | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @property
    def created_epoch(self) -> float | None:
        if isinstance(self.created_at, datetime):
            return self.created_at.timestamp()
        return None if self.created_at is None else float(self.created_at)

    def request_attributes(self) -> Mapping[str, str]:
        extra = {name: value for name, value in (("plan", self.plan), ("org", self.org)) if value is not None}
        if not extra:
            return self.attributes
        return MappingProxyType({**self.attributes, **extra})


class AccountFacts(NamedTuple):
    """What the limiter takes from an :class:`AccountContext`, worked out once per cache fill, not per request."""

    created_at: float | None
    attributes: Mapping[str, str]

    @classmethod
    def of(cls, context: AccountContext | None) -> AccountFacts:
        if context is None:
            return NO_ACCOUNT_FACTS
        return cls(context.created_epoch, context.request_attributes())


NO_ACCOUNT_FACTS = AccountFacts(None, _EMPTY)
"""An anonymous or unknown account: age unknown, no attributes."""

_Value = TypeVar("_Value")


class ContextCache(Generic[_Value]):
    """A bounded LRU of per-account values (the integrations store :class:`AccountFacts`) that expire after ``ttl``
    seconds. Thread-safe (WSGI servers call it from many threads); a miss returns :data:`MISSING`, and a cached
    ``None`` (unknown account) is a hit."""

    def __init__(self, capacity: int, ttl: float, clock: Any = time.monotonic) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, _Value]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, account: str) -> object:
        # A hit takes no lock (taking one costs more than the lookup): `get` and `move_to_end` are each one C call,
        # atomic under the GIL; the only race, an eviction by another thread in between, leaves nothing to move.
        entries = self._entries
        entry = entries.get(account)
        if entry is None:
            return MISSING
        if entry[0] <= self._clock():
            with self._lock:
                if entries.get(account) is entry:  # not refreshed by another thread meanwhile
                    del entries[account]
            return MISSING
        # Not contextlib.suppress: this is the per-request path, and a with block costs more.
        try:  # noqa: SIM105
            entries.move_to_end(account)
        except KeyError:  # evicted by another thread since the lookup
            pass
        return entry[1]

    def put(self, account: str, context: _Value) -> None:
        if self.capacity == 0 or self.ttl == 0:
            return
        with self._lock:
            self._entries[account] = (self._clock() + self.ttl, context)
            self._entries.move_to_end(account)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


MISSING = object()
"""What :meth:`ContextCache.get` returns for an account it does not hold (or whose entry expired)."""


# -- the account -------------------------------------------------------------------------------------------------


def default_account(info: RequestInfo, key: bytes) -> str | None:
    """``"key:"`` + 24 hex digits of keyed BLAKE2b over the API key (the credential of ``Authorization``, e.g. the
    token after ``Bearer``, else ``X-API-Key``); None (anonymous) without either header."""
    return account_from(info.header("authorization"), info.header("x-api-key"), key)


def account_from(authorization: str | bytes | None, api_key: str | bytes | None, key: bytes) -> str | None:
    """:func:`default_account` from the first ``Authorization`` and ``X-API-Key`` values, as ``str`` or as the raw
    Latin-1 ``bytes`` an ASGI server gives (the same account either way)."""
    if authorization:
        api_key = None  # Authorization wins: the cache key leaves out what the answer does not depend on
    # Cached: API keys repeat request after request (only short ones, so the cache stays under ~2 MiB whatever
    # clients send; it holds credentials in this process's memory only, as the server's own request objects do).
    if len(authorization or "") <= _CACHED_CHARS and len(api_key or "") <= _CACHED_CHARS:
        return _cached_account(authorization, api_key, key)
    return _account(authorization, api_key, key)


def _account(authorization: str | bytes | None, api_key: str | bytes | None, key: bytes) -> str | None:
    credential = _text(authorization)
    if credential:
        scheme, _, rest = credential.strip().partition(" ")
        credential = rest.strip() if rest and scheme.lower() == "bearer" else credential.strip()
    else:
        credential = _text(api_key)
        credential = credential.strip() if credential else None
    if not credential:
        return None
    digest = hashlib.blake2b(credential.encode("latin-1"), key=key, digest_size=12, person=b"pl-account")
    return "key:" + digest.hexdigest()


_cached_account = functools.lru_cache(maxsize=4096)(_account)

_CACHED_CHARS = 256
"""Longest attacker-controlled string (credential, forwarding header) kept in a cache of 4096 entries."""


def _text(value: str | bytes | None) -> str | None:
    return value.decode("latin-1") if isinstance(value, bytes) else value


# -- the client address ------------------------------------------------------------------------------------------


def client_ip(info: RequestInfo, trusted: Callable[[str], bool], header: str) -> str:
    """The client's address: the socket peer, or, when ``trusted(peer)`` (see :func:`trust_checker`), the first
    address in ``header`` (``x-forwarded-for`` or ``forwarded``), read right to left, that is not itself a trusted
    proxy.

    Why right to left: each proxy *appends* the address it received the request from, so the rightmost entries
    were written by our own proxies and can be believed, while everything left of the first untrusted hop was
    written by the client and can say anything. Reading the leftmost entry (as many apps do) lets any client choose
    its IP, and so escape every per-network pattern. A peer that is not a trusted proxy is the client, whatever
    headers it sends. An unparseable entry stops the walk at the last trusted hop.
    """
    peer = info.peer
    if not trusted(peer):
        return peer
    values = info.header_values(header)
    if not values:
        return peer
    return forwarded_client(peer, values[0] if len(values) == 1 else ",".join(values), trusted, header)


def forwarded_client(peer: str, value: str, trusted: Callable[[str], bool], header: str) -> str:
    """The walk of :func:`client_ip` over ``value``, the forwarding header's lines joined by commas, for a ``peer``
    already known to be trusted."""
    # Cached: behind a proxy, one client's header is the same request after request; parsing it costs microseconds.
    return (_cached_walk if len(value) <= _CACHED_CHARS else _walk)(peer, value, trusted, header)


def ip_resolver(trusted: Callable[[str], bool], header: str) -> Callable[[str, bytes | None], str]:
    """``(peer, value) -> client address``: :func:`client_ip` for a server that gives the forwarding header's value
    as raw Latin-1 bytes (its lines joined by commas; None when absent). One cached call per request does what
    :func:`client_ip` does in three steps (is the peer trusted, decode, walk); values longer than 256 bytes are
    walked uncached."""

    def resolve(peer: str, value: bytes | None) -> str:
        if value is None or not trusted(peer):
            return peer
        return _walk(peer, value.decode("latin-1"), trusted, header)

    cached = functools.lru_cache(maxsize=4096)(resolve)

    def client_address(peer: str, value: bytes | None) -> str:
        if value is not None and len(value) > _CACHED_CHARS:
            return resolve(peer, value)
        return cached(peer, value)

    return client_address


def _walk(peer: str, value: str, trusted: Callable[[str], bool], header: str) -> str:
    entries = _forwarded_for([value]) if header == "forwarded" else value.split(",")
    address = peer
    for entry in reversed(entries):
        parsed = _address(entry)
        if parsed is None:
            return address
        address = parsed
        if not trusted(parsed):
            return parsed
    return address


_cached_walk = functools.lru_cache(maxsize=4096)(_walk)


def trust_checker(networks: tuple[Network, ...]) -> Callable[[str], bool]:
    """``address -> bool``: whether an address is in ``networks`` (IPv4-mapped IPv6 addresses match IPv4 CIDRs).

    Cached per checker: parsing an address and testing it against CIDRs costs several microseconds, and a few
    proxies and busy clients make most requests; invented addresses only evict each other from the bounded cache.
    """

    @functools.lru_cache(maxsize=4096)
    def trusted(address: str) -> bool:
        if not networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == network.version and ip in network for network in networks)

    return trusted


def _forwarded_for(values: list[str]) -> list[str]:
    """The ``for=`` node of each element of RFC 7239 ``Forwarded`` headers, in order (``""`` where absent)."""
    nodes = []
    for element in ",".join(values).split(","):
        node = ""
        for pair in element.split(";"):
            name, _, value = pair.strip().partition("=")
            if name.lower() == "for":
                node = value.strip().strip('"')
        nodes.append(node)
    return nodes


def _address(entry: str) -> str | None:
    """An IP address from one forwarding entry (``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80``, ``::1``)."""
    text = entry.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


# -- the client fingerprint --------------------------------------------------------------------------------------


def client_of(info: RequestInfo, client_header: str | None, peer_trusted: bool) -> str:
    """``client_fingerprint`` of the headers, or of the TLS fingerprint in ``client_header`` when the peer is a
    trusted proxy (a client could otherwise send any JA4 it likes)."""
    tls = info.header(client_header) if client_header and peer_trusted else None
    if tls is not None and tls.strip():
        return client_fingerprint(info.headers, tls=tls)
    names = [name for name, _ in info.headers]
    return headers_fingerprint(info.headers, "\n".join(names), len(names), info.header("user-agent"))


def headers_fingerprint(
    pairs: Sequence[tuple[str, str]] | Sequence[tuple[bytes, bytes]],
    names: str | bytes,
    count: int,
    user_agent: str | bytes | None,
) -> str:
    """``client_fingerprint(pairs)``, given the ``count`` names of ``pairs`` joined by newlines and the first
    ``user-agent`` value (``str`` pairs, or ``bytes`` as ASGI gives them).

    Cached on ``(names, count, user_agent)``: a client sends the same header names and User-Agent request after
    request, and hashing and masking them costs a few microseconds. The fingerprint depends on nothing else when
    the names are lower-case (so only ``user-agent`` itself names the User-Agent), contain no newline (``count``
    tells), and fit in the fingerprint's own bounds; the cache remembers which keys are not like that, and those
    requests are fingerprinted directly, as are names longer than 1024 characters (bounding the cache at about
    6 MiB).
    """
    if len(names) <= _CACHED_NAMES_CHARS and (user_agent is None or len(user_agent) <= MAX_AGENT_CHARS):
        found = _names_fingerprint(names, count, user_agent)
        if found is not None:
            return found
    return client_fingerprint(pairs)


_CACHED_NAMES_CHARS = 1024


@functools.lru_cache(maxsize=4096)
def _names_fingerprint(names: str | bytes, count: int, user_agent: str | bytes | None) -> str | None:
    """The fingerprint of headers named ``names``, or None when it may depend on more than the key."""
    split: list[str] | list[bytes]
    agent: str | bytes
    empty: str | bytes
    if isinstance(names, bytes):
        split, agent, empty = names.split(b"\n"), b"user-agent", b""
    else:
        split, agent, empty = names.split("\n"), "user-agent", ""
    if not 0 < count <= MAX_HEADERS or len(split) != count or not names.islower():
        return None
    # Rebuild the only pairs client_fingerprint reads: every name, and the User-Agent value on the first
    # user-agent line (it takes the first one).
    pairs: list[tuple[str | bytes, str | bytes]] = []
    for name in split:
        pairs.append((name, user_agent if name == agent and user_agent is not None else empty))
        if name == agent:
            user_agent = None
    return client_fingerprint(pairs)


# -- the text ----------------------------------------------------------------------------------------------------

_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[(?:\*|-?\d+)\])*)")
_INDEX = re.compile(r"\[(\*|-?\d+)\]")

Step = str | int | None
"""A parsed JSON path step: a key, a list index, or None for ``[*]`` (every item)."""


@functools.lru_cache(maxsize=256)
def parse_json_path(path: str) -> tuple[Step, ...]:
    """``"messages[*].content"`` -> ``("messages", None, "content")``. Keys are separated by dots; ``[*]`` is
    every item of a list, ``[N]`` one item (``[-1]``: the last). Raises :class:`ConfigurationError` for anything
    else."""
    if not isinstance(path, str) or not path:
        raise ConfigurationError(f"json_fields: {path!r} is not a path like 'messages[*].content' or 'prompt'")
    steps: list[Step] = []
    for part in path.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise ConfigurationError(
                f"json_fields: {path!r} is not a path like 'messages[*].content' or 'prompt' (bad part {part!r})"
            )
        steps.append(match.group(1))
        for index in _INDEX.findall(match.group(2)):
            steps.append(None if index == "*" else int(index))
    return tuple(steps)


def select_json(document: object, steps: tuple[Step, ...]) -> list[str]:
    """The strings at ``steps`` in ``document``; a selected list or object contributes every string inside it
    (so ``messages[*].content`` covers both ``"content": "..."`` and a list of ``{"type": "text", ...}`` parts)."""
    found: list[str] = []
    _select_into(document, steps, found)
    return found


def _select_into(document: object, steps: tuple[Step, ...], found: list[str]) -> None:
    current = [document]
    for step in steps:
        following: list[object] = []
        for node in current:
            if step is None:
                if isinstance(node, list):
                    following.extend(node)
            elif isinstance(step, int):
                if isinstance(node, list) and -len(node) <= step < len(node):
                    following.append(node[step])
            elif isinstance(node, dict) and step in node:
                following.append(node[step])
        current = following
    for node in current:
        if type(node) is str:  # the usual leaf, without a call
            found.append(node)
        else:
            _strings(node, found)


def _strings(node: object, found: list[str], depth: int = 0) -> None:
    if isinstance(node, str):
        found.append(node)
    elif depth < 32 and isinstance(node, list | dict):
        for item in node.values() if isinstance(node, dict) else node:
            _strings(item, found, depth + 1)


def body_text(body: bytes, complete: bool, json_fields: Sequence[str]) -> str | bytes:
    """The text to fingerprint: the selected JSON strings joined by newlines, when ``json_fields`` is set and the
    body is complete, valid JSON that has them; otherwise the raw body bytes (malformed or truncated JSON, form
    posts, non-UTF-8 bytes all fall back here, so a client cannot dodge the text patterns with a broken body)."""
    return text_selector(tuple(json_fields))(body, complete)


@functools.lru_cache(maxsize=64)
def text_selector(json_fields: tuple[str, ...]) -> Callable[[bytes, bool], str | bytes]:
    """:func:`body_text` for fixed ``json_fields``, their paths parsed once: ``(body, complete) -> text``."""
    paths = tuple(parse_json_path(path) for path in json_fields)
    if not paths:
        return _raw_text

    def select(body: bytes, complete: bool) -> str | bytes:
        if not complete or not body:
            return body
        try:
            # json.loads(body) without its Python-level encoding detection and wrappers for the usual body, a UTF-8
            # JSON object (a microsecond or so less); a BOM or a NUL byte (UTF-16/32) takes json.loads itself.
            if body[:1] == b"{" and body[1:2] != b"\0":
                text = body.decode("utf-8", "surrogatepass")  # what json.loads decodes UTF-8 with
                document, end = _scan(text, 0)
                if end != len(text) and text[end:].strip(" \t\n\r"):  # json.loads: "Extra data"
                    return body
            else:
                document = json.loads(body)
        except (ValueError, RecursionError, StopIteration):  # StopIteration: the scanner's "Expecting value"
            return body
        found: list[str] = []
        for steps in paths:
            _select_into(document, steps, found)
        return "\n".join(found) if found else body

    return select


def _raw_text(body: bytes, complete: bool) -> bytes:
    return body


_scan: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner json.loads ends in (the default decoder's settings)."""


# -- the request -------------------------------------------------------------------------------------------------


def build_request(
    info: RequestInfo,
    config: WebConfig,
    account: str | None,
    facts: AccountFacts,
    body: bytes,
    complete: bool,
) -> Request:
    """The :class:`patternlimit.Request` for ``info`` and the body prefix read for it."""
    peer_trusted = bool(config.networks) and config.trusted(info.peer)
    cap = config.max_body_bytes
    return Request(
        account=account,
        ip=client_ip(info, config.trusted, config.forwarded_header) if peer_trusted else info.peer,
        text=config.select_text(body if len(body) <= cap else body[:cap], complete),
        route=config.route(info) if config.route is not None else info.path,
        client=client_of(info, config.client_header, peer_trusted),
        account_created_at=facts.created_at,
        attributes=facts.attributes,
    )


def account_of(info: RequestInfo, config: WebConfig) -> str | None:
    """The account id of ``info``: the configured hook, or :func:`default_account`."""
    if config.account is not None:
        return config.account(info)
    return default_account(info, config.digest_key)


def headers_from_asgi(raw: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    """ASGI header pairs (already lower-cased bytes) as ``str`` pairs."""
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)


def headers_from_environ(environ: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A WSGI environ's headers in the order the server inserted them (``HTTP_*``, ``CONTENT_TYPE``,
    ``CONTENT_LENGTH``); names lower-cased with dashes."""
    pairs = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            pairs.append((key[5:].lower().replace("_", "-"), str(value)))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            pairs.append((key.lower().replace("_", "-"), str(value)))
    return tuple(pairs)

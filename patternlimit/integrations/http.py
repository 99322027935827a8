"""An HTTP request as the integrations see it, whatever the framework: :class:`RequestInfo`, and what is read from
its headers and socket peer.

- the **headers**, in the order received, from an ASGI scope (:func:`headers_from_asgi`) or a WSGI environ
  (:func:`headers_from_environ`);
- the **client address**: the socket peer, unless that peer is a configured trusted proxy, in which case the chosen
  forwarding header is walked right to left past the trusted proxies (see :func:`client_ip` for why);
- the **client string**: header names, their order and the User-Agent's products
  (:func:`patternlimit.fingerprint.client_fingerprint`), or a JA4 header that a trusted TLS-terminating proxy sets
  (:func:`client_of`).

Nothing here imports a framework or knows the limiter.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from patternlimit.fingerprint.client import MAX_AGENT_CHARS, MAX_HEADERS, client_fingerprint

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CACHED_CHARS = 256
"""Longest attacker-controlled string (credential, forwarding header) kept in a cache of 4096 entries."""


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
    return (_cached_walk if len(value) <= CACHED_CHARS else _walk)(peer, value, trusted, header)


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
        if value is not None and len(value) > CACHED_CHARS:
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
    """The ``for=`` node of each element of RFC 7239 ``Forwarded`` headers, in order (``""`` where absent). Where
    the header stops being valid, one ``""`` ends the list: the walk stops there, at the last trusted hop."""
    return [("" if element is None else element.get("for", "")) for element in forwarded_elements(",".join(values))]


_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_VALUE_END = frozenset(',;" \t')


def forwarded_elements(value: str) -> list[dict[str, str] | None]:
    """The elements of a ``Forwarded`` header value (RFC 7239 §4), each as ``{parameter: value}`` with names
    lower-cased and quoted-strings unquoted (backslash escapes undone); empty elements are skipped (RFC 9110
    §5.6.1).

    A quoted-string is one value whatever it holds, so ``host="a,for=6.6.6.6"`` is a host, never a second
    element. Where the value stops following the grammar (an unterminated quote, a parameter without ``=``, a
    parameter repeated within one element, stray text), a ``None`` ends the list and nothing after it is read: a
    reader walking from the right then stops at that point instead of guessing where the next element starts.
    Unquoted values are read up to the next separator, so the unquoted ``for=1.2.3.4:80`` that some proxies send
    is understood, although the RFC asks for quotes there.
    """
    elements: list[dict[str, str] | None] = []
    pairs: dict[str, str] = {}
    index, end = 0, len(value)
    while True:
        while index < end and value[index] in " \t":
            index += 1
        if index < end and value[index] not in ",;":
            start = index
            while index < end and value[index] in _TCHAR:
                index += 1
            name = value[start:index].lower()
            if not name or index >= end or value[index] != "=" or name in pairs:
                elements.append(None)
                return elements
            index += 1
            if index < end and value[index] == '"':
                index += 1
                chars = []
                while True:
                    if index >= end:  # unterminated quoted-string
                        elements.append(None)
                        return elements
                    char = value[index]
                    if char == '"':
                        index += 1
                        break
                    if char == "\\":
                        if index + 1 >= end:
                            elements.append(None)
                            return elements
                        char = value[index + 1]
                        index += 1
                    chars.append(char)
                    index += 1
                text = "".join(chars)
            else:
                start = index
                while index < end and value[index] not in _VALUE_END:
                    index += 1
                text = value[start:index]
            pairs[name] = text
            while index < end and value[index] in " \t":
                index += 1
        if index >= end:
            if pairs:
                elements.append(pairs)
            return elements
        if value[index] == ";":
            index += 1
        elif value[index] == ",":
            if pairs:
                elements.append(pairs)
            pairs = {}
            index += 1
        else:  # text after a value, e.g. a quote in the middle of a token
            elements.append(None)
            return elements


def _address(entry: str) -> str | None:
    """An IP address from one forwarding entry (``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80``, ``::1``); None
    for anything else, such as RFC 7239's ``unknown`` and obfuscated identifiers (``_hidden``), so the walk stops
    at the last trusted hop."""
    text = entry.strip().strip('"')
    if text.startswith("["):
        close = text.find("]")
        port = text[close + 1 :] if close > 0 else ""
        if close < 0 or (port and not (port[0] == ":" and _is_port(port[1:]))):
            return None
        text = text[1:close]
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
        if not _is_port(port):
            return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _is_port(text: str) -> bool:
    """A port as RFC 7239 §6 allows it: digits, or an obfuscated identifier (``_abc``)."""
    return (text.isdigit() and text.isascii()) or (text.startswith("_") and len(text) > 1)


# -- the client string -------------------------------------------------------------------------------------------

HeaderPairs = Sequence[tuple[str, str]] | Sequence[tuple[bytes, bytes]]
"""``(name, value)`` pairs as ``str``, or as the raw Latin-1 ``bytes`` an ASGI server gives."""


def client_of(pairs: HeaderPairs, names: str | bytes, user_agent: str | bytes | None, tls: str | bytes | None) -> str:
    """The client string of a request: ``client_fingerprint`` of the TLS fingerprint ``tls`` when it is present
    and not blank, else of the headers (:func:`headers_fingerprint`).

    ``tls`` is the ``client_header`` value; pass it only when the peer is a trusted proxy (a client could otherwise
    send any JA4 it likes). ``names`` are the names of ``pairs`` joined by newlines, ``user_agent`` the first
    ``user-agent`` value.
    """
    if tls is not None:
        text = tls.decode("latin-1") if isinstance(tls, bytes) else tls
        if text.strip():
            return client_fingerprint(pairs, tls=text)
    return headers_fingerprint(pairs, names, len(pairs), user_agent)


def headers_fingerprint(pairs: HeaderPairs, names: str | bytes, count: int, user_agent: str | bytes | None) -> str:
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

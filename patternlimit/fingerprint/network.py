"""Client IP address -> network prefix key.

Proxy pools and NATs put many accounts behind few networks: the limiter counts accounts per *prefix* rather than
per address, since a pool rotates addresses within its prefix. ``/24`` for IPv4 is the smallest block routed on the
public internet; ``/48`` for IPv6 is the usual allocation to one site (RFC 6177), so an IPv6 client can rotate
through 2**80 addresses without leaving it.

Addresses come from headers an attacker may write (``X-Forwarded-For``), so :func:`network_prefix` never raises on
the address: anything it cannot parse is ``None``, and the caller decides what an unknown network means. The prefix
lengths are configuration and are checked on every call (two comparisons), raising
:class:`~patternlimit.errors.ConfigurationError`; a separate prefixer class would add state for nothing.
"""

from __future__ import annotations

import functools
import ipaddress
import socket

from patternlimit.errors import ConfigurationError

PREFIX_CACHE_SIZE = 65536
"""Entries of the LRU cache of parsed addresses (the same addresses repeat; about 10 MiB when full)."""

MAX_ADDRESS_CHARS = 64
"""Longer strings are not addresses (the longest IPv6 text with a zone index is far shorter); they are rejected
before the cache, so an attacker cannot fill it with large keys."""


def network_prefix(ip: object, *, ipv4_prefix: int = 24, ipv6_prefix: int = 48) -> str | None:
    """The network of ``ip`` as ``"address/length"`` text, or ``None`` when ``ip`` is not an IP address.

    ``"203.0.113.7"`` -> ``"203.0.113.0/24"``; ``"2001:db8:1:2::5"`` -> ``"2001:db8:1::/48"``. An IPv4-mapped IPv6
    address (``"::ffff:1.2.3.4"``) counts as its IPv4 address. Surrounding whitespace, brackets (``"[2001:db8::1]"``,
    also with a port: ``"[2001:db8::1]:443"``) and a zone index (``"fe80::1%eth0"``) are stripped. Empty, invalid or
    non-``str`` input gives ``None``; an IPv4 address with a port does too (pass the address alone).

    Raises :class:`ConfigurationError` only for prefix lengths outside ``[0, 32]`` (IPv4) or ``[0, 128]`` (IPv6).
    """
    if type(ipv4_prefix) is not int or not 0 <= ipv4_prefix <= 32:
        raise ConfigurationError(f"ipv4_prefix must be an int in [0, 32], got {ipv4_prefix!r}")
    if type(ipv6_prefix) is not int or not 0 <= ipv6_prefix <= 128:
        raise ConfigurationError(f"ipv6_prefix must be an int in [0, 128], got {ipv6_prefix!r}")
    if not isinstance(ip, str) or len(ip) > MAX_ADDRESS_CHARS:
        return None
    return _cached_prefix(ip, ipv4_prefix, ipv6_prefix)


@functools.lru_cache(maxsize=PREFIX_CACHE_SIZE)
def _cached_prefix(ip: str, ipv4_prefix: int, ipv6_prefix: int) -> str | None:
    text = ip.strip()
    if text.startswith("["):
        closing = text.find("]")
        # "[address]" or "[address]:port"; anything else after the bracket is not an address.
        port = text[closing + 2 :]
        if closing < 0 or not (closing == len(text) - 1 or (text[closing + 1] == ":" and _is_port(port))):
            return None
        text = text[1:closing]
    text = text.split("%", 1)[0]
    # inet_pton (C) parses in 0.2 us what ``ipaddress`` parses in 3-7 us, and is as strict: no leading zeros, no
    # short forms. A pool that rotates IPv6 addresses makes every request a cache miss, so this path matters.
    try:
        if ":" not in text:
            return _ipv4_prefix(int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big"), ipv4_prefix)
        value = int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except (OSError, ValueError):  # OSError: not an address; ValueError: NUL or non-ASCII characters
        return None
    if value >> 32 == _MAPPED_HIGH:
        return _ipv4_prefix(value & 0xFFFFFFFF, ipv4_prefix)
    masked = value & ~((1 << (128 - ipv6_prefix)) - 1)
    if masked >> 32 == 0:
        # inet_ntop would write these (IPv4-compatible, ::a.b.c.d) with a dotted tail; keep ipaddress's form.
        return f"{ipaddress.IPv6Address(masked)}/{ipv6_prefix}"
    return f"{socket.inet_ntop(socket.AF_INET6, masked.to_bytes(16, 'big'))}/{ipv6_prefix}"


_MAPPED_HIGH = 0xFFFF  # ::ffff:0:0/96, the IPv4-mapped block


def _ipv4_prefix(value: int, length: int) -> str:
    masked = value & ~((1 << (32 - length)) - 1)
    return f"{socket.inet_ntoa(masked.to_bytes(4, 'big'))}/{length}"


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 5


def is_public_network(prefix: str) -> bool:
    """Whether ``prefix`` (as :func:`network_prefix` gives it) is globally routable: not private, loopback,
    link-local, shared (carrier-grade NAT) or documentation space. A public API sees its clients' networks as public
    prefixes; a private one is the deployment's own proxy (trusted proxies not configured) or a test, and says
    nothing about who the client is. ``::/8`` (the unspecified and loopback addresses' block, which ``ipaddress``
    calls global at /48) is not public either. Raises ``ValueError`` for text that is not a prefix.

    Most addresses are decided from their first octet or hextet (about 0.3 us: a pool that rotates addresses makes
    every request a new prefix); the rest by ``ipaddress`` (3-7 us), cached."""
    dot = prefix.find(".")
    if dot > 0 and prefix[:dot].isdigit():
        if int(prefix[:dot]) not in _SPECIAL_FIRST_OCTETS:
            return True
    else:
        colon = prefix.find(":")
        if colon == 4:
            hextet = int(prefix[:4], 16)
            if 0x2000 <= hextet <= 0x3FFF and hextet != 0x2001:  # global unicast outside 2001::/16's special blocks
                return True
    return _is_public_slow(prefix)


@functools.lru_cache(maxsize=PREFIX_CACHE_SIZE)
def _is_public_slow(prefix: str) -> bool:
    network = ipaddress.ip_network(prefix)
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_RESERVED_V6):
        return False
    return network.is_global


_RESERVED_V6 = ipaddress.IPv6Network("::/8")
_SPECIAL_FIRST_OCTETS = frozenset({0, 10, 100, 127, 169, 172, 192, 198, 203, *range(224, 256)})
"""First octets of every IPv4 block ``ipaddress`` does not call global (and of multicast): addresses starting
otherwise are public without a closer look."""

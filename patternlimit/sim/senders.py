"""Who sends the simulated requests, and from where: client fingerprints, addresses (homes, mobile carriers,
hosting space, campuses), account ids and routes.

The client fingerprints are what :func:`~patternlimit.fingerprint.client_fingerprint` computes from each client's
headers; addresses are drawn under the first octets that ISPs, hosting providers and universities use, so network
prefixes group the simulated traffic as they would group real traffic.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from patternlimit.fingerprint.client import client_fingerprint
from patternlimit.sim.grammar import pick


def _client(user_agent: str, *names: str) -> str:
    """The fingerprint :func:`~patternlimit.fingerprint.client_fingerprint` gives a client sending these headers,
    so the simulated clients look like what the limiter would compute from real ones."""
    return client_fingerprint([(name, user_agent if name == "user-agent" else "-") for name in names])


_SDK_HEADERS = ("host", "accept-encoding", "connection", "accept", "content-type", "user-agent", "x-stainless-lang")
_BROWSER_HEADERS = ("host", "connection", "sec-ch-ua", "content-type", "user-agent", "accept", "origin", "referer")
ANTHROPIC_PYTHON = _client("Anthropic/Python 0.39.0", *_SDK_HEADERS, "anthropic-version", "x-api-key")
ANTHROPIC_JS = _client("Anthropic/JS 0.32.1", "accept", "content-type", "user-agent", "x-stainless-lang", "x-api-key")
HTTPX = _client("python-httpx/0.27.2", "host", "accept", "accept-encoding", "connection", "user-agent", "x-api-key")
REQUESTS = _client("python-requests/2.32.3", "host", "user-agent", "accept-encoding", "accept", "connection")
CURL = _client("curl/8.5.0", "host", "user-agent", "accept", "content-type", "x-api-key", "anthropic-version")
AXIOS = _client("axios/1.7.2", "accept", "content-type", "user-agent", "x-api-key", "host", "connection")
GO = _client("Go-http-client/2.0", "host", "user-agent", "content-type", "x-api-key", "accept-encoding")
CHROME = _client(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    *_BROWSER_HEADERS,
)
FIREFOX = _client(
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "host", "user-agent", "accept", "accept-language", "accept-encoding", "content-type", "origin", "referer",
)  # fmt: skip
SAFARI = _client(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Safari/605.1.15",
    "host", "content-type", "origin", "accept", "user-agent", "referer", "accept-language", "accept-encoding",
)  # fmt: skip
HEARTH = _client("hearth/1.8.2 node/22.3.0", "accept", "content-type", "user-agent", "x-api-key", "x-hearth-session")


def weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    """One of ``options`` (value, weight), with probability in proportion to its weight."""
    roll = rng.random() * sum(weight for _, weight in options)
    for value, weight in options:
        roll -= weight
        if roll < 0:
            return value
    return options[-1][0]


# First octets of address space that ISPs hand to homes, and of hosting providers' space (where most proxy exits
# and company egress addresses sit). Private, reserved and documentation ranges are left out.
RESIDENTIAL_OCTETS = (
    24, 31, 37, 46, 47, 49, 50, 58, 59, 60, 61, 62, 67, 68, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83,
    84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 101, 110, 111, 112, 114, 115, 116, 117, 118,
    119, 120, 121, 122, 123, 124, 125, 171, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 186, 187, 189, 190,
    191, 201,
)  # fmt: skip
# First octets of the old class B blocks that universities were given early on, where many campuses' addresses
# (and their NAT egress) still are.
CAMPUS_OCTETS = (128, 129, 130, 131, 132, 134, 136, 137, 138, 140, 141, 143, 146, 147, 150, 152, 155, 157, 158, 160)
HOSTING_OCTETS = (
    5, 23, 34, 35, 45, 51, 52, 54, 64, 66, 104, 107, 138, 139, 141, 142, 143, 144, 146, 147, 149, 152, 154, 155, 157,
    158, 159, 161, 162, 163, 164, 165, 167, 185, 188, 193, 194, 195, 199, 206, 207, 209, 212, 213, 216, 217,
)  # fmt: skip
_IPV6_ISPS = ("2a02:810", "2601:1c0", "2600:1700", "2a01:e0a", "2406:3003", "2804:14c", "2003:e6", "2a00:23c8")


def prefix24(rng: random.Random, octets: Sequence[int]) -> str:
    """A random /24 network (``a.b.c``) whose first octet is one of ``octets``."""
    return f"{octets[int(rng.random() * len(octets))]}.{rng.randrange(256)}.{rng.randrange(256)}"


def host(rng: random.Random, prefix: str) -> str:
    """A random host address in the /24 ``prefix``."""
    return f"{prefix}.{rng.randint(1, 254)}"


def _ipv6(rng: random.Random) -> str:
    # The ISP's /32, the home's /48 below it, a /64 subnet, and a random interface identifier (privacy addresses).
    site, subnet = rng.getrandbits(16), rng.getrandbits(16)
    interface = ":".join(f"{rng.getrandbits(16):x}" for _ in range(4))
    return f"{pick(rng, _IPV6_ISPS)}:{site:x}:{subnet:x}:{interface}"


# Mobile carriers put many subscribers behind a few carrier-grade NAT prefixes; the pool is fixed (not seeded per
# run) because carriers are the same for everyone, so organic users and new users share them.
_CARRIER_PREFIXES = tuple(prefix24(random.Random(f"patternlimit.sim.carriers/{index}"), RESIDENTIAL_OCTETS)
                          for index in range(300))  # fmt: skip


def home_addresses(rng: random.Random) -> list[str]:
    """A person's addresses: home (IPv4, or IPv6 for about a sixth), sometimes a mobile carrier and an office."""
    addresses = [_ipv6(rng) if rng.random() < 0.17 else host(rng, prefix24(rng, RESIDENTIAL_OCTETS))]
    if rng.random() < 0.3:
        addresses.append(host(rng, pick(rng, _CARRIER_PREFIXES)))
    if rng.random() < 0.15:
        addresses.append(host(rng, prefix24(rng, HOSTING_OCTETS)))
    return addresses


def new_user_address(rng: random.Random) -> str:
    """A new user's one address: a mobile carrier's shared prefix, an IPv6 home or an IPv4 home."""
    roll = rng.random()
    if roll < 0.2:
        return host(rng, pick(rng, _CARRIER_PREFIXES))
    if roll < 0.35:
        return _ipv6(rng)
    return host(rng, prefix24(rng, RESIDENTIAL_OCTETS))


def account_id(rng: random.Random) -> str:
    """An opaque id: nothing in it tells the scenario, so a limiter cannot learn the label from the name."""
    return f"acct_{rng.getrandbits(64):016x}"


def api_route(rng: random.Random) -> str:
    """The API route of a request: almost always messages, sometimes token counting or the legacy endpoint."""
    roll = rng.random()
    if roll < 0.96:
        return "/v1/messages"
    return "/v1/messages/count_tokens" if roll < 0.99 else "/v1/complete"


def scaled(count: int, scale: float) -> int:
    """``count`` at ``scale``, at least one."""
    return max(1, round(count * scale))

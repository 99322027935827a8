"""Network prefixes: IPv4 /24 and IPv6 /48 by default, mapped and scoped forms normalised, garbage -> None."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit.errors import ConfigurationError
from patternlimit.fingerprint import network, network_prefix
from patternlimit.fingerprint.network import is_public_network


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("203.0.113.255", "203.0.113.0/24"),
        (" 10.1.2.3\n", "10.1.2.0/24"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("2001:DB8:1:FFFF:FFFF:FFFF:FFFF:FFFF", "2001:db8:1::/48"),
        ("::ffff:1.2.3.4", "1.2.3.0/24"),
        ("::FFFF:198.51.100.9", "198.51.100.0/24"),
        ("fe80::1%eth0", "fe80::/48"),
        ("[2001:db8::1]", "2001:db8::/48"),
        ("[2001:db8::1]:443", "2001:db8::/48"),
        ("[::ffff:1.2.3.4]:8080", "1.2.3.0/24"),
        ("[fe80::1%25eth0]", "fe80::/48"),
        ("::1", "::/48"),
        ("0.0.0.0", "0.0.0.0/24"),
    ],
)
def test_prefixes_of_valid_addresses(ip, expected):
    assert network_prefix(ip) == expected


@pytest.mark.parametrize(
    "ip",
    [
        "",
        " ",
        "localhost",
        "256.1.1.1",
        "1.2.3",
        "01.2.3.4",  # leading zeros are ambiguous (octal in some parsers): rejected
        "1.2.3.4:80",  # pass the address alone
        "1.2.3.4, 5.6.7.8",  # an X-Forwarded-For list: the caller picks the hop
        "[2001:db8::1",
        "[2001:db8::1]x",
        "[2001:db8::1]:http",
        "2001:db8::1::2",
        "::ffff:999.1.1.1",
        "1" * 5000,
        "\x00",
    ],
)
def test_invalid_strings_give_none(ip):
    assert network_prefix(ip) is None


@pytest.mark.parametrize("value", [None, 1234, b"1.2.3.4", ["1.2.3.4"], {"ip": 1}, 3.5])
def test_non_strings_give_none_without_touching_the_cache(value):
    assert network_prefix(value) is None


def test_prefix_lengths_are_applied():
    assert network_prefix("203.0.113.7", ipv4_prefix=16) == "203.0.0.0/16"
    assert network_prefix("203.0.113.7", ipv4_prefix=32) == "203.0.113.7/32"
    assert network_prefix("203.0.113.7", ipv4_prefix=0) == "0.0.0.0/0"
    assert network_prefix("2001:db8:abcd:1234::1", ipv6_prefix=56) == "2001:db8:abcd:1200::/56"
    assert network_prefix("2001:db8:abcd:1234::1", ipv6_prefix=64) == "2001:db8:abcd:1234::/64"
    assert network_prefix("::ffff:1.2.3.4", ipv4_prefix=8, ipv6_prefix=128) == "1.0.0.0/8"


@settings(max_examples=300, deadline=None)
@given(address=st.ip_addresses(), length=st.data())
def test_prefix_contains_the_address_and_agrees_with_ipaddress(address, length):
    v4 = length.draw(st.integers(0, 32))
    v6 = length.draw(st.integers(0, 128))
    result = network_prefix(str(address), ipv4_prefix=v4, ipv6_prefix=v6)
    assert result is not None
    parsed = ipaddress.ip_network(result)
    effective = address.ipv4_mapped if address.version == 6 and address.ipv4_mapped else address
    assert effective in parsed
    assert parsed.prefixlen == (v4 if effective.version == 4 else v6)
    # The text is the canonical (RFC 5952) form that ``ipaddress`` writes, so every host agrees on the key.
    assert result == str(ipaddress.ip_network((effective, parsed.prefixlen), strict=False))


@pytest.mark.parametrize(
    ("ip", "length", "expected"),
    [
        ("::1.2.3.4", 128, "::102:304/128"),
        ("::1", 128, "::1/128"),
        ("2001:db8:0:0:1:0:0:1", 128, "2001:db8::1:0:0:1/128"),
        ("2001:0:0:1:0:0:0:1", 128, "2001:0:0:1::1/128"),
        ("1:0:1:0:1:0:1:0", 128, "1:0:1:0:1:0:1:0/128"),
        ("::ffff:0:1.2.3.4", 128, "::ffff:0:102:304/128"),
    ],
)
def test_ipv6_text_is_canonical_in_corner_cases(ip, length, expected):
    assert network_prefix(ip, ipv6_prefix=length) == expected == str(ipaddress.ip_network(expected))


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"ipv4_prefix": 33}, "ipv4_prefix"),
        ({"ipv4_prefix": -1}, "ipv4_prefix"),
        ({"ipv4_prefix": True}, "ipv4_prefix"),
        ({"ipv4_prefix": 24.0}, "ipv4_prefix"),
        ({"ipv6_prefix": 129}, "ipv6_prefix"),
        ({"ipv6_prefix": "48"}, "ipv6_prefix"),
    ],
)
def test_bad_prefix_lengths_are_configuration_errors(arguments, field):
    with pytest.raises(ConfigurationError, match=field):
        network_prefix("1.2.3.4", **arguments)


def test_the_cache_is_bounded_and_reused():
    network._cached_prefix.cache_clear()
    assert network._cached_prefix.cache_info().maxsize == network.PREFIX_CACHE_SIZE == 65536
    addresses = [f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}" for index in range(70_000)]
    for address in addresses:
        network_prefix(address)
    info = network._cached_prefix.cache_info()
    assert info.currsize == network.PREFIX_CACHE_SIZE and info.misses == len(addresses)
    assert network_prefix(addresses[-1]) == "10.1.17.0/24"  # the most recent: still cached
    assert network._cached_prefix.cache_info().hits == info.hits + 1
    assert network_prefix(addresses[0]) == "10.0.0.0/24"  # the oldest: evicted, parsed again
    assert network._cached_prefix.cache_info().misses == info.misses + 1
    network_prefix("x" * (network.MAX_ADDRESS_CHARS + 1))
    assert network._cached_prefix.cache_info().currsize == network.PREFIX_CACHE_SIZE


@pytest.mark.parametrize(
    ("ip", "public"),
    [
        ("8.8.8.8", True),
        ("128.32.10.77", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.4.4", True),
        ("10.1.2.3", False),
        ("172.16.5.4", False),
        ("192.168.1.9", False),
        ("127.0.0.1", False),
        ("100.64.0.9", False),  # carrier-grade NAT space: never seen by a public API
        ("169.254.1.1", False),
        ("192.0.2.7", False),  # documentation
        ("2001:db8::1", False),
        ("fe80::1%eth0", False),
        ("::1", False),
    ],
)
def test_only_globally_routable_prefixes_are_public(ip, public):
    prefix = network_prefix(ip)
    assert prefix is not None and is_public_network(prefix) is public


def test_is_public_network_rejects_what_is_not_a_prefix():
    with pytest.raises(ValueError):
        is_public_network("not a prefix")


@given(
    st.one_of(
        st.ip_addresses(v=4).map(str),
        st.ip_addresses(v=6).map(str),
        st.integers(0, (1 << 112) - 1).map(lambda low: str(ipaddress.IPv6Address((0x2001 << 112) | low))),
    )
)
@settings(max_examples=500)
def test_the_first_octet_shortcut_agrees_with_ipaddress(address):
    prefix = network_prefix(address)
    assert prefix is not None
    assert is_public_network(prefix) is network._is_public_slow(prefix)

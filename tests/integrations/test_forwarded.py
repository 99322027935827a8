"""RFC 7239 ``Forwarded``: the tokenizer, and the walk right to left past trusted proxies that reads it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit.integrations import WebConfig
from patternlimit.integrations.http import RequestInfo, client_ip, forwarded_elements, ip_resolver

TRUSTED = WebConfig(trusted_proxies=("10.0.0.0/8",)).trusted


def walk(value: str, peer: str = "10.0.0.1") -> str:
    info = RequestInfo("GET", "/", (("forwarded", value),), peer)
    found = client_ip(info, TRUSTED, "forwarded")
    # the raw-bytes resolver of the ASGI middleware reads it the same way
    assert ip_resolver(TRUSTED, "forwarded")(peer, value.encode("latin-1")) == found
    return found


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('for=1.2.3.4;host="a,for=6.6.6.6"', "1.2.3.4"),  # a comma inside a quoted-string is not a separator
        ('for=1.2.3.4;host="a;for=6.6.6.6"', "1.2.3.4"),
        ('for=6.6.6.6, for=1.2.3.4;host="x\\",for=7.7.7.7"', "1.2.3.4"),  # an escaped quote does not end it
        ('FOR="1.2.3.4";Proto=https', "1.2.3.4"),  # names are case-insensitive
        ('for="[2001:db8::1]:4711"', "2001:db8::1"),  # IPv6 in brackets, with a port
        ('for="[2001:db8::1]"', "2001:db8::1"),
        ('for="1.2.3.4:8080"', "1.2.3.4"),
        ("for=1.2.3.4:8080", "1.2.3.4"),  # unquoted although the RFC asks for quotes: read anyway
        ('for="1.2.3.4:_port"', "1.2.3.4"),  # an obfuscated port
        ("for=9.9.9.9, for=unknown", "10.0.0.1"),  # unknown: the walk stops at the last trusted hop
        ("for=9.9.9.9, for=_hidden", "10.0.0.1"),  # an obfuscated node likewise
        ("for=9.9.9.9, for=10.0.0.7", "9.9.9.9"),  # one of our proxies: walk on
        ('for=9.9.9.9, for="1.2.3.4', "10.0.0.1"),  # an unterminated quote: nothing after it is believed
        ("for=1.2.3.4;for=6.6.6.6", "10.0.0.1"),  # a parameter twice in one element is invalid
        ("for=9.9.9.9, by=10.0.0.1", "10.0.0.1"),  # an element without for=
        ("for=1.2.3.4, , ", "1.2.3.4"),  # empty list elements are ignored
        ('for="[2001:db8::1]x"', "10.0.0.1"),  # text after the bracket is no port
    ],
)
def test_forwarded_is_tokenized_with_quoted_strings_and_walked_from_the_right(value, expected):
    assert walk(value) == expected


def test_an_untrusted_peer_is_the_client_whatever_forwarded_says():
    assert walk("for=1.2.3.4", peer="8.8.8.8") == "8.8.8.8"


def test_several_forwarded_lines_are_one_list():
    info = RequestInfo("GET", "/", (("forwarded", "for=9.9.9.9"), ("forwarded", 'for="1.2.3.4"')), "10.0.0.1")
    assert client_ip(info, TRUSTED, "forwarded") == "1.2.3.4"


def test_the_tokenizer_unquotes_and_lower_cases_names():
    assert forwarded_elements('For="a\\"b";HOST=x, for=y') == [{"for": 'a"b', "host": "x"}, {"for": "y"}]
    assert forwarded_elements("for") == [None]


# A quoted-string holds any visible text, separators and escapes included (RFC 9110 §5.6.4).
_quoted_text = st.text(alphabet=st.sampled_from(list(',;="\\ ') + list("for6.:[]abc")), max_size=30)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["host", "proto", "by", "ext"]), _quoted_text), max_size=4))
def test_text_inside_quoted_strings_never_injects_a_for(parameters):
    pairs = {name: text for name, text in parameters}  # a name twice would make the element invalid
    value = "for=1.2.3.4" + "".join(f";{name}={_quote(text)}" for name, text in pairs.items())
    assert forwarded_elements(value) == [{"for": "1.2.3.4", **pairs}]
    assert walk(value) == "1.2.3.4"
    # and behind a client-written element, whatever it holds, our proxy's element is the one believed
    assert walk(f"for=6.6.6.6;host={_quote(''.join(pairs.values()))}, {value}") == "1.2.3.4"

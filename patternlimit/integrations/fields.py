"""The few HTTP Structured Field (RFC 9651) types the RateLimit headers use, serialised by the rules of §4.1.

Only what :mod:`patternlimit.integrations.responses` emits: Lists of Items whose bare value is a String or an
Integer, with Integer, String or Token parameters. Every value a header carries passes through here, so a rule
name holding a quote, a backslash, a CR/LF or non-ASCII text can never end the header or start another one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Bare = int | str
"""An Item's value: an Integer, or a String (use :class:`Token` for a Token)."""

MAX_INTEGER = 999_999_999_999_999
"""The largest sf-integer (RFC 9651 §3.3.1: at most 15 digits)."""

_KEY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz*")
_KEY_REST = _KEY_FIRST | frozenset("0123456789_-.")


class Token(str):
    """A string to serialise as an sf-token rather than an sf-string."""

    __slots__ = ()


def serialize_list(members: Iterable[tuple[Bare, Sequence[tuple[str, Bare]]]]) -> str:
    """A List of Items, each ``(value, [(parameter name, value), ...])``."""
    return ", ".join(serialize_item(value, parameters) for value, parameters in members)


def serialize_item(value: Bare, parameters: Sequence[tuple[str, Bare]] = ()) -> str:
    return serialize_bare(value) + "".join(
        f";{_key(name)}" if parameter is True else f";{_key(name)}={serialize_bare(parameter)}"
        for name, parameter in parameters
    )


def serialize_bare(value: Bare) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return serialize_integer(value)
    if isinstance(value, Token):
        return serialize_token(value)
    return serialize_string(value)


def serialize_integer(value: int) -> str:
    if not -MAX_INTEGER <= value <= MAX_INTEGER:
        raise ValueError(f"an sf-integer has at most 15 digits, not {value}")
    return str(value)


def serialize_string(value: str) -> str:
    """An sf-string: printable ASCII only, ``"`` and ``\\`` escaped. Anything else (control characters, non-ASCII
    text) is first percent-encoded as UTF-8, with ``%`` itself encoded, so the name stays readable and distinct
    names stay distinct."""
    out = ['"']
    for char in value:
        if char == "%" or not " " <= char <= "~":
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass")))
        elif char in '"\\':
            out.append("\\" + char)
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


_TOKEN_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*")
_TOKEN_REST = _TOKEN_FIRST | frozenset("0123456789!#$%&'+-.^_`|~:/")


def serialize_token(value: str) -> str:
    if not value or value[0] not in _TOKEN_FIRST or any(char not in _TOKEN_REST for char in value):
        raise ValueError(f"not an sf-token: {value!r}")
    return value


def _key(name: str) -> str:
    if not name or name[0] not in _KEY_FIRST or any(char not in _KEY_REST for char in name):
        raise ValueError(f"not an sf-key: {name!r}")
    return name

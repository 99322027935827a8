"""The request body -> the text: JSON paths, and the fast JSON path parsing exactly as ``json.loads``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patternlimit import ConfigurationError
from patternlimit.integrations.body import body_text, parse_json_path, select_json


def test_json_paths_parse_and_select_strings():
    assert parse_json_path("messages[*].content") == ("messages", None, "content")
    assert parse_json_path("a.b[0][*].c") == ("a", "b", 0, None, "c")
    for bad in ("", "a..b", "a[x]", "a[", "[0]"):
        with pytest.raises(ConfigurationError, match="json_fields"):
            parse_json_path(bad)
    document = {
        "messages": [
            {"content": "one"},
            {"content": [{"type": "text", "text": "two"}, {"type": "image", "data": 3}]},
            {"role": "x"},
        ],
        "prompt": 5,
    }
    assert select_json(document, parse_json_path("messages[*].content")) == ["one", "text", "two", "image"]
    assert select_json(document, parse_json_path("messages[1].content[0].text")) == ["two"]
    assert select_json(document, parse_json_path("messages[-1].role")) == ["x"]
    assert select_json(document, parse_json_path("prompt")) == []
    assert select_json([1], parse_json_path("a[*]")) == []


def test_body_text_uses_json_fields_only_for_complete_valid_json():
    body = json.dumps({"prompt": "write a poem"}).encode()
    assert body_text(body, True, ("prompt",)) == "write a poem"
    assert body_text(body, False, ("prompt",)) == body  # truncated: raw
    assert body_text(body, True, ()) == body
    assert body_text(b"[" * 100_000, True, ("prompt",)) == b"[" * 100_000  # deeply nested: raw, no RecursionError
    assert body_text(b'{"other": 1}', True, ("prompt",)) == b'{"other": 1}'


def _reference_body_text(body: bytes, complete: bool, json_fields: tuple[str, ...]) -> str | bytes:
    """body_text spelt plainly: json.loads, then every path."""
    if json_fields and complete and body:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return body
        found: list[str] = []
        for path in json_fields:
            found.extend(select_json(document, parse_json_path(path)))
        if found:
            return "\x1e".join(found)
    return body


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["prompt", "messages", "content"]), inner)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    _json,
    st.sampled_from(["", " ", "\n\t", "\u00a0"]),
    st.sampled_from(["", " ", "\r\n", " x", "}", "\u00a0"]),
    st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-8-sig"]),
    st.integers(min_value=0, max_value=3),
)
def test_body_text_parses_exactly_as_json_loads(document, before, after, encoding, cut):
    body = (before + json.dumps(document, ensure_ascii=False) + after).encode(encoding, "surrogatepass")
    body = body[: len(body) - cut] if cut else body  # truncated bodies too
    fields = ("messages[*].content", "prompt")
    assert body_text(body, True, fields) == _reference_body_text(body, True, fields)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32-le"])
def test_body_text_reads_every_encoding_json_loads_reads(encoding):
    body = json.dumps({"prompt": "h\u00e9llo"}, ensure_ascii=False).encode(encoding)
    assert body_text(body, True, ("prompt",)) == "h\u00e9llo"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_body_text_falls_back_on_any_bytes_exactly_as_json_loads(tail):
    fields = ("prompt", "messages[*].content")
    for body in (tail, b"{" + tail, b'{"prompt": "a"}' + tail, b"{\x00" + tail):
        assert body_text(body, True, fields) == _reference_body_text(body, True, fields)

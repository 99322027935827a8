"""The request body -> the text to fingerprint: selected JSON string fields, or the raw body bytes.

``Request.text`` takes bytes, so a body that is not the JSON configured (malformed, truncated, a form post,
invalid UTF-8) is fingerprinted as it is and never raises: a client cannot dodge the text patterns with a broken
body.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence

from patternlimit.errors import ConfigurationError

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
    """The text to fingerprint: the selected JSON strings joined as turns (by U+001E, the record separator, in
    document order per path and paths in order: the last selected string is the latest turn, the one fingerprinted
    for patterns; list a ``system`` path first), when ``json_fields`` is set and the
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
        # Each selected string is a turn: the engine fingerprints the last one (the latest message), so a fixed
        # system prompt or an agent's wrapper does not make every user's request one template.
        return "\x1e".join(found) if found else body

    return select


def _raw_text(body: bytes, complete: bool) -> bytes:
    return body


_scan: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner json.loads ends in (the default decoder's settings)."""

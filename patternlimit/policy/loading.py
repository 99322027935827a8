"""Turn what the user gives (a Policy, a mapping, a file path or a preset name) into a validated Policy."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from patternlimit.errors import ConfigurationError
from patternlimit.policy.models import Policy
from patternlimit.policy.presets import PRESETS

PolicySource = Policy | Mapping[str, Any] | str | os.PathLike[str] | None


def load_policy(source: PolicySource = None) -> Policy:
    """``None``: the default preset; a preset name (``"distillation-defense"``); a ``.yaml``/``.yml``, ``.toml`` or
    ``.json`` file; a mapping; or a :class:`Policy` as is. Invalid input raises :class:`ConfigurationError` naming
    the field (``rules.0.when.young_share.min``) and what would be valid."""
    if source is None:
        return PRESETS["distillation-defense"]
    if isinstance(source, Policy):
        return source
    if isinstance(source, Mapping):
        return policy_from_mapping(source, origin="policy")
    if isinstance(source, str) and source in PRESETS:
        return PRESETS[source]
    if isinstance(source, str | os.PathLike):
        return policy_from_mapping(_read(Path(source)), origin=str(source))
    raise ConfigurationError(
        f"policy must be a Policy, a mapping, a file path or a preset name {sorted(PRESETS)}, "
        f"got {type(source).__name__}"
    )


MAX_FILE_BYTES = 1 << 20
"""A policy file is a few KiB; a larger one is refused before it is parsed."""

MAX_DEPTH = 32
MAX_NODES = 100_000
"""Bounds on a policy's nesting and size (every mapping, list and value counted, YAML aliases once per use): a
policy nests six deep and holds a few hundred values; the bounds keep validation fast and free of recursion limits
whatever the input."""


def policy_from_mapping(data: Mapping[str, Any], *, origin: str = "policy") -> Policy:
    _check_shape(data, origin)
    try:
        return Policy.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigurationError(f"invalid {origin}: {problems}") from exc
    except RecursionError as exc:  # pragma: no cover - _check_shape bounds the depth first
        raise ConfigurationError(f"invalid {origin}: nested too deeply") from exc


def _problem(error: Any) -> str:
    """One validation error in plain words: the field path, what is wrong and, for a scalar, the value given."""
    path = ".".join(_field_path(error["loc"])) or "(top level)"
    kind = error["type"]
    if kind == "union_tag_not_found":
        return f"{path}: a rule needs a type, one of 'pattern' or 'limit'"
    if kind == "union_tag_invalid":
        return f"{path}.type: must be 'pattern' or 'limit', got {error['input'].get('type')!r:.40}"
    if kind == "value_error":  # our own validators' messages already name the value
        return f"{path}: {error['msg'].removeprefix('Value error, ')}"
    message = f"{path}: {error['msg']}"
    given = error.get("input")
    if isinstance(given, int | float | str | bool) and kind not in {"missing", "extra_forbidden"}:
        message += f" (got {given!r:.60})"
    return message


def _field_path(location: tuple[int | str, ...]) -> list[str]:
    """The dotted field path, without the tag pydantic inserts after a rule's index (``rules.0.pattern.when``).
    A key that is not a plain token is shown as its ``repr``, so it cannot break the message's line."""
    path = []
    for index, part in enumerate(location):
        is_rule_tag = index == 2 and location[0] == "rules" and part in {"pattern", "limit"} and len(location) > 3
        if not is_rule_tag:
            text = str(part)
            path.append(text if text.replace("_", "").replace("-", "").replace(":", "").isalnum() else repr(part))
    return path


def _check_shape(data: object, origin: str) -> None:
    """Refuse data nested deeper than MAX_DEPTH or larger than MAX_NODES, iteratively (no recursion)."""
    pending: list[tuple[object, int]] = [(data, 1)]
    nodes = 0
    while pending:
        value, depth = pending.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ConfigurationError(f"invalid {origin}: more than {MAX_NODES} values; a policy holds a few hundred")
        if isinstance(value, Mapping | list | tuple):
            if depth > MAX_DEPTH:
                raise ConfigurationError(f"invalid {origin}: nested deeper than {MAX_DEPTH} levels")
            children = value.values() if isinstance(value, Mapping) else value
            pending.extend((child, depth + 1) for child in children)


def _read(path: Path) -> Mapping[str, Any]:
    name = repr(str(path))
    try:
        if not path.is_file():
            raise ConfigurationError(f"policy file {name} does not exist (or is not a file)")
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise ConfigurationError(f"policy file {name} cannot be read: {exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigurationError(f"policy file {name} is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"policy file {name} is not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}): save it as UTF-8"
        ) from exc
    suffix = path.suffix.lower()
    try:
        if suffix in {".yaml", ".yml"}:
            try:
                import yaml  # optional dependency, imported only when needed
            except ImportError as exc:
                raise ConfigurationError(
                    'reading YAML policies needs PyYAML: pip install "patternlimit[yaml]"'
                ) from exc
            data = yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ConfigurationError(f"policy file {name}: use .yaml, .yml, .toml or .json, not {suffix!r}")
    except RecursionError as exc:
        raise ConfigurationError(f"policy file {name} is nested too deeply") from exc
    except (ValueError, tomllib.TOMLDecodeError) as exc:  # JSON and TOML errors are ValueErrors
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(f"policy file {name} is not valid {suffix[1:].upper()}: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("yaml"):
            raise ConfigurationError(f"policy file {name} is not valid YAML: {exc}") from exc
        raise
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"policy file {name} must hold a mapping at the top level")
    return data

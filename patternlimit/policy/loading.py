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


def policy_from_mapping(data: Mapping[str, Any], *, origin: str = "policy") -> Policy:
    try:
        return Policy.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(_field_path(error['loc'])) or '(top level)'}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"invalid {origin}: {problems}") from exc


def _field_path(location: tuple[int | str, ...]) -> list[str]:
    """The dotted field path, without the tag pydantic inserts after a rule's index (``rules.0.pattern.when``)."""
    path = []
    for index, part in enumerate(location):
        is_rule_tag = index == 2 and location[0] == "rules" and part in {"pattern", "limit"} and len(location) > 3
        if not is_rule_tag:
            path.append(str(part))
    return path


def _read(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        raise ConfigurationError(f"policy file {str(path)!r} does not exist (or is not a file)")
    text = path.read_text(encoding="utf-8")
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
            raise ConfigurationError(f"policy file {str(path)!r}: use .yaml, .yml, .toml or .json, not {suffix!r}")
    except (ValueError, tomllib.TOMLDecodeError) as exc:  # JSON and TOML errors are ValueErrors
        raise ConfigurationError(f"policy file {str(path)!r} is not valid {suffix[1:].upper()}: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("yaml"):
            raise ConfigurationError(f"policy file {str(path)!r} is not valid YAML: {exc}") from exc
        raise
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"policy file {str(path)!r} must hold a mapping at the top level")
    return data

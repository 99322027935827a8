"""Hostile policies: any dict or file gives a Policy or a ConfigurationError naming what is wrong, nothing else.

``PATTERNLIMIT_FUZZ_EXAMPLES`` sets the examples per hypothesis test (default 60; 50000 for the full run).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patternlimit import ConfigurationError, Policy, load_policy
from patternlimit.policy.presets import PRESETS

FUZZ = settings(
    max_examples=int(os.environ.get("PATTERNLIMIT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([10**400, -(10**400)]),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["90s", "15m", "6h", "7d", "1w", "1e300", "inf", "nan", "-5", "100/minute", "0/second"]),
    st.sampled_from(["template", "network", "template+network", "attribute:plan", "attribute:", "a+b+c"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
PRESET = PRESETS["distillation-defense"].model_dump(mode="json")


def mutations() -> st.SearchStrategy[dict[str, object]]:
    """The preset with a few fields (at any depth) replaced by anything, removed, or added."""

    @st.composite
    def mutate(draw: st.DrawFn) -> dict[str, object]:
        policy = json.loads(json.dumps(PRESET))
        for _ in range(draw(st.integers(1, 4))):
            node: object = policy
            while True:
                children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))  # type: ignore[attr-defined]
                if not children:
                    break
                key, child = draw(st.sampled_from(children))
                if not isinstance(child, dict | list) or not child or draw(st.booleans()):
                    choice = draw(st.integers(0, 2))
                    if choice == 0:
                        node[key] = draw(VALUES)  # type: ignore[index]
                    elif choice == 1 and isinstance(node, dict):
                        del node[key]
                    elif isinstance(node, dict):
                        node[draw(st.text(max_size=8))] = draw(VALUES)
                    break
                node = child
        return policy

    return mutate()


def loads(source: object) -> Policy | None:
    try:
        return load_policy(source)  # type: ignore[arg-type]
    except ConfigurationError as exc:
        message = str(exc)
        assert "\n" not in message.split(": ", 1)[0]
        assert "Unable to extract tag" not in message
        return None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"window": float("inf")}, "window"),
        ({"window": 1e300}, "window"),
        ({"window": float("nan")}, "window"),
        ({"escalation": {"memory": "1e300"}}, "escalation.memory"),
        ({"context": {"weights": {"young": float("inf")}}}, "context.weights.young"),
        ({"capacity": {"accounts": 10**400}}, "capacity.accounts"),
    ],
)
def test_non_finite_and_absurd_numbers_are_refused(change, named):
    with pytest.raises(ConfigurationError, match=named.replace(".", r"\.")):
        load_policy({**PRESET, **change})


def rule(**fields: object) -> dict[str, object]:
    return {"type": "pattern", "name": "r", "pattern": "template", "when": {"accounts": {"min": 3}}, **fields}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"when": {"young_share": {"min": float("nan")}}}, "rules.0.when"),
        ({"when": {"young_share": {"min": 30}}}, "young_share.min must be in"),
        ({"when": {"hits": {"max": 1e300}}}, "hits.max must be in"),
        ({"retry_after": float("inf")}, "rules.0.retry_after"),
        ({"retry_after": 1e300}, "rules.0.retry_after"),
        ({"name": "лимит"}, "rules.0.name"),
        ({"name": "a\r\nRateLimit-Policy: x"}, "rules.0.name"),
        ({"name": ""}, "rules.0.name"),
        ({"pattern": "attribute:a\r\nb"}, "rules.0.pattern"),
        ({"type": "nope"}, "must be 'pattern' or 'limit'"),
        ({"type": None}, "rules.0"),
    ],
)
def test_rules_with_unsafe_names_or_numbers_are_refused(fields, named):
    with pytest.raises(ConfigurationError, match=named):
        load_policy({"rules": [rule(**fields)]})


def test_a_rule_without_a_type_gets_the_valid_types():
    broken = rule()
    del broken["type"]
    with pytest.raises(ConfigurationError, match="one of 'pattern' or 'limit'"):
        load_policy({"rules": [broken]})


def test_every_field_at_fault_is_listed():
    with pytest.raises(ConfigurationError) as caught:
        load_policy({"window": float("inf"), "buckets": 0, "rules": [rule(name="a b", retry_after=-1)]})
    message = str(caught.value)
    for field in ("window", "buckets", "rules.0.name", "rules.0.retry_after"):
        assert field in message


def test_huge_limit_rates_are_refused():
    with pytest.raises(ConfigurationError, match=r"rules\.0\.limit"):
        load_policy({"rules": [{"type": "limit", "name": "l", "limit": f"{10**30}/second"}]})


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep-object.json", '{"a":' * 50_000 + "1" + "}" * 50_000),
        ("deep.yaml", "name: " + "[" * 5000 + "]" * 5000),
        ("deep-block.yaml", "".join(" " * depth + "a:\n" for depth in range(0, 10_000, 2))),
        ("deep.toml", "name = " + "[" * 5000 + "]" * 5000),
        (
            "aliases.yaml",
            "a: &a [1,1,1,1,1,1,1,1,1,1]\n"
            + "".join(
                f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join(['*' + chr(97 + level)] * 10)}]\n"
                for level in range(8)
            ),
        ),
        ("big.json", '{"name": "' + "x" * (2 << 20) + '"}'),
    ],
)
def test_deep_huge_and_exploding_files_are_a_configuration_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="policy"):
        load_policy(path)


@pytest.mark.parametrize("suffix", [".yaml", ".toml", ".json"])
def test_files_that_are_not_utf8_are_a_configuration_error(tmp_path, suffix):
    path = tmp_path / f"latin1{suffix}"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        load_policy(path)


def test_unreadable_paths_are_a_configuration_error(tmp_path):
    for source in ("no\x00such.yaml", str(tmp_path), str(tmp_path / "missing.json")):
        with pytest.raises(ConfigurationError, match="policy file"):
            load_policy(source)


@FUZZ
@given(policy=mutations())
def test_any_policy_mapping_loads_or_is_refused(policy):
    loaded = loads(policy)
    if loaded is not None:  # what is accepted also builds a limiter's rules
        from patternlimit.policy.compile import compile_policy

        compile_policy(loaded)


@FUZZ
@given(policy=VALUES)
def test_any_value_as_a_policy_loads_or_is_refused(policy):
    loads(policy)


DIRECTORY = Path(tempfile.mkdtemp(prefix="patternlimit-hostile-"))


@FUZZ
@given(
    suffix=st.sampled_from([".json", ".yaml", ".toml", ".yml", ".txt"]),
    content=st.one_of(
        mutations().map(lambda policy: ("json", policy)),
        mutations().map(lambda policy: ("yaml", policy)),
        st.binary(max_size=200).map(lambda raw: ("raw", raw)),
        st.text(max_size=200).map(lambda text: ("text", text)),
    ),
)
def test_any_policy_file_loads_or_is_refused(suffix, content):
    kind, value = content
    path = DIRECTORY / f"policy{suffix}"
    if kind == "raw":
        path.write_bytes(value)
    elif kind == "text":
        path.write_bytes(value.encode("utf-8", "surrogatepass"))
    elif kind == "json":
        path.write_text(json.dumps(value, allow_nan=True), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(value), encoding="utf-8")
    loads(path)

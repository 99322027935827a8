"""Policies load from dicts, YAML, TOML and JSON; malformed ones fail at load naming the field."""

from __future__ import annotations

import json

import limits
import pytest
from hypothesis import given
from hypothesis import strategies as st

from patternlimit.errors import ConfigurationError
from patternlimit.policy.compile import NEVER, compile_policy, quick_key_item
from patternlimit.policy.loading import load_policy
from patternlimit.policy.models import LimitRule, PatternRule, Policy
from patternlimit.policy.presets import DISTILLATION_DEFENSE
from patternlimit.policy.standing import Standing

EXAMPLE = {
    "name": "example",
    "window": "30m",
    "buckets": 6,
    "context": {"young_age": "3d", "trusted_age": "60d", "unknown_age": "established"},
    "escalation": {"account_penalty": "2h", "memory": "12h", "network_taint": 2, "block_after": 3},
    "rules": [
        {"type": "limit", "name": "per-account", "limit": "100/minute", "per": "account"},
        {
            "type": "pattern",
            "name": "fan-out",
            "pattern": "template",
            "when": {"young_accounts": {"min": 25}, "young_share": {"min": 0.6}},
            "retry_after": "10m",
        },
        {"type": "pattern", "name": "proxy", "pattern": "template+network", "when": {"accounts": {"min": 5}}},
    ],
}

YAML = """
name: example
window: 30m
context: {young_age: 3d, trusted_age: 60d, unknown_age: established}
escalation: {account_penalty: 2h, memory: 12h, network_taint: 2, block_after: 3}
rules:
  - {type: limit, name: per-account, limit: 100/minute, per: account}
  - type: pattern
    name: fan-out
    pattern: template
    when: {young_accounts: {min: 25}, young_share: {min: 0.6}}
    retry_after: 10m
  - {type: pattern, name: proxy, pattern: template+network, when: {accounts: {min: 5}}}
"""

TOML = """
name = "example"
window = "30m"
[context]
young_age = "3d"
trusted_age = "60d"
unknown_age = "established"
[escalation]
account_penalty = "2h"
memory = "12h"
network_taint = 2
block_after = 3
[[rules]]
type = "limit"
name = "per-account"
limit = "100/minute"
per = "account"
[[rules]]
type = "pattern"
name = "fan-out"
pattern = "template"
retry_after = "10m"
when = { young_accounts = { min = 25 }, young_share = { min = 0.6 } }
[[rules]]
type = "pattern"
name = "proxy"
pattern = "template+network"
when = { accounts = { min = 5 } }
"""


def test_the_same_policy_from_a_dict_yaml_toml_and_json(tmp_path):
    from_dict = load_policy(EXAMPLE)
    (tmp_path / "p.yaml").write_text(YAML)
    (tmp_path / "p.toml").write_text(TOML)
    (tmp_path / "p.json").write_text(json.dumps(EXAMPLE))
    for name in ("p.yaml", "p.toml", "p.json"):
        assert load_policy(tmp_path / name) == from_dict, name
    assert from_dict.window == 1800.0 and from_dict.context.young_age == 3 * 86400.0
    assert isinstance(from_dict.rules[0], LimitRule) and isinstance(from_dict.rules[1], PatternRule)
    assert from_dict.rules[1].retry_after == 600.0


def test_defaults_and_presets():
    assert load_policy(None) is DISTILLATION_DEFENSE
    assert load_policy("distillation-defense") is DISTILLATION_DEFENSE
    assert load_policy(DISTILLATION_DEFENSE) is DISTILLATION_DEFENSE
    compiled = compile_policy(DISTILLATION_DEFENSE)
    assert compiled.kinds[0] == "template" and compiled.needs_text


def test_weighted_limits_scale_by_standing():
    compiled = compile_policy(load_policy(EXAMPLE))
    items = compiled.limit_rules[0].items
    assert [items[standing].amount for standing in sorted(items)] == [100, 200, 50]  # established, trusted, young


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"window": "soon"}, "window"),
        ({"window": -5}, "window"),
        ({"buckets": 0}, "buckets"),
        ({"colour": "blue"}, "colour"),
        ({"rules": [{"type": "limit", "name": "x", "limit": "lots"}]}, "rules.0.limit"),
        (
            {"rules": [{"type": "pattern", "name": "x", "pattern": "templat", "when": {"hits": {"min": 1}}}]},
            "rules.0.pattern",
        ),
        (
            {"rules": [{"type": "pattern", "name": "x", "pattern": "template", "when": {"popularity": {"min": 1}}}]},
            "rules.0.when.popularity",
        ),
        (
            {"rules": [{"type": "pattern", "name": "x", "pattern": "template", "when": {"hits": {}}}]},
            "rules.0.when.hits",
        ),
        (
            {
                "rules": [
                    {"type": "pattern", "name": "x", "pattern": "template", "when": {"hits": {"min": 5, "max": 1}}}
                ]
            },
            "rules.0.when.hits",
        ),
        ({"rules": [{"type": "pattern", "name": "x", "pattern": "template", "when": {}}]}, "rules.0.when"),
        ({"rules": [{"type": "magic", "name": "x"}]}, "rules.0"),
        (
            {
                "rules": [
                    {"type": "limit", "name": "a", "limit": "1/second"},
                    {"type": "limit", "name": "a", "limit": "2/second"},
                ]
            },
            "unique",
        ),
        ({"context": {"young_age": "30d", "trusted_age": "7d"}}, "context"),
        ({"capacity": {"count_width": 1000}}, "capacity.count_width"),
    ],
)
def test_malformed_policies_fail_at_load_naming_the_field(change, field):
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        load_policy({**EXAMPLE, **change})


def test_bad_files_are_configuration_errors(tmp_path):
    (tmp_path / "broken.toml").write_text("name = ")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "policy.ini").write_text("x=1")
    (tmp_path / "broken.yaml").write_text("rules: [unclosed")
    for name, message in [
        ("broken.toml", "not valid TOML"),
        ("list.json", "mapping at the top level"),
        ("policy.ini", "use .yaml"),
        ("missing.yaml", "does not exist"),
        ("broken.yaml", "not valid YAML"),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            load_policy(tmp_path / name)
    with pytest.raises(ConfigurationError, match="preset name"):
        load_policy(42)  # type: ignore[arg-type]


def test_policies_are_frozen():
    policy = Policy()
    with pytest.raises(Exception, match="frozen"):
        policy.window = 5  # type: ignore[misc]


def test_each_standing_is_gated_by_the_rules_that_apply_to_it():
    compiled = compile_policy(DISTILLATION_DEFENSE)
    # every pattern rule of the preset applies to young accounts; the smallest floor is the network rule's 20
    assert compiled.gates == {Standing.YOUNG: 20, Standing.ESTABLISHED: NEVER, Standing.TRUSTED: NEVER}
    assert compiled.gate == 20
    every = tuple(range(len(compiled.pattern_rules)))
    assert len(every) >= 3 and compiled.applicable[Standing.YOUNG] == every
    assert compiled.applicable[Standing.TRUSTED] == ()
    mixed = compile_policy(
        load_policy(
            {
                "rules": [
                    {"type": "pattern", "name": "y", "pattern": "template", "when": {"accounts": {"min": 9}}},
                    {
                        "type": "pattern",
                        "name": "all",
                        "pattern": "network",
                        "when": {"hits": {"min": 30}},
                        "applies_to": "all",
                    },
                ]
            }
        )
    )
    assert mixed.gates == {Standing.YOUNG: 9, Standing.ESTABLISHED: 30, Standing.TRUSTED: 30}
    assert mixed.applicable[Standing.ESTABLISHED] == (1,)
    assert compile_policy(load_policy({"rules": [{"type": "limit", "name": "l", "limit": "5/second"}]})).gate == NEVER


@given(
    rate=st.sampled_from(["600/minute", "5 per 2 hours", "10/second", "3/day", "7 per 30 seconds"]),
    identifiers=st.lists(st.one_of(st.text(max_size=20), st.binary(max_size=5).map(bytes), st.integers()), max_size=3),
)
def test_quick_key_items_name_their_keys_as_limits_does(rate, identifiers):
    base = limits.parse(rate)
    quick = quick_key_item(type(base))(base.amount, base.multiples, namespace="PL:rule")
    plain = type(base)(base.amount, base.multiples, namespace="PL:rule")
    try:
        expected = plain.key_for(*identifiers)
    except UnicodeDecodeError:
        return  # limits' own error for non-UTF-8 bytes, which the engine never passes
    assert quick.key_for(*identifiers) == expected
    assert quick == plain and quick.get_expiry() == plain.get_expiry() and str(quick) == str(plain)
    assert isinstance(quick, type(base)) and quick_key_item(type(base)) is type(quick)


def test_limit_rules_use_quick_key_items():
    compiled = compile_policy(DISTILLATION_DEFENSE)
    (rule,) = compiled.limit_rules
    item = rule.items[Standing.ESTABLISHED]
    assert item.key_for("a1f") == "PL:account-rate/a1f/600/1/minute"
    assert type(item).__name__.startswith("Quick")

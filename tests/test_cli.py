"""The ``patternlimit`` command: ``warm`` compiles (or loads from the cache) every kernel a limiter runs;
``--version``, ``--help`` and ``check-policy``."""

from __future__ import annotations

import pytest

import patternlimit
from patternlimit._kernels.batch import observe_batch
from patternlimit._kernels.packed import observe_one_packed
from patternlimit._kernels.text import text_fingerprint, text_fingerprint_many
from patternlimit.cli import main


def test_warm_runs_every_path_that_calls_a_kernel(capsys):
    assert main(["warm"]) == 0
    assert "kernels compiled or loaded from numba's cache in" in capsys.readouterr().out
    for kernel in (observe_one_packed, observe_batch, text_fingerprint, text_fingerprint_many):
        assert kernel.signatures, kernel  # compiled (or loaded) in this process: the cache holds it


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"patternlimit {patternlimit.__version__}"


def test_help_is_plain_text_not_rest(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "check-policy" in out and "simulate" in out and "``" not in out and ":func:" not in out


def test_check_policy_summarises_a_valid_file(tmp_path, capsys):
    policy = tmp_path / "policy.toml"
    policy.write_text('shadow = true\n[[rules]]\ntype = "limit"\nname = "account-rate"\nlimit = "100/minute"\n')
    assert main(["check-policy", str(policy)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{policy}: valid policy: 1 rules (1 limit, 0 pattern, 0 shadowed); policy shadow mode on"]


BAD = """\
rules:
  - name: no-type
  - type: limit
    name: y
    limit: bogus
escalation: {memory: -1}
bad: 1
"""


def test_check_policy_names_every_field_at_fault_in_plain_words_and_exits_2(tmp_path, capsys):
    policy = tmp_path / "policy.yaml"
    policy.write_text(BAD)
    assert main(["check-policy", str(policy)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"patternlimit: {policy}: 4 problems:"
    problems = {line.strip().partition(":")[0]: line for line in err[1:]}
    assert set(problems) == {"rules.0", "rules.1.limit", "escalation.memory", "bad"}
    assert "needs a 'type': 'pattern' or 'limit'" in problems["rules.0"] and "discriminator" not in "".join(err)
    assert "'bogus'" in problems["rules.1.limit"] and "greater than 0 (got -1)" in problems["escalation.memory"]
    assert "not a known field" in problems["bad"]


def test_check_policy_on_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["check-policy", str(tmp_path / "nope.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err

"""The ``patternlimit`` command: ``warm`` compiles (or loads from the cache) every kernel a limiter runs;
``--version``, ``--help`` and ``check-policy``."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

import patternlimit
from patternlimit._kernels.batch import observe_batch
from patternlimit._kernels.packed import observe_one_packed
from patternlimit._kernels.text import text_fingerprint, text_fingerprint_many
from patternlimit.cli import main


def test_warm_runs_every_path_that_calls_a_kernel(capsys):
    assert main(["warm"]) == 0
    out = capsys.readouterr().out
    assert "kernels compiled or loaded from numba's cache in" in out
    assert "cache: none" not in out  # where a fresh process will load them from
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


TOP_SECRET = "a deployment secret for the top command test"


@pytest.fixture(scope="module")
def running_limiter():  # type: ignore[no-untyped-def]
    """A limiter on a real Redis that has seen a campaign and shipped it: ``(url, limiter)``."""
    from patternlimit import Limiter
    from patternlimit._testing import traffic
    from patternlimit._testing.redis_server import redis_url

    with redis_url() as url:
        shared = f"{url}?namespace=top-test"
        limiter = Limiter(
            storage=shared, secret=TOP_SECRET, storage_options={"sync_interval": 0.05, "share_labels": True}
        )
        try:
            # The campaign's two hours end just now, so that the patterns are in the window at the wall clock.
            offset = time.time() - 7300 - traffic.START
            for now, request in traffic.campaign(accounts=150, per_account=8, prefixes=4):
                created = request.account_created_at
                assert created is not None
                limiter.check(replace(request, account_created_at=created + offset), now + offset)
            limiter.sync()
            yield shared, limiter
        finally:
            limiter.close()


def test_top_prints_the_running_limiters_heaviest_patterns_from_redis(running_limiter, monkeypatch, capsys):
    url, limiter = running_limiter
    monkeypatch.setenv("PATTERNLIMIT_SECRET", TOP_SECRET)
    assert main(["top", "--storage", url, "-n", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    # Labels are made by a serving process from the samples it keeps (here, on its own top_patterns call, as a
    # metrics scrape makes them) and shared from then on; until then top knows the key and its counts only.
    expected = limiter.top_patterns(5)
    assert [(row["key"], row["hits"], row["flagged_by"]) for row in rows] == [
        (row.key, row.hits, row.flagged_by) for row in expected
    ]
    assert rows[0]["flagged_by"] is not None and rows[0]["young_accounts"] > 50  # the campaign's template
    limiter.sync()
    assert main(["top", "--storage", url, "-n", "3", "--json"]) == 0
    labelled = json.loads(capsys.readouterr().out)
    assert [(row["kind"], row["label"]) for row in labelled] == [(row.kind, row.label) for row in expected[:3]]
    assert main(["top", "--storage", url, "-n", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "sketch estimates" in lines[0] and f"secret {limiter.secret_id}" in lines[0]
    assert lines[1].split()[:3] == ["#", "kind", "hits"] and len(lines) == 5
    assert lines[2].split()[:3] == ["1", expected[0].kind, str(expected[0].hits)]


def test_top_refuses_a_missing_secret_a_wrong_secret_and_memory_storage(running_limiter, monkeypatch, capsys):
    url, _ = running_limiter
    monkeypatch.delenv("PATTERNLIMIT_SECRET", raising=False)
    assert main(["top", "--storage", url]) == 2
    assert "needs the deployment's secret" in capsys.readouterr().err
    assert main(["top", "--storage", "memory://"]) == 2
    assert "lives inside its own process" in capsys.readouterr().err
    monkeypatch.setenv("PATTERNLIMIT_SECRET", "another secret, of another deployment")
    limiter_snapshot = running_limiter[1]
    assert limiter_snapshot._replicator is not None and limiter_snapshot._replicator.publish_snapshot()
    assert main(["top", "--storage", url]) == 2
    assert "another secret" in capsys.readouterr().err

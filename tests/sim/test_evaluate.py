"""The evaluation's arithmetic on a tiny hand-made stream, and the CLI at a small scale."""

from __future__ import annotations

import json

import pytest

from patternlimit import Request
from patternlimit.cli import main
from patternlimit.sim.evaluate import evaluate
from patternlimit.sim.scenarios import Labelled

START = 1_760_000_000.0
OLD = START - 400 * 86400

POLICY = {
    "rules": [
        {"type": "limit", "name": "acct", "limit": "2/minute", "per": "account", "weighted": False},
        {
            "type": "pattern",
            "name": "same-template",
            "pattern": "template",
            "when": {"hits": {"min": 3}},
            "applies_to": "all",
        },
    ],
    "escalation": {"account_penalty": 0, "network_taint": 0},
}


def labelled(second: float, account: str, text: str, scenario: str, campaign: bool = False) -> Labelled:
    request = Request(account=account, ip="203.0.113.1", text=text, account_created_at=OLD)
    return Labelled(START + second, request, scenario, campaign)


def test_the_arithmetic_on_a_hand_made_stream():
    stream = [
        # campaign: one template from five accounts; the 3rd, 4th and 5th requests meet "hits >= 3"
        labelled(0, "c1", "Translate this sentence into French please", "campaign", True),
        labelled(1, "c2", "Translate this sentence into French please", "campaign", True),
        labelled(2, "c3", "Translate this sentence into French please", "campaign", True),
        labelled(3, "c4", "Translate this sentence into French please", "campaign", True),
        labelled(4, "c5", "Translate this sentence into French please", "campaign", True),
        # legitimate: one account, distinct texts, over its own 2/minute limit on the 3rd request
        labelled(5, "ok", "first unrelated question about gardening", "organic"),
        labelled(6, "ok", "second unrelated question about cooking", "organic"),
        labelled(7, "ok", "third unrelated question about sailing", "organic"),
    ]
    result = evaluate(stream, policy=POLICY, chunk=3)
    campaign, organic = result.scenarios["campaign"], result.scenarios["organic"]
    assert (campaign.requests, campaign.allowed, campaign.throttled, campaign.own_limit) == (5, 2, 3, 0)
    assert campaign.leak == pytest.approx(2 / 5) and campaign.time_to_first_stop == 2.0
    assert campaign.baseline_allowed == 5 and campaign.baseline_leak == 1.0  # one request per account
    assert (organic.requests, organic.allowed, organic.throttled, organic.own_limit) == (3, 2, 1, 1)
    assert organic.pattern_stopped == 0 and organic.false_positive_rate == 0.0  # its own limit is not an FP
    assert organic.baseline_allowed == 2
    assert result.requests == 8 and result.decisions_per_second > 0 and result.limiter_bytes > 0
    document = result.as_dict()
    assert document["campaign_leak"] == pytest.approx(0.4) and document["max_false_positive_rate"] == 0.0
    assert sum(hour[0] + hour[1] for hour in campaign.timeline.values()) == 5


def test_the_cli_runs_a_small_simulation_and_writes_the_documented_json(tmp_path, capsys):
    output = tmp_path / "metrics.json"
    code = main(["simulate", "--scale", "0.02", "--hours", "3", "--seed", "3", "--json", str(output)])
    assert code == 0
    assert "patternlimit simulate" in capsys.readouterr().out
    document = json.loads(output.read_text())
    for field in ("seed", "scale", "hours", "requests", "decisions_per_second", "limiter_bytes", "campaign_leak"):
        assert field in document
    for row in document["scenarios"]:
        assert {"scenario", "requests", "leak", "false_positive_rate", "baseline_leak"} <= set(row)
    assert document["requests"] == sum(row["requests"] for row in document["scenarios"])


def test_bad_cli_arguments_are_reported(capsys):
    assert main(["simulate", "--scale", "0"]) == 2
    assert "--scale" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--scenario", "nonsense"])


def test_nothing_outside_sim_reads_labels_or_knows_scenario_names():
    from pathlib import Path

    from patternlimit.sim import SCENARIOS

    package = Path(__file__).resolve().parents[2] / "patternlimit"
    for path in package.rglob("*.py"):
        if "sim" in path.relative_to(package).parts:
            continue
        if path.relative_to(package).parts[0] == "replay":
            continue  # replay scores a log's label column ("campaign", "legitimate"); it never gives it to a limiter
        text = path.read_text()
        assert "Labelled" not in text and ".campaign" not in text, path
        for name in SCENARIOS:
            assert f'"{name}"' not in text and f"'{name}'" not in text, (path, name)


def test_plot_draws_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    output = tmp_path / "timeline.png"
    assert main(["simulate", "--scale", "0.02", "--hours", "3", "--plot", str(output)]) == 0
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _figures(seed: int) -> dict[str, object]:
    from patternlimit.sim import generate

    return evaluate(generate(seed, scale=0.05, duration_hours=8)).as_dict()


def test_the_same_seed_gives_the_same_table_and_another_seed_a_close_one():
    first, again, other = _figures(3), _figures(3), _figures(4)
    for document in (first, again, other):
        document.pop("seconds"), document.pop("decisions_per_second"), document.pop("peak_rss_bytes")
    assert first == again
    assert other != first
    # Stated tolerance between seeds at this small scale (a twentieth of the default, eight hours): total requests
    # within 10%, each scenario with 500+ requests within 25%, the campaign leak within 20 points. At full scale
    # seeds agree far more closely (docs/simulate.md gives two seeds' figures).
    assert abs(other["requests"] - first["requests"]) <= 0.10 * first["requests"]
    by_name = {row["scenario"]: row for row in first["scenarios"]}
    for row in other["scenarios"]:
        expected = by_name[row["scenario"]]["requests"]
        if expected >= 500:
            assert abs(row["requests"] - expected) <= 0.25 * expected, row["scenario"]
    assert abs(other["campaign_leak"] - first["campaign_leak"]) <= 0.20

"""``simulate --write-jsonl`` and ``replay`` agree on one stream: the same decisions, scenario by scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patternlimit.cli import main
from patternlimit.sim.evaluate import SIMULATION_SECRET

COMPARED = ("requests", "allowed", "logged", "throttled", "blocked", "own_limit", "baseline_allowed")


def test_replaying_simulates_jsonl_gives_simulates_decisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    traffic, simulated, replayed = tmp_path / "traffic.jsonl.gz", tmp_path / "sim.json", tmp_path / "replay.json"
    # 6 simulated hours at a fifth of the volume: about 17,000 requests, the campaign caught in the last hours
    assert (
        main(["simulate", "--scale", "0.2", "--hours", "6", "--json", str(simulated), "--write-jsonl", str(traffic)])
        == 0
    )
    monkeypatch.setenv("PATTERNLIMIT_SECRET", SIMULATION_SECRET.decode())
    assert main(["replay", str(traffic), "--quiet", "--json", str(replayed)]) == 0
    capsys.readouterr()
    expected = {item["scenario"]: item for item in json.loads(simulated.read_text())["scenarios"]}
    document = json.loads(replayed.read_text())
    got = {item["scenario"]: item for item in document["scenarios"]}
    assert document["bad_lines"] == 0 and sorted(got) == sorted(expected)
    for scenario, metrics in expected.items():
        assert {name: got[scenario][name] for name in COMPARED} == {name: metrics[name] for name in COMPARED}, scenario
    assert expected["campaign"]["throttled"] > 0  # the comparison covers stops, not only allows
    assert document["labels"]["campaign"]["requests"] == expected["campaign"]["requests"]
    assert document["labels"]["legitimate"]["requests"] == sum(
        metrics["requests"] for metrics in expected.values() if not metrics["campaign"]
    )


def test_written_lines_carry_the_ground_truth_beside_the_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traffic = tmp_path / "traffic.jsonl"
    assert main(["simulate", "--scale", "0.02", "--hours", "1", "--write-jsonl", str(traffic)]) == 0
    capsys.readouterr()
    lines = [json.loads(line) for line in traffic.read_text().splitlines()]
    assert lines and {line["label"] for line in lines} <= {"legitimate", "campaign"}
    assert all(set(line) >= {"timestamp", "account", "ip", "text", "label", "scenario"} for line in lines)
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)

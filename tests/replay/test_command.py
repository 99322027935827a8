"""``patternlimit replay`` end to end: the JSON document, the serving limiter's decisions, the report and the
threshold suggestions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from patternlimit import Limiter, Request, load_policy
from patternlimit.cli import main
from tests.replay.conftest import SECRET, START, traffic, write_jsonl

POLICY = {
    "name": "tiny",
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


def run(arguments: list[str]) -> int:
    return main(["replay", "--quiet", *arguments])


def test_the_json_document(tmp_path: Path, secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    text = "Translate this sentence into French please"
    rows = [{"timestamp": START + index, "account": f"c{index}", "text": text} for index in range(5)]
    rows += [
        {"timestamp": START + 5 + index, "account": "ok", "text": f"question {index} about {topic}"}
        for index, topic in enumerate(("gardening", "cooking", "sailing"))
    ]
    log = write_jsonl(tmp_path / "log.jsonl", rows, extra_lines={4: "{not json"})
    out = tmp_path / "out.json"
    assert run([str(log), "--policy", str(policy), "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["requests"] == 8 and document["bad_lines"] == 1
    assert document["bad_line_samples"][0]["line"] == 4
    assert document["seconds"] > 0 and document["policy"] == "tiny" and document["secret_given"] is True
    # the 3rd, 4th and 5th copies of the template meet "hits >= 3"; "ok" is over its 2/minute on its 3rd request
    assert document["actions"] == {"allow": 4, "log": 0, "throttle": 4, "block": 0}
    assert document["rules"] == {"acct": {"throttle": 1}, "same-template": {"throttle": 3}}
    assert document["baseline"] == {"rate": "2/minute", "stopped": 1, "allowed": 7}
    [pattern] = document["stopped_patterns"]
    assert pattern["rule"] == "same-template" and pattern["stopped"] == 3 and pattern["accounts_seen"] == 3
    assert pattern["sample"]["text"] == text and pattern["sample"]["where"].endswith(
        "log.jsonl:3"
    )  # c2, the first stopped
    printed = capsys.readouterr().out
    [affected] = [entry for entry in document["accounts"] if entry["account"] == "c4"]
    assert affected["stopped"] == 1 and affected["rules"] == {"same-template": 1}
    assert affected["sample"]["account"] == "c4" and affected["sample"]["where"].endswith("log.jsonl:6")
    assert "1 bad lines" in printed and "log.jsonl:4" in printed and "same-template" in printed


def test_a_replay_decides_as_the_serving_limiter_with_the_same_secret(tmp_path: Path) -> None:
    rows = traffic()
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    out = tmp_path / "out.json"
    assert (
        run([str(write_jsonl(tmp_path / "log.jsonl", rows)), "--secret-file", str(secret_file), "--json", str(out)])
        == 0
    )
    document = json.loads(out.read_text())
    serving = Limiter(load_policy(None), secret=SECRET)
    actions: Counter[str] = Counter()
    rules: dict[str, Counter[str]] = {}
    for row in rows:
        fields = {key: value for key, value in row.items() if key not in {"timestamp", "label"}}
        decision = serving.check(Request(**fields), now=row["timestamp"])
        actions[decision.action.value] += 1
        if decision.rule is not None:
            rules.setdefault(decision.rule, Counter())[decision.action.value] += 1
    assert document["actions"] == {action: actions[action] for action in ("allow", "log", "throttle", "block")}
    assert document["rules"] == {rule: dict(counts) for rule, counts in rules.items()}
    assert document["actions"]["throttle"] > 20  # the campaign is caught, so the comparison means something
    labels = document["labels"]
    assert labels["legitimate"]["pattern_stopped"] == 0 and labels["campaign"]["pattern_stopped"] > 20


def test_a_wrong_secret_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short"
    short.write_text("tiny")
    log = write_jsonl(tmp_path / "log.jsonl", traffic()[:3])
    assert run([str(log), "--secret-file", str(short)]) == 2
    assert "at least 16" in capsys.readouterr().err


def test_the_report_is_self_contained_and_has_its_charts(tmp_path: Path, secret: str) -> None:
    report = tmp_path / "report.html"
    assert run([str(write_jsonl(tmp_path / "log.jsonl.gz", traffic())), "--report", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert page.count("<svg") >= 5  # two timelines, three histograms
    for title in (
        "Served vs stopped",
        "Stopped, by rule",
        "Young accounts per pattern",
        "Young share per pattern",
        "Filler diversity per pattern",
        "Patterns nearest each threshold",
        "Threshold sweep",
    ):
        assert title in page, title
    assert "template-fan-out ≥ 40" in page  # the preset's threshold drawn on the histogram
    assert page.count("<rect") > 50  # bars


def test_threshold_suggestions_from_labels(tmp_path: Path, secret: str) -> None:
    log = write_jsonl(tmp_path / "log.jsonl", traffic())
    suggested, out = tmp_path / "suggested.json", tmp_path / "out.json"
    report = tmp_path / "report.html"
    options = ["--suggest-policy", str(suggested), "--fp-budget", "0.01", "--json", str(out), "--report", str(report)]
    assert run([str(log), *options]) == 0
    suggestion = json.loads(out.read_text())["suggestion"]
    sweep = report.read_text(encoding="utf-8").split("Threshold sweep", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]+)</td><td class='n'>([^<]+)</td>", sweep)
    rounds = [f"measured, round {number}" for number in range(1, len(suggestion["measured"]) + 1)]
    assert [name for name, _ in rows] == ["policy as replayed", "estimate (probe)", *rounds]
    assert rows[0][1] == "1"
    assert float(rows[-1][1]) == pytest.approx(suggestion["measured"][-1]["scale"], rel=1e-2)
    assert suggestion["legitimate_requests"] == 160 and suggestion["rest_requests"] == 180
    assert suggestion["within_budget"] is True
    final = suggestion["measured"][-1]
    assert final["false_positive_rate"] <= 0.01
    # legitimate traffic here is old accounts, which pattern rules never touch: the suggestion tightens, and
    # stops more of the campaign than the preset does
    assert final["scale"] < 1.0 and final["rest_stopped_share"] > suggestion["current"]["rest_stopped_share"]
    policy = load_policy(suggested)
    by_name = {rule.name: rule for rule in policy.rules}
    minimum = by_name["template-fan-out"].when["young_accounts"].min  # type: ignore[union-attr]
    assert minimum == suggestion["thresholds"]["template-fan-out"]["suggested"] and minimum < 40
    assert by_name["template-fan-out"].when["young_share"].min == 0.5  # type: ignore[union-attr]


def test_legit_accounts_file_marks_unlabelled_traffic(tmp_path: Path, secret: str) -> None:
    rows = [{key: value for key, value in row.items() if key != "label"} for row in traffic()]
    accounts = tmp_path / "legit.txt"
    accounts.write_text("# known-good customers\n" + "\n".join(f"old-{index}" for index in range(40)) + "\n")
    out = tmp_path / "out.json"
    log = write_jsonl(tmp_path / "log.jsonl", rows)
    assert run([str(log), "--legit-accounts", str(accounts), "--json", str(out)]) == 0
    suggestion = json.loads(out.read_text())["suggestion"]
    assert suggestion["legitimate_requests"] == 160 and suggestion["rest_requests"] == 180


def test_a_policy_over_the_budget_is_loosened(tmp_path: Path, secret: str) -> None:
    rows = traffic()
    for row in rows:  # half the campaign's accounts are a customer's own young accounts, marked legitimate
        if row["account"].startswith("young-") and int(row["account"].split("-")[1]) % 2 == 0:
            row["label"] = "legitimate"
    log, suggested, out = write_jsonl(tmp_path / "log.jsonl", rows), tmp_path / "s.json", tmp_path / "out.json"
    assert run([str(log), "--suggest-policy", str(suggested), "--json", str(out)]) == 0
    suggestion = json.loads(out.read_text())["suggestion"]
    assert suggestion["current"]["false_positive_rate"] > 0.05  # the preset stops these legitimate requests
    final = suggestion["measured"][-1]
    assert final["scale"] > 1.0 and final["false_positive_rate"] <= suggestion["budget"] == 0.001
    assert suggestion["within_budget"] is True
    by_name = {rule.name: rule for rule in load_policy(suggested).rules}
    minimum = by_name["template-fan-out"].when["young_accounts"].min  # type: ignore[union-attr]
    assert minimum == suggestion["thresholds"]["template-fan-out"]["suggested"] > 40

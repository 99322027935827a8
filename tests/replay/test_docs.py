"""The ``patternlimit replay`` commands in docs/replay.md run, on small files made here under the names they use."""

from __future__ import annotations

import csv
import json
import re
import shlex
import time
from pathlib import Path

import pytest

from patternlimit.cli import main
from tests.replay.conftest import SECRET, traffic, write_jsonl

DOC = Path(__file__).resolve().parents[2] / "docs" / "replay.md"
OUTPUT_OPTIONS = ("--json", "--report", "--suggest-policy")


def documented_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.startswith("patternlimit replay")]


def make_logs(folder: Path) -> None:
    rows = traffic()
    write_jsonl(folder / "traffic.jsonl.gz", rows)
    write_jsonl(folder / "unlabelled.jsonl", [{k: v for k, v in row.items() if k != "label"} for row in rows])
    (folder / "legit.txt").write_text("\n".join(f"old-{index}" for index in range(40)) + "\n")
    (folder / "serving.secret").write_text(SECRET + "\n")
    with (folder / "access.log").open("w", encoding="utf-8") as out:
        for row in rows:
            clock = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(row["timestamp"]))
            body = row["text"].replace("\\", "\\x5C").replace('"', "\\x22")
            out.write(
                f'{row["ip"]} - {row["account"]} [{clock}] "POST {row["route"]} HTTP/1.1" 200 512 "-" '
                f'"{row["client"]}" "{body}"\n'
            )
    with (folder / "requests.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["time", "user_id", "prompt", "client_ip"])
        for row in rows:
            writer.writerow([row["timestamp"], row["account"], row["text"], row["ip"]])
    with (folder / "app.log").open("w", encoding="utf-8") as out:
        for row in rows[:50]:
            out.write(f"{row['timestamp']} user={row['account']} ip={row['ip']} prompt={row['text']}\n")


def test_the_documented_commands_cover_every_format_and_output() -> None:
    commands = " ".join(documented_commands())
    for needle in (".jsonl", "access.log", ".csv", "--log-regex", *OUTPUT_OPTIONS, "--legit-accounts", "--policy"):
        assert needle in commands, needle


@pytest.mark.parametrize("command", documented_commands())
def test_a_documented_command_runs(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_logs(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATTERNLIMIT_SECRET", SECRET)
    arguments = shlex.split(command)[1:]
    if "--policy" in arguments:  # the command that checks a suggestion needs one written first
        assert main(["replay", "--quiet", "traffic.jsonl.gz", "--suggest-policy", "suggested.json"]) == 0
    assert main([*arguments, "--quiet"]) == 0, command
    printed = capsys.readouterr().out
    assert "decisions by rule and action" in printed and re.search(r" 0 bad\s+lines", printed), printed[:500]
    for option in OUTPUT_OPTIONS:
        if option in arguments:
            written = tmp_path / arguments[arguments.index(option) + 1]
            assert written.stat().st_size > 0, option
    if "--json" in arguments:
        document = json.loads((tmp_path / arguments[arguments.index("--json") + 1]).read_text())
        assert document["requests"] == 340

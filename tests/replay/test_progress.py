"""The progress bar: the runner reports bytes read and requests decided after each chunk, and the command draws
them on a terminal."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from patternlimit.replay.command import _with_progress
from patternlimit.replay.runner import replay
from tests.replay.conftest import SECRET, traffic, write_jsonl


def test_the_runner_reports_progress_after_each_chunk(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "log.jsonl", traffic())
    calls: list[tuple[int, int, int]] = []
    result = replay([log], secret=SECRET.encode(), chunk=100, progress=lambda *call: calls.append(call))
    size = log.stat().st_size
    assert calls[0] == (0, size, 0)
    assert [call[2] for call in calls[1:]] == [100, 200, 300, 340] == [*range(100, 340, 100), result.requests]
    consumed = [call[0] for call in calls]
    assert consumed == sorted(consumed) and consumed[-1] == size and all(call[1] == size for call in calls)


def test_the_bar_is_drawn_on_a_terminal(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "log.jsonl", traffic())
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    result = _with_progress(
        console, True, lambda progress: replay([log], secret=SECRET.encode(), chunk=100, progress=progress)
    )
    assert result.requests == 340
    assert "replaying" in screen.getvalue() and "340 requests" in screen.getvalue()
    quiet = io.StringIO()
    _with_progress(
        Console(file=quiet, force_terminal=True), False, lambda progress: replay([log], secret=SECRET.encode())
    )
    assert quiet.getvalue() == ""

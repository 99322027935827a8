"""The HTML report opens in headless Chromium from disk and draws its charts (the screenshot is kept as an artifact
in pytest's temporary directory, ``report.png``, and copied into ``$PATTERNLIMIT_ARTIFACTS`` when that is set)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from patternlimit.cli import main
from tests.replay.conftest import traffic, write_jsonl

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, png: Path, profile: Path) -> tuple[int, int]:
    """Render ``page`` at 1200x2000 into ``png`` with no network; returns the PNG's width and height."""
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1200,2000",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_report_renders_in_headless_chromium(
    tmp_path: Path, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.html"
    assert (
        main(["replay", "--quiet", str(write_jsonl(tmp_path / "log.jsonl", traffic())), "--report", str(report)]) == 0
    )
    capsys.readouterr()
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    assert screenshot(report, tmp_path / "report.png", tmp_path / "profile") == (1200, 2000)
    assert screenshot(blank, tmp_path / "blank.png", tmp_path / "profile") == (1200, 2000)
    # A page of charts and tables compresses far worse than an empty one (about 150 KB against 10 KB).
    assert (tmp_path / "report.png").stat().st_size > 8 * (tmp_path / "blank.png").stat().st_size
    if os.environ.get("PATTERNLIMIT_ARTIFACTS"):
        folder = Path(os.environ["PATTERNLIMIT_ARTIFACTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "report.png", folder / "replay-report.png")

"""Headless Chromium for the report tests: find it, dump a page's DOM after its scripts ran, take a screenshot.

Debian's chromium package is what CI installs (.ci/run). The flags keep it
from reaching for the network, which is closed here, and from needing a
display or a sandbox (tests run as root in a container).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT

INSTALL_HINT = ("headless Chromium not found: install it with `sudo apt-get install chromium` (Debian, as .ci/run "
                "does) or set CHROMIUM=/path/to/chromium")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                  "--hide-scrollbars")
# Virtual time lets the page's load handlers run before the DOM is dumped, without a fixed sleep.
SCRIPT_BUDGET_MS = 15000
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                 "wbr"}


def chromium_or_skip() -> str:
    """The Chromium executable, or skip the test with the install instructions."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip(INSTALL_HINT)
    return found


def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (RETENTION_TEST_ARTIFACTS, default test-artifacts/)."""
    path = Path(os.environ.get("RETENTION_TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run_chromium(chromium: str, *arguments: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={SCRIPT_BUDGET_MS}",
             *arguments],
            capture_output=True, text=True, timeout=120, check=False,
        )


def rendered_dom(chromium: str, page: Path) -> str:
    """The page's DOM after its scripts ran, serialised as HTML."""
    result = _run_chromium(chromium, "--dump-dom", page.resolve().as_uri())
    assert result.returncode == 0 and result.stdout, result.stderr[-2000:]
    return result.stdout


def screenshot(chromium: str, page: Path, png: Path, width: int = 1400, height: int = 5200) -> Path:
    """A PNG of the page at the given window size."""
    result = _run_chromium(chromium, f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri())
    assert result.returncode == 0 and png.exists(), result.stderr[-2000:]
    return png


class ChartSections(HTMLParser):
    """Per `<section data-chart=...>` of a DOM: how often each class occurs in it, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self._open: list[str | None] = []
        self.classes: dict[str, Counter] = {}
        self.text: dict[str, list[str]] = {}
        self.body_attributes: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "body":
            self.body_attributes = attributes
        chart = attributes.get("data-chart") if tag == "section" else (self._open[-1] if self._open else None)
        if chart:
            self.classes.setdefault(chart, Counter()).update((attributes.get("class") or "").split())
        if tag not in VOID_ELEMENTS:
            self._open.append(chart)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] and data.strip():
            self.text.setdefault(self._open[-1], []).append(data.strip())


def chart_sections(dom: str) -> ChartSections:
    """Parse a dumped DOM into its chart sections."""
    parser = ChartSections()
    parser.feed(dom)
    return parser

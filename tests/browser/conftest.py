"""Browser fixtures: Debian's chromium driven by Playwright (never ``playwright install``).

``console_page`` is a fresh browser profile (its own user-data-dir) with one page; screenshots
go to ``$PRESTA_AX_SCREENSHOTS`` when set (``PRESTA_AX_SCREENSHOTS=docs/console`` refreshes the
docs' images), else to the test's temp folder. Without chromium or a built console the tests
skip with the reason, except in CI (``CI`` set), where they fail: CI installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DIST = Path(__file__).resolve().parents[2] / "console" / "dist"


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must have it: see .ci/run and `make console`)")
    pytest.skip(what)


@pytest.fixture
def console_page(tmp_path: Path) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _missing("Debian's chromium is not installed (apt-get install chromium)")
    if not (DIST / "index.html").is_file():
        _missing("the console is not built (make console, needs Node >= 20)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            ctx.close()


@pytest.fixture
def shots(tmp_path: Path) -> Any:
    """``shots(page, name)`` saves a full-page PNG of the page as ``<name>.png``."""
    folder = Path(os.environ.get("PRESTA_AX_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take

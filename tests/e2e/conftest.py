"""The headless Chromium shared by every browser test (tests/e2e/browser, tests/e2e/docs_browser).

One Playwright driver at a time (per test module): Playwright's sync API cannot run two drivers in
one thread, and a live driver keeps its event loop current, so it is stopped before the next module.
The browser is Debian's ``chromium`` (``scripts/install_test_browser.sh``); Playwright's own download
is never used. A test that needs it skips with a reason when chromium or the ``playwright`` package is
missing, and fails instead under ``ICTBOT_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import services_required

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
LAPTOP_VIEWPORT = {"width": 1366, "height": 900}


def chromium_path() -> str | None:
    """``ICTBOT_CHROMIUM`` if set, else Debian's chromium, else whatever ``chromium`` is on PATH."""
    configured = os.environ.get("ICTBOT_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


def _missing(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} and ICTBOT_REQUIRE_SERVICES=1 (run scripts/install_test_browser.sh)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "browser-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Per module, not per session: Playwright's sync API keeps its event loop current in this thread while
# the driver lives, and every later asyncio test of the session (asyncio.run, pytest-asyncio) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        _missing("chromium not installed (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright; no browser download)")
    with sync_playwright() as driver:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
        launched = driver.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()

"""Real headless Chromium for browser tests, driven by Playwright for Python.

The browser is Debian's ``chromium`` (``scripts/install_test_browser.sh`` installs it); Playwright's
own browser download is never used. A test that needs the browser skips with a reason when
chromium or the ``playwright`` package is missing, and fails instead under
``ICTBOT_REQUIRE_SERVICES=1`` (CI), like the PostgreSQL and NATS tests.

Fixtures:

* ``browser`` (session, tests/e2e/conftest.py): one Chromium process for the whole run.
* ``page`` (function): a fresh context (no cookies, storage or cache shared between tests) at a
  laptop viewport; its console errors are collected in ``page.console_errors`` and a screenshot of
  the page as the test left it is saved to ``artifacts_dir`` (under pytest's ``--basetemp``).
* ``artifacts_dir`` (session, tests/e2e/conftest.py): ``<basetemp>/browser-artifacts``, never in the repository.
* ``demo`` (module): ``ictbot demo`` running on the simulator in a temporary folder, with its URL and
  both tokens (``Demo.dashboard(scope)`` is the login link).
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

import ictbot

LAPTOP_VIEWPORT = {"width": 1366, "height": 900}

@pytest.fixture
def page(browser: Any, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP_VIEWPORT)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.console_errors = errors
    try:
        yield opened
    finally:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:120]
        try:
            opened.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"screenshot of {name} failed: {exc}")
        context.close()


# ---- the app under test: `ictbot demo` as a user runs it ------------------------------------------


@dataclass(frozen=True)
class Demo:
    """A running ``ictbot demo``: its base URL and both API tokens."""

    url: str
    trade_token: str
    read_token: str
    reports: Path  # the demo's --reports folder (empty at start)

    def headers(self, scope: str = "trade") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.trade_token if scope == 'trade' else self.read_token}"}

    def dashboard(self, scope: str = "trade") -> str:
        return f"{self.url}/dashboard#token={self.trade_token if scope == 'trade' else self.read_token}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``ictbot demo`` on the simulator in a fresh folder (API on a free port), stopped with Ctrl-C."""
    workdir = tmp_path_factory.mktemp("demo")
    reports = workdir / "reports"
    reports.mkdir()
    # the ictbot these tests import (a worktree's src/ under PYTHONPATH=src, which the demo's own working
    # directory would not resolve), not whatever ictbot the venv has installed
    source = str(Path(ictbot.__file__).resolve().parents[1])
    env = {**os.environ, "API_PORT": "0", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH", "")]))}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ictbot", "demo", "--no-browser", "--duration", "900", "--reports", str(reports)],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    found: queue.Queue[str] = queue.Queue()

    def drain(stream: IO[str]) -> None:  # keeps reading so the demo never blocks on a full pipe
        for line in stream:
            lines.append(line)
            match = re.search(r"dashboard\s+(http://127\.0\.0\.1:\d+)/", line)
            if match:
                found.put(match.group(1))

    reader = threading.Thread(target=drain, args=(process.stdout,), daemon=True)
    reader.start()
    try:
        try:
            url = found.get(timeout=150)
        except queue.Empty:
            pytest.fail("the demo did not print its dashboard URL:\n" + "".join(lines[-40:]))
        tokens = json.loads((workdir / "data" / "demo" / "api_token").read_text())
        yield Demo(url=url, trade_token=tokens["trade"], read_token=tokens["read"], reports=reports)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)  # the pipe is at its end once the demo exited
        process.stdout.close()

"""The README's first command, as a user runs it: ``ictbot demo`` in a fresh directory.

Starts the real process (simulator + bot + API on 127.0.0.1), checks the API while it runs, and
checks the final summary line after ``--duration`` ends it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_offline_serves_the_api_and_prints_a_summary(tmp_path: Path) -> None:
    env = {**os.environ, "API_PORT": "0", "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ictbot", "demo", "--duration", "30", "--no-browser"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    url = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"dashboard\s+(http://127\.0\.0\.1:\d+)/", line)
        if found:
            url = found.group(1)
            break
    assert url is not None, "".join(lines)

    health = httpx.get(f"{url}/health", timeout=10)
    assert health.status_code in (200, 503)
    assert {"event_bus", "exchange", "execution", "market_data"} <= set(health.json()["components"])
    assert httpx.get(f"{url}/status", timeout=10).status_code == 401, "everything but /health needs a token"
    tokens = json.loads((tmp_path / "data" / "demo" / "api_token").read_text())
    status = httpx.get(f"{url}/status", headers={"Authorization": f"Bearer {tokens['trade']}"}, timeout=10)
    assert status.status_code == 200
    assert status.json()["trading_state"] == "ACTIVE"
    assert set(status.json()["enabled_strategies"]) == {"strategy_a", "strategy_b"}

    out, _ = process.communicate(timeout=120)
    lines.extend(out.splitlines(keepends=True))
    assert process.returncode == 0, "".join(lines[-30:])
    summary = json.loads(lines[-1])
    for key in ("candles", "signals", "orders", "fills", "open_positions", "closed_positions", "equity"):
        assert key in summary
    assert summary["candles"] > 100
    assert summary["orders"] >= summary["closed_positions"]
    assert summary["stop_errors"] == []
    for secret_file in (tmp_path / "logs").glob("*.log"):
        text = secret_file.read_text()
        assert tokens["trade"] not in text and tokens["read"] not in text

"""`ictbot sim`: help text and a real start on a free port (subprocess, stepped mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
from typer.testing import CliRunner

from ictbot.cli.main import app


def test_help_lists_the_flags() -> None:
    result = CliRunner().invoke(app, ["sim", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--data", "--speed", "--host", "--port", "--seed", "--keys", "--balance", "--state"):
        assert flag in result.output


def test_refuses_non_loopback_and_bad_speed() -> None:
    assert CliRunner().invoke(app, ["sim", "--host", "0.0.0.0"]).exit_code == 2
    assert CliRunner().invoke(app, ["sim", "--speed", "-1"]).exit_code == 2


def test_starts_prints_its_url_and_serves() -> None:
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ictbot", "sim", "--speed", "0", "--symbols", "BTCUSDT", "--no-futures",
         "--balance", "USDT=500"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 30
        while True:
            try:
                state = httpx.get(f"{url}/_sim/state", timeout=2).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert state["paused"] is True and list(state["symbols"]) == ["BTCUSDT"]
        assert httpx.post(f"{url}/_sim/step", params={"candles": 2}, timeout=10).json()["played"] == 2
    finally:
        process.terminate()
        process.wait(timeout=20)

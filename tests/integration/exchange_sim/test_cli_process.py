"""`ictbot sim` as a real process: start on a free port, serve, survive kill -9 with --state."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.slow  # process start-ups / the ccxt import dominate


def test_starts_prints_its_url_and_serves() -> None:
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ictbot",
            "sim",
            "--speed",
            "0",
            "--symbols",
            "BTCUSDT",
            "--no-futures",
            "--balance",
            "USDT=500",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
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
        if process.stdout is not None:
            process.stdout.close()  # an open pipe is a ResourceWarning, an error under filterwarnings


def test_killed_process_restarts_from_its_state_file(tmp_path: object) -> None:
    from pathlib import Path
    from urllib.parse import urlencode

    from ictbot.exchange_sim.auth import hmac_signature

    state = Path(str(tmp_path)) / "exchange.state"

    def start() -> tuple[subprocess.Popen[str], str]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ictbot",
                "sim",
                "--speed",
                "0",
                "--symbols",
                "BTCUSDT",
                "--no-futures",
                "--state",
                str(state),
                "--seed",
                "4",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert process.stdout is not None
        return process, process.stdout.readline().strip()

    process, url = start()
    try:
        price = float(httpx.get(f"{url}/api/v3/ticker/price", params={"symbol": "BTCUSDT"}, timeout=5).json()["price"])
        server_time = httpx.get(f"{url}/api/v3/time", timeout=5).json()["serverTime"]
        query = urlencode(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.00100",
                "price": f"{price - 900:.2f}",
                "newClientOrderId": "ict-survivor",
                "timestamp": server_time,
            }
        )
        placed = httpx.post(
            f"{url}/api/v3/order?{query}&signature={hmac_signature('s', query)}",
            headers={"X-MBX-APIKEY": "crash"},
            timeout=5,
        )
        assert placed.json()["status"] == "NEW"
        httpx.post(f"{url}/_sim/step", params={"candles": 3}, timeout=10)
    finally:
        process.kill()  # no clean shutdown: only what was persisted survives
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()  # an open pipe is a ResourceWarning, an error under filterwarnings
    process, url = start()
    try:
        assert httpx.get(f"{url}/api/v3/time", timeout=5).json()["serverTime"] == server_time + 180_000
        query = urlencode({"symbol": "BTCUSDT", "timestamp": server_time + 180_000})
        open_orders = httpx.get(
            f"{url}/api/v3/openOrders?{query}&signature={hmac_signature('s', query)}",
            headers={"X-MBX-APIKEY": "crash"},
            timeout=5,
        ).json()
        assert [o["clientOrderId"] for o in open_orders] == ["ict-survivor"]
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()  # an open pipe is a ResourceWarning, an error under filterwarnings

"""An unmodified third-party client (sync ccxt, wall-clock timestamps) against `ictbot sim` as a process.

The simulator replays 2023 candles at 60× with verified keys; ccxt stamps every signed request with
its own (wall) clock and knows nothing of the replay — the recvWindow check must accept that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ictbot.domain.market import Market
from ictbot.instruments import default_catalogue
from tests.conftest import DATA

ccxt = pytest.importorskip("ccxt")

pytestmark = pytest.mark.slow  # a process start-up and the ccxt import dominate

CANDLES = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2023-10.csv"


def _start_sim(keys: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ictbot", "sim", "--data", str(CANDLES), "--speed", "60", "--no-futures",
         "--keys", str(keys), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/api/v3/ping", timeout=2)
            return process, url
        except httpx.TransportError:
            assert time.monotonic() < deadline, "simulator did not answer"
            time.sleep(0.1)


def _ccxt_client(url: str) -> Any:
    """Plain ccxt Binance, only its spot URLs pointed at the simulator; no clock adjustment."""
    client = ccxt.binance({"apiKey": "ccxtkey", "secret": "ccxtsecret", "enableRateLimit": False})
    for name in ("public", "private", "v1"):
        suffix = client.urls["api"][name].split("binance.com", 1)[1]
        client.urls["api"][name] = f"{url}{suffix}"
    client.options["fetchMarkets"] = ["spot"]  # no /fapi, /dapi, /eapi
    client.options["fetchCurrencies"] = False  # no /sapi/v1/capital/config/getall
    client.options["fetchMargins"] = False
    client.options["adjustForTimeDifference"] = False  # timestamps straight from the wall clock
    return client


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([{"apiKey": "ccxtkey", "secret": "ccxtsecret"}]))
    return path


@pytest.fixture
def sim_url(keys: Path) -> Iterator[str]:
    if not CANDLES.exists():
        pytest.skip(f"{CANDLES} not available")
    process, url = _start_sim(keys)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()  # an open pipe is a ResourceWarning, an error under filterwarnings


def test_ccxt_with_wall_clock_timestamps_trades_against_a_60x_replay(sim_url: str) -> None:
    client = _ccxt_client(sim_url)
    server_ms = httpx.get(f"{sim_url}/api/v3/time", timeout=5).json()["serverTime"]
    assert abs(client.milliseconds() - server_ms) > 365 * 86_400_000  # the replay lives in 2023

    markets = client.load_markets()
    assert "BTC/USDT" in markets and markets["BTC/USDT"]["limits"]["cost"]["min"] == float(
        default_catalogue().instrument("BTCUSDT", Market.SPOT).min_notional)
    candles = client.fetch_ohlcv("BTC/USDT", "5m", limit=20)
    assert len(candles) == 20 and candles[1][0] - candles[0][0] == 300_000

    last = candles[-1][4]
    price = client.price_to_precision("BTC/USDT", last * 0.97)
    order = client.create_order("BTC/USDT", "limit", "buy", 0.001, price, {"clientOrderId": "ccxt-wall"})
    assert order["status"] == "open" and order["clientOrderId"] == "ccxt-wall"
    fetched = client.fetch_order(order["id"], "BTC/USDT")
    assert fetched["status"] == "open" and fetched["amount"] == 0.001 and fetched["price"] == float(price)
    assert client.cancel_order(order["id"], "BTC/USDT")["status"] == "canceled"
    assert client.fetch_order(order["id"], "BTC/USDT")["status"] == "canceled"

    with pytest.raises(ccxt.ExchangeError, match="-1013"):  # 0.0001 BTC ≈ 3 USDT < the catalogue's NOTIONAL (10)
        client.create_order("BTC/USDT", "limit", "buy", 0.0001, price)


def test_strict_time_refuses_wall_clock_timestamps(keys: Path) -> None:
    if not CANDLES.exists():
        pytest.skip(f"{CANDLES} not available")
    process, url = _start_sim(keys, "--strict-time")
    try:
        client = _ccxt_client(url)
        with pytest.raises(ccxt.InvalidNonce, match="-1021"):
            client.fetch_balance()
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()  # an open pipe is a ResourceWarning, an error under filterwarnings

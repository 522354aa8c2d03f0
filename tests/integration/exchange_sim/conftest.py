"""Simulator fixtures: a stepped synthetic exchange on a free port, plus signed-request helpers."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest

from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim import SimConfig, SimulatorServer
from ictbot.exchange_sim.auth import hmac_signature
from ictbot.exchange_sim.market.series import CandleSeries
from ictbot.exchange_sim.market.synthetic import generate

ORIGIN = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000
KEY = "testkey"
SECRET = "testsecret"


@functools.cache
def _synthetic(symbol: str) -> CandleSeries:
    return generate(symbol, ORIGIN, 1500, seed=3)  # immutable: shared by every test's simulator


def small_config(**overrides: Any) -> SimConfig:
    base: dict[str, Any] = {
        "seed": 3,
        "synthetic_origin_ms": ORIGIN,
        "synthetic_candles": 1500,
        "warmup_candles": 600,
        "ping_interval_s": 5.0,
        "series": {s: _synthetic(s) for s in ("BTCUSDT", "ETHUSDT")},
    }
    base.update(overrides)
    return SimConfig(**base)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(small_config()) as server:
        yield server


@pytest.fixture
async def client(sim: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5.0) as http:
        yield http


def signed(sim: SimulatorServer, params: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None) -> str:
    """Query string with timestamp + HMAC signature over exactly the bytes sent."""
    params = {**params, "timestamp": sim.control.now() if timestamp is None else timestamp}
    query = urlencode(params)
    return f"{query}&signature={hmac_signature(secret, query)}"


async def call(
    client: httpx.AsyncClient, sim: SimulatorServer, method: str, path: str, key: str = KEY, **params: Any
) -> httpx.Response:
    return await client.request(method, f"{path}?{signed(sim, params)}", headers={"X-MBX-APIKEY": key})


def scripted_series(
    symbol: str, rows: list[tuple[float, float, float, float, float]], warmup: int = 5, warmup_price: float = 50_000.0
) -> CandleSeries:
    """1m candles: ``warmup`` flat candles at ``warmup_price``, then ``rows`` (open, high, low, close, volume)."""
    flat = [(warmup_price, warmup_price, warmup_price, warmup_price, 1.0)] * warmup
    data = np.array(flat + rows, dtype=np.float64)
    times = ORIGIN + np.arange(len(data), dtype=np.int64) * 60_000
    return CandleSeries(
        symbol,
        Timeframe.M1,
        times,
        data[:, 0].copy(),
        data[:, 1].copy(),
        data[:, 2].copy(),
        data[:, 3].copy(),
        data[:, 4].copy(),
        synthetic=True,
    )


def scripted_config(
    rows: list[tuple[float, float, float, float, float]], warmup: int = 5, **overrides: Any
) -> SimConfig:
    series = {"BTCUSDT": scripted_series("BTCUSDT", rows, warmup)}
    return small_config(series=series, start_ms=ORIGIN + warmup * 60_000, **overrides)

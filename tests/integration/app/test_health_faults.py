"""/health under the simulator's faults: refused connections, 5xx, HTTP 429 and a market-data stall."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import LocalRateBudget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.binance.signing import Credentials
from ictbot.app.application import Application
from ictbot.app.facade import PipelineFacade
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.system import SystemSpec, running_system
from ictbot.app.wiring import Pipeline
from ictbot.domain.errors import NetworkError, RateLimitedError
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim import SimConfig, SimulatorServer
from ictbot.monitoring.health import HealthBoard
from ictbot.monitoring.reports import HealthState
from ictbot.ports.clock import ManualClock
from tests.integration.exchange_sim.conftest import KEY, SECRET, small_config

T0 = 1_700_000_000_000


def _client(endpoints: BinanceEndpoints, board: HealthBoard) -> BinanceRestClient:
    client = BinanceRestClient(endpoints, Credentials.hmac(KEY, SECRET), budget=LocalRateBudget(), get_retries=0,
                               timeout=2.0)
    client.outcome_listeners.append(board.request_outcome)
    return client


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


async def test_refused_connections_take_the_exchange_down() -> None:
    wall = ManualClock(T0)
    board = HealthBoard(wall=wall)
    async with _client(BinanceEndpoints.local(_closed_port()), board) as client:
        with pytest.raises(NetworkError, match="connection failed"):
            await client.sync_time()
        assert board.exchange().status is HealthState.DEGRADED
        for _ in range(2):
            with pytest.raises(NetworkError):
                await client.sync_time()
    down = board.exchange()
    assert down.status is HealthState.DOWN and down.last_ok_ms is None
    assert "3 failed request(s)" in down.reason and "connection failed" in down.reason


async def test_5xx_degrade_then_down_and_the_next_reply_heals() -> None:
    wall = ManualClock(T0)
    board = HealthBoard(wall=wall)
    async with SimulatorServer(small_config()) as sim, _client(BinanceEndpoints.local(sim.port), board) as client:
        await client.sync_time()
        assert board.exchange().status is HealthState.HEALTHY and board.exchange().last_ok_ms == T0
        sim.control.lose_next_response("GET", "/api/v3/time", mode="error_503", after_commit=False, count=3)
        wall.advance(5)
        with pytest.raises(NetworkError):
            await client.sync_time()
        assert board.exchange().status is HealthState.DEGRADED and "503" in board.exchange().reason
        for _ in range(2):
            with pytest.raises(NetworkError):
                await client.sync_time()
        assert board.exchange().status is HealthState.DOWN
        wall.advance(5)
        await client.sync_time()
        healed = board.exchange()
        assert healed.status is HealthState.HEALTHY and healed.last_ok_ms == T0 + 10_000


async def test_http_429_reports_rate_limited_with_the_wait() -> None:
    wall = ManualClock(T0)
    board = HealthBoard(wall=wall)
    async with SimulatorServer(small_config()) as sim, _client(BinanceEndpoints.local(sim.port), board) as client:
        sim.control.force_rate_limit(1)
        with pytest.raises(RateLimitedError) as limited:
            await client.request("GET", "/api/v3/exchangeInfo", weight=20)
        wait_s = limited.value.retry_after
        assert wait_s is not None and wait_s >= 1
        state = board.rate_limit()
        assert state.status is HealthState.DEGRADED and "HTTP 429" in state.reason
        assert state.until_ms == T0 + int(wait_s * 1000)
        assert board.exchange().status is HealthState.HEALTHY  # limited, not unreachable
        wall.advance(wait_s)
        assert board.rate_limit().status is HealthState.HEALTHY


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Application, Pipeline, SimulatorServer]]:
    settings = Settings(TRADING_MODE=TradingMode.PAPER, DATABASE_PATH=tmp_path / "t.db",  # type: ignore[call-arg]
                        ICTBOT_CONFIG_FILE=tmp_path / "config.json", LOG_DIR=tmp_path)
    spec = SystemSpec(
        settings, warmup_candles=100,
        simulator=SimConfig(symbols=("BTCUSDT",), synthetic_timeframe=Timeframe.M5, synthetic_candles=800,
                            warmup_candles=600, seed=3),
        config={"exchange": {"symbols": ["BTCUSDT"], "base_timeframe": "5m", "context_timeframes": ["15m"]}},
    )
    async with running_system(spec) as system:
        assert system.simulator is not None
        yield system.application, system.pipeline, system.simulator


async def _until(condition: object, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_market_data_stall_is_stale_after_two_intervals(
    running: tuple[Application, Pipeline, SimulatorServer],
) -> None:
    application, pipeline, sim = running
    facade = PipelineFacade(application, pipeline)
    before = pipeline.market_data.published_closed
    await sim.control.step(2)
    await _until(lambda: pipeline.market_data.published_closed >= before + 2)
    await application.bus.wait_idle()
    health = await facade.health()
    assert health.components["market_data"].status is HealthState.HEALTHY
    assert health.components["exchange"].status is HealthState.HEALTHY
    assert health.components["exchange"].last_ok_ms is not None
    await _until(lambda: pipeline.execution.stream_connected)
    assert (await facade.health()).components["user_stream"].status is HealthState.HEALTHY

    sim.control.stall_market()
    await sim.control.step(1)  # one interval without a candle: not yet stale
    assert (await facade.health()).components["market_data"].status is HealthState.HEALTHY
    await sim.control.step(1)  # the newest closed candle is now over 2 intervals (10 min) old
    stale = await facade.health()
    market = stale.components["market_data"]
    assert market.status is HealthState.DEGRADED and "BTCUSDT no closed 5m candle for" in market.reason
    assert stale.status is HealthState.DEGRADED  # trading goes on (risk halts entries on stale data)
    scrape = generate_latest(pipeline.collector.prometheus.registry).decode()
    assert 'ictbot_component_health{component="market_data"} 1.0' in scrape
    assert 'ictbot_component_health{component="exchange"} 0.0' in scrape

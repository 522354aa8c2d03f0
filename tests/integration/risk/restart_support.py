"""Start the whole bot in-process against the simulator, stop it, start it again on the same database."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from ictbot.api import dto as f
from ictbot.app.application import Application
from ictbot.app.facade import PipelineFacade
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.system import SystemSpec, start_system
from ictbot.app.wiring import PAPER_API_KEY, Pipeline
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim import SimConfig, SimulatorServer
from ictbot.ports.clock import Clock

SYMBOL = "ETHUSDT"


def simulator(**overrides: object) -> SimulatorServer:
    options: dict[str, object] = {"symbols": ("BTCUSDT", SYMBOL), "synthetic_timeframe": Timeframe.M5,
                                  "synthetic_candles": 800, "warmup_candles": 600, "seed": 5}
    options.update(overrides)
    return SimulatorServer(SimConfig(**options))  # type: ignore[arg-type]


async def start_bot(tmp_path: Path, sim: SimulatorServer, clock: Clock | None = None) -> tuple[Application, Pipeline]:
    config_file = tmp_path / "config.json"
    if not config_file.exists():
        config_file.write_text(json.dumps({"exchange": {"symbols": [SYMBOL], "base_timeframe": "5m",
                                                        "context_timeframes": ["15m", "1h"]}}))
    settings = Settings(TRADING_MODE=TradingMode.PAPER, DATABASE_PATH=tmp_path / "bot.db",  # type: ignore[call-arg]
                        ICTBOT_CONFIG_FILE=config_file, LOG_DIR=tmp_path)
    system = await start_system(SystemSpec(settings, simulator=sim, clock=clock, warmup_candles=300))
    return system.application, system.pipeline


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def step(application: Application, pipeline: Pipeline, sim: SimulatorServer, candles: int) -> None:
    """Move the simulator on and wait until the bot has seen the candles."""
    seen = pipeline.market_data.published_closed
    await sim.control.step(candles)
    await wait_for(lambda: pipeline.market_data.published_closed >= seen + candles)
    await application.bus.wait_idle()


async def wait_stepping(application: Application, pipeline: Pipeline, sim: SimulatorServer,
                        condition: Callable[[], bool], max_candles: int = 10) -> None:
    """Wait for ``condition`` while the simulator moves on a candle at a time (in stepped mode a
    client retry sleeping on the simulator's clock wakes only when the replay advances)."""
    for _ in range(max_candles):
        with contextlib.suppress(TimeoutError):
            await wait_for(condition, timeout=1.0)
            return
        await step(application, pipeline, sim, 1)
    await wait_for(condition, timeout=1.0)


async def buy_manually(application: Application, pipeline: Pipeline, sim: SimulatorServer, *,
                       stop: str = "0.91", target: str = "1.2", protected: bool = False) -> f.OrderView:
    """A market BUY sized by risk, stop and target at these multiples of the price (default: 1 % risk
    with the stop 9 % below is ~11 % of equity); ``protected`` also waits for the exchange stop."""
    price = sim.control.price(SYMBOL)
    facade = PipelineFacade(application, pipeline)
    order = await facade.create_manual_order(f.ManualOrderRequest(
        symbol=SYMBOL, side="BUY", stop_loss=(price * Decimal(stop)).quantize(Decimal("0.01")),
        take_profits=[(price * Decimal(target)).quantize(Decimal("0.01"))]))
    await wait_for(lambda: bool(pipeline.execution.positions.open_positions()))
    if protected:
        await wait_for(lambda: not pipeline.execution.executor.unprotected_positions())
    await pipeline.execution.executor.drain()
    await application.bus.wait_idle()
    return order


def held_base(sim: SimulatorServer, asset: str = "ETH") -> Decimal:
    """The simulator account's free + locked ``asset``."""
    return sum(sim.control.balances(PAPER_API_KEY).get(asset, (Decimal(0), Decimal(0))), Decimal(0))


def true_spot_equity(sim: SimulatorServer, quote: str = "USDT") -> Decimal:
    """The simulator's own account, every asset marked at the simulator's price."""
    total = Decimal(0)
    for asset, (free, locked) in sim.control.balances(PAPER_API_KEY).items():
        amount = free + locked
        total += amount if asset == quote else amount * sim.control.price(asset + quote)
    return total

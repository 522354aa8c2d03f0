"""The application facade over the real pipeline (simulator, Binance adapter, SQLite, bus)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from ictbot.api import dto as f
from ictbot.app.application import Application
from ictbot.app.facade import PipelineFacade
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.system import SystemSpec, running_system
from ictbot.app.wiring import Pipeline
from ictbot.domain.timeframe import Timeframe
from ictbot.exchange_sim import SimConfig, SimulatorServer
from ictbot.ports.facade import Conflict, NotFound, ValidationFailed


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Application, Pipeline, SimulatorServer]]:
    settings = Settings(TRADING_MODE=TradingMode.PAPER, DATABASE_PATH=tmp_path / "t.db",  # type: ignore[call-arg]
                        ICTBOT_CONFIG_FILE=tmp_path / "config.json", LOG_DIR=tmp_path)
    spec = SystemSpec(
        settings, warmup_candles=500,
        simulator=SimConfig(symbols=("BTCUSDT",), synthetic_timeframe=Timeframe.M5, synthetic_candles=800,
                            warmup_candles=600, seed=3),
        config={"exchange": {"symbols": ["BTCUSDT"], "base_timeframe": "5m", "context_timeframes": ["15m", "1h"]}},
    )
    async with running_system(spec) as system:
        assert system.simulator is not None
        yield system.application, system.pipeline, system.simulator


async def wait_for(condition: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def test_facade_reads_and_changes_the_running_system(
    running: tuple[Application, Pipeline, SimulatorServer],
) -> None:
    application, pipeline, sim = running
    facade = PipelineFacade(application, pipeline)

    stored_before = pipeline.market_data.published_closed
    await sim.control.step(6)
    await wait_for(lambda: pipeline.market_data.published_closed >= stored_before + 6)
    await application.bus.wait_idle()

    health = await facade.health()
    assert {"exchange", "market_data", "execution", "risk"} <= set(health.components)
    status = await facade.status()
    assert status.trading_state is f.TradingState.ACTIVE and status.symbols == ["BTCUSDT"]

    candles = await facade.candles(f.CandleQuery(symbol="BTCUSDT", timeframe=Timeframe.M5, limit=50))
    assert len(candles) == 50 and candles[-1].open_time_ms > candles[0].open_time_ms
    with pytest.raises(NotFound):
        await facade.candles(f.CandleQuery(symbol="DOGEUSDT"))
    view = await facade.indicators("BTCUSDT", None)
    assert set(view.views) == {"5m", "15m", "1h"}

    # Configuration: validated, versioned, persisted, rolled back.
    version = application.config.version
    await facade.update_strategy_config(f.StrategyConfigUpdate(strategy_id="strategy_a", enabled=False))
    assert application.config.version == version + 1
    await application.bus.wait_idle()
    assert pipeline.registry.is_enabled("strategy_a") is False
    with pytest.raises(ValidationFailed) as invalid:
        await facade.update_strategy_config(
            f.StrategyConfigUpdate(strategy_id="strategy_a", params={"no_such_param": 1})
        )
    assert invalid.value.errors[0].field.endswith("no_such_param")
    with pytest.raises(NotFound):
        await facade.update_strategy_config(f.StrategyConfigUpdate(strategy_id="ghost", enabled=True))
    await facade.update_risk_config(f.RiskConfigUpdate(max_positions=2))
    await application.bus.wait_idle()
    assert pipeline.risk.limits.max_open_positions == 2
    history = await facade.config_history(10)
    assert [h.version for h in history][-2:] == [version + 1, version + 2]
    await facade.rollback_config(version)
    await application.bus.wait_idle()
    assert pipeline.registry.is_enabled("strategy_a") is True
    with pytest.raises(NotFound):
        await facade.rollback_config(9999)

    # Trading state: halt and resume are persisted breaker changes.
    assert (await facade.halt_trading("maintenance")).state is f.TradingState.HALTED
    assert (await facade.status()).trading_state is f.TradingState.HALTED
    assert (await facade.resume_trading()).state is f.TradingState.ACTIVE

    # Unknown ids are 404s, an empty journal is an empty page.
    with pytest.raises(NotFound):
        await facade.get_order("ict-nope")
    with pytest.raises(NotFound):
        await facade.close_position("nope", "test")
    page = await facade.list_orders(f.OrderQuery())
    assert page.total == len(page.items)
    report = await facade.risk_report()
    assert report.equity is not None and report.equity > 0


async def test_documented_conflicts_and_equity_based_metrics(
    running: tuple[Application, Pipeline, SimulatorServer],
) -> None:
    application, pipeline, _ = running
    facade = PipelineFacade(application, pipeline)

    # the collector knows the account's starting equity: drawdown is a fraction, the curve is equity
    assert pipeline.collector.initial_equity == pipeline.starting_equity and pipeline.starting_equity > 0
    metrics = await facade.metrics()
    assert metrics.max_drawdown == 0.0 and metrics.equity == pipeline.starting_equity

    # rolling back to the version that is already active is a conflict, not a silent 200
    await facade.update_risk_config(f.RiskConfigUpdate(max_positions=2))
    active = application.config.version
    with pytest.raises(Conflict) as already:
        await facade.rollback_config(active)
    assert "already active" in already.value.message
    assert application.config.version == active

    # an emergency stop is not undone by a resume
    await facade.emergency_stop("test kill switch")
    with pytest.raises(Conflict) as refused:
        await facade.resume_trading()
    assert "restart" in refused.value.message and "test kill switch" in refused.value.reasons[0]
    assert (await facade.status()).trading_state is f.TradingState.HALTED


async def test_status_lists_every_supervised_loop_and_a_crashed_one_with_its_restarts(
    running: tuple[Application, Pipeline, SimulatorServer],
) -> None:
    from ictbot.app.logsetup import REDACTOR
    from ictbot.app.tasks import RetryPolicy

    application, pipeline, _sim = running
    facade = PipelineFacade(application, pipeline)
    REDACTOR.add(["tg-secret-4711"])
    runs = 0

    async def crashes_twice() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise RuntimeError("https://api.telegram.org/bottg-secret-4711/getUpdates: 502")
        await asyncio.Event().wait()

    application.tasks.spawn("test.crashing", crashes_twice, policy=RetryPolicy(initial_delay=0.01, jitter=0.0))
    await wait_for(lambda: runs == 3)
    tasks = {task.name: task for task in (await facade.status()).tasks}
    loops = ("marketdata.stream", "instruments.refresh", "risk.poll", "execution.stream", "execution.timers")
    assert set(loops) <= set(tasks)
    assert all(tasks[name].state == "running" for name in loops)
    crashed = tasks["test.crashing"]
    assert (crashed.state, crashed.restarts, crashed.failures) == ("running", 2, 2)
    assert crashed.last_error == "RuntimeError: https://api.telegram.org/bot***/getUpdates: 502"


async def test_start_reads_the_exchange_account_once(
    running: tuple[Application, Pipeline, SimulatorServer],
) -> None:
    _application, pipeline, sim = running
    # One account read and one price read for the equity, both after the start reconciliation
    # (which itself asks only for open orders and trades); none at exchange start.
    assert sim.control.requests(path="/api/v3/account") == 1
    assert pipeline.starting_equity > 0 and pipeline.collector.initial_equity == pipeline.starting_equity
    assert pipeline.account.equity() == pipeline.starting_equity


async def test_a_manual_order_while_entries_are_blocked_names_the_block(
    running: tuple[Application, Pipeline, SimulatorServer],
) -> None:
    application, pipeline, sim = running
    await sim.control.step(2)
    await wait_for(lambda: pipeline.execution.positions.mark_price("BTCUSDT") is not None
                   or "BTCUSDT" in pipeline.account.marks)
    # As in the window before the start-up reconciliation succeeded: the account not read yet.
    pipeline.execution.executor.block_entries("test", "start-up reconciliation not finished")
    pipeline.account.set_equity(Decimal(0))
    price = sim.control.price("BTCUSDT")
    cent = Decimal("0.01")
    request = f.ManualOrderRequest(symbol="BTCUSDT", side="BUY", stop_loss=(price * Decimal("0.99")).quantize(cent),
                                   take_profits=[(price * Decimal("1.02")).quantize(cent)])
    with pytest.raises(Conflict) as refused:
        await PipelineFacade(application, pipeline).create_manual_order(request)
    assert refused.value.args[0] == "new entries are blocked"
    assert refused.value.reasons == ("start-up reconciliation not finished",)

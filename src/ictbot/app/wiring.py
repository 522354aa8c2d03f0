"""Builds the trading pipeline and registers each stage with the orchestrator.

market data → candles → indicators → strategies → risk → execution/positions, plus monitoring and
the API. Live, testnet and paper differ only in the exchange endpoints, the credentials and the
clock: paper mode points the real Binance adapter at the built-in simulator and, when the
simulator runs in this process, runs on the simulator's clock (the only way to trade faster than
real time).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import structlog

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.factory import build_venue
from ictbot.adapters.binance.kline_feed import BinanceKlineFeed
from ictbot.adapters.binance.venue import BinanceVenue
from ictbot.adapters.storage.candles import SqlCandleStore
from ictbot.adapters.storage.database import Database
from ictbot.adapters.storage.repositories import (
    SqlFillRepository,
    SqlKeyValueStore,
    SqlOrderJournal,
    SqlPositionRepository,
)
from ictbot.app.application import Application
from ictbot.app.binance_wiring import PAPER_API_KEY as PAPER_API_KEY
from ictbot.app.binance_wiring import binance_config as binance_config
from ictbot.app.config_model import TradingConfig
from ictbot.app.health import connect_health, watch_closed_candles
from ictbot.app.instrument_refresh import RETRY_POLICY as REFRESH_RETRY_POLICY
from ictbot.app.instrument_refresh import TASK_NAME as REFRESH_TASK
from ictbot.app.instrument_refresh import refresher_for
from ictbot.app.notify_wiring import attach_journal
from ictbot.app.orchestrator import ComponentHealth, FunctionService, HealthState
from ictbot.app.retention import retention_loop
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.stage_links import report_reconnects, strategy_risk_pct
from ictbot.app.validators import section_validators
from ictbot.app.warmup import warm_up
from ictbot.bus import Subscription
from ictbot.candles.service import CandleService
from ictbot.domain.instrument import Instrument
from ictbot.domain.timeframe import Timeframe
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.service import ExecutionService
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.indicators.service import IndicatorService
from ictbot.marketdata.service import MarketDataService
from ictbot.monitoring.collector import MetricsCollector
from ictbot.monitoring.health import HealthBoard
from ictbot.monitoring.journal import TradeJournal
from ictbot.monitoring.system import MonitoringSystem
from ictbot.ports.clock import Clock, SystemClock
from ictbot.positions.rules import StopRules
from ictbot.risk.account import AccountTracker
from ictbot.risk.breakers import CircuitBreakers
from ictbot.risk.equity import restore_account
from ictbot.risk.limits import RiskLimits
from ictbot.risk.service import RiskService
from ictbot.strategies.base import LIVE_WARMUP_CANDLES
from ictbot.strategies.registry import StrategyRegistry, registry_section
from ictbot.strategies.runner import StrategyRunner
from ictbot.strategies.service import StrategyService

log = structlog.get_logger(__name__)



@dataclass
class Pipeline:
    """Every running stage, for the facade and the demo summary."""

    settings: Settings
    clock: Clock
    database: Database
    journal: SqlOrderJournal
    fills: SqlFillRepository
    positions_repo: SqlPositionRepository
    kv: SqlKeyValueStore
    candle_store: SqlCandleStore
    venue: BinanceVenue
    feed: BinanceKlineFeed
    market_data: MarketDataService
    candles: CandleService
    engine: MultiTimeframeEngine
    indicators: IndicatorService
    registry: StrategyRegistry
    strategies: StrategyService
    risk: RiskService
    breakers: CircuitBreakers
    account: AccountTracker
    execution: ExecutionService
    collector: MetricsCollector
    monitoring: MonitoringSystem
    symbols: tuple[str, ...]
    base: Timeframe
    context: tuple[Timeframe, ...]
    health: HealthBoard
    instruments: dict[str, Instrument] = field(default_factory=dict)
    starting_equity: Decimal = Decimal(0)
    trade_journal: TradeJournal | None = None


def wall_timer_scale(speed: float) -> float:
    """How much faster than the wall a replay at ``speed`` runs (1 for stepped or unbounded replays)."""
    return speed if 0 < speed < float("inf") else 1.0


def build_pipeline(
    application: Application,
    *,
    clock: Clock | None = None,
    sim_port: int | None = None,
    endpoints: BinanceEndpoints | None = None,
    warmup_candles: int = LIVE_WARMUP_CANDLES,
    timer_scale: float = 1.0,
) -> Pipeline:
    """Create every stage and register it with the application's orchestrator.

    ``timer_scale``: the clock runs this many times faster than the wall (a fast simulator replay);
    housekeeping loops (order polling, timers, monitoring) are stretched by it so they keep their
    wall-clock rate instead of spinning, while trading timeouts stay in market time.
    """
    settings = application.settings
    clock = clock or SystemClock()
    bus = application.bus
    for section, validator in section_validators().items():
        application.config.add_section_validator(section, validator)
    # (Re)load so the file is validated by the stages' own schemas as well.
    application.config.load()
    config: TradingConfig = application.config.config

    symbols = tuple(config.exchange.symbols)
    base = config.exchange.base_timeframe
    context = tuple(tf for tf in config.exchange.context_timeframes if tf.ms > base.ms)

    database = Database(settings.resolved_database_url)
    journal, fills = SqlOrderJournal(database), SqlFillRepository(database)
    positions_repo, kv = SqlPositionRepository(database), SqlKeyValueStore(database)
    candle_store = SqlCandleStore(database)

    # exchange.recv_window_ms was validated but never reached the client (always 5000).
    binance = replace(binance_config(settings, sim_port, endpoints), recv_window_ms=config.exchange.recv_window_ms)
    venue = build_venue(binance, clock=clock)
    feed = BinanceKlineFeed.from_client(venue.client, stale_after_s=120.0)
    pairs = [(symbol, base) for symbol in symbols]
    market_data = MarketDataService(feed, bus, pairs, application.tasks, store=candle_store, publish_open=False)
    candles = CandleService(bus, candle_store, base=base, targets=context, window_size=settings.candle_window)
    engine = MultiTimeframeEngine(base, context)
    indicators = IndicatorService(bus, engine)

    registry = StrategyRegistry()
    runner = StrategyRunner(registry)
    strategies = StrategyService(bus, runner)

    limits = RiskLimits.model_validate(config.risk)
    holder: dict[str, RiskService] = {}
    # Risk decides by the exchange's clock (its measured offset): the UTC day's daily-loss baseline
    # resets at the exchange's midnight and cooldowns run from its fill times, whatever the local clock.
    exchange_clock = venue.client.server_time
    breakers = CircuitBreakers(kv, exchange_clock, lambda: holder["risk"].limits, bus=bus)
    account = AccountTracker(Decimal(0))
    instruments: dict[str, Instrument] = {}
    risk = RiskService(
        bus, limits=limits, instruments=instruments.get, clock=exchange_clock, breakers=breakers, account=account,
        data_stale=lambda symbol: market_data.data_stale,
        strategy_risk_pct=lambda strategy_id: strategy_risk_pct(application.config.config, strategy_id),
    )
    holder["risk"] = risk

    async def on_mismatch(reason: str) -> None:
        await breakers_trip(breakers, reason)

    async def rebase_after_start_reconcile() -> None:
        # The account is read once, here: equity from the whole account (holdings and positions
        # marked) once the start reconciliation has applied what filled while the bot was down (read
        # before it, an exit's P&L would be in the balances and then folded in again). The breakers
        # see no equity before this (``defer_equity_observation`` at risk start).
        await application.bus.wait_idle()  # the reconciliation's position updates have reached the account
        view = await restore_account(account, venue, positions_repo, market=venue.market,
                                     quote=application.config.config.exchange.quote_asset,
                                     when="after start reconciliation")
        if collector.initial_equity is None:  # the first start reconciliation that succeeded
            pipeline.starting_equity = view.equity
            collector.set_initial_equity(view.equity)  # equity curve and drawdown % need the start
        await risk.resume_equity_observation()

    execution = ExecutionService(
        bus, venue, journal, fills, positions_repo, clock,
        ExecutionConfig(entry_timeout_s=config.execution.entry_timeout_seconds,
                        entry_lists=config.execution.entry_lists,
                        reconcile_interval_s=config.execution.reconcile_interval_seconds * timer_scale,
                        # Waiting for the exchange (a triggered stop's fill, an unknown outcome) is
                        # about wall-clock latency, so these graces stretch with the replay speed.
                        breach_grace_s=config.execution.stop_fill_timeout_seconds * timer_scale,
                        unknown_grace_s=10.0 * timer_scale,
                        timer_interval_s=1.0 * timer_scale, poll_interval_s=2.0 * timer_scale,
                        unknown_query_interval_s=0.5 * timer_scale),
        kv=kv, on_mismatch=on_mismatch,
        stop_rules=StopRules.from_settings(config.execution.model_dump()),
        after_start_reconcile=rebase_after_start_reconcile, tasks=application.tasks,
    )
    collector = MetricsCollector(clock=clock, window=settings.metrics_window)
    monitoring = MonitoringSystem(bus, collector, clock=clock, interval_s=5.0 * timer_scale)
    report_reconnects(feed, venue, monitoring)

    pipeline = Pipeline(
        settings=settings, clock=clock, database=database, journal=journal, fills=fills,
        positions_repo=positions_repo, kv=kv, candle_store=candle_store, venue=venue, feed=feed,
        market_data=market_data, candles=candles, engine=engine, indicators=indicators, registry=registry,
        strategies=strategies, risk=risk, breakers=breakers, account=account, execution=execution,
        collector=collector, monitoring=monitoring, symbols=symbols, base=base, context=context,
        instruments=instruments,
        health=HealthBoard(market=clock, user_stream_required=settings.trading_mode is not TradingMode.PAPER),
    )
    connect_health(application, pipeline)
    _register(application, pipeline, warmup_candles)
    attach_journal(application, pipeline)
    return pipeline


async def breakers_trip(breakers: CircuitBreakers, reason: str) -> None:
    from ictbot.risk.state import BreakerReason

    await breakers.trip(BreakerReason.RECONCILIATION_MISMATCH.value, message=reason)


def _service(
    name: str,
    start: Callable[[], Awaitable[None]] | None = None,
    stop: Callable[[], Awaitable[None]] | None = None,
    health: Callable[[], ComponentHealth] | None = None,
    initialize: Callable[[], Awaitable[None]] | None = None,
) -> FunctionService:
    return FunctionService(name, initialize=initialize, start=start, stop=stop, health=health)


def _register(application: Application, p: Pipeline, warmup_candles: int) -> None:
    orch = application.orchestrator
    bus = application.bus

    async def db_init() -> None:
        p.database.upgrade()
        days = p.settings.retention_days
        if days > 0:
            application.tasks.spawn("database.retention", lambda: retention_loop(p.database, p.clock, days),
                                    restart_on_exit=True)

    async def db_stop() -> None:
        await p.database.close()

    orch.register(_service("database", initialize=db_init, stop=db_stop), depends_on=["config"])
    # The exchange's rules go through the catalogue; re-read every 24 h, a changed rule is an ALERT.
    refresher = refresher_for(p.venue, bus, p.clock, applied=p.instruments)

    async def exchange_start() -> None:
        await p.venue.client.sync_time()
        await refresher.refresh()
        application.tasks.spawn(REFRESH_TASK, refresher.run, policy=REFRESH_RETRY_POLICY)
        missing = [s for s in p.symbols if s not in p.instruments]
        if missing:
            raise ValueError(f"exchange does not list {', '.join(missing)}")
        await warm_up(p, warmup_candles)
        # The account itself is read once, after the start reconciliation (execution start).

    async def exchange_stop() -> None:
        await application.tasks.cancel(REFRESH_TASK)
        stream = getattr(p.venue, "user_stream", None)
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.stop()
        with contextlib.suppress(Exception):
            await p.venue.client.aclose()

    orch.register(_service("exchange", start=exchange_start, stop=exchange_stop), depends_on=["database", "event_bus"])

    async def candles_start() -> None:
        await p.candles.warm_up(list(p.symbols))
        await p.candles.start()

    orch.register(_service("candles", start=candles_start, stop=p.candles.stop,
                           health=lambda: _ok(p.candles.stats_dict())),
                  depends_on=["exchange"])

    async def indicators_start() -> None:
        p.indicators.start()

    async def indicators_stop() -> None:
        p.indicators.stop()

    orch.register(_service("indicators", start=indicators_start, stop=indicators_stop,
                           health=lambda: _ok({"snapshots": p.indicators.published})),
                  depends_on=["candles"])

    async def strategies_start() -> None:
        p.registry.configure(registry_section(application.config.document()["strategies"]))
        p.strategies.attach()

    async def strategies_stop() -> None:
        p.strategies.detach()

    orch.register(_service("strategies", start=strategies_start, stop=strategies_stop,
                           health=lambda: _ok({"enabled": [s.id for s in p.registry.status() if s.enabled]})),
                  depends_on=["indicators"])

    async def risk_poll_loop() -> None:
        # A stale feed produces no candles, so staleness and the UTC day change are polled.
        while True:
            await p.risk.poll()
            await asyncio.sleep(2.0)

    async def risk_start() -> None:
        await p.breakers.load()
        p.risk.defer_equity_observation()  # until the account is re-based after the start reconciliation
        p.risk.attach()
        application.tasks.spawn("risk.poll", risk_poll_loop, restart_on_exit=True)

    async def risk_stop() -> None:
        p.risk.detach()

    def risk_health() -> ComponentHealth:
        state = p.risk.trading_state.value
        healthy = state == "ACTIVE"
        return ComponentHealth(HealthState.HEALTHY if healthy else HealthState.DEGRADED,
                               "" if healthy else f"trading {state}", {"trading_state": state})

    orch.register(_service("risk", start=risk_start, stop=risk_stop, health=risk_health), depends_on=["strategies"])

    def execution_health() -> ComponentHealth:
        data = p.execution.health()
        blocked = data["entries_blocked"]
        problems = [f"entries blocked: {', '.join(blocked.values())}"] if blocked else []
        if data["unprotected_positions"]:
            problems.append(f"unprotected positions: {', '.join(data['unprotected_positions'])}")
        state = HealthState.DEGRADED if problems else HealthState.HEALTHY
        return ComponentHealth(state, "; ".join(problems), {"open_orders": data["open_orders"],
                                                            "open_positions": data["open_positions"]})

    orch.register(_service("execution", start=p.execution.start, stop=p.execution.stop, health=execution_health),
                  depends_on=["risk"])

    def market_health() -> ComponentHealth:
        stale = p.market_data.data_stale
        return ComponentHealth(HealthState.DEGRADED if stale else HealthState.HEALTHY,
                               "market data stale" if stale else "",
                               {"candles": p.market_data.published_closed})

    orch.register(_service("market_data", start=p.market_data.start, stop=p.market_data.stop, health=market_health),
                  depends_on=["execution", "candles", "journal"])

    health_subscription: list[Subscription] = []

    async def monitoring_start() -> None:
        p.collector.attach(bus)
        health_subscription.append(watch_closed_candles(application, p.health))
        p.monitoring.start()

    async def monitoring_stop() -> None:
        await p.monitoring.stop()
        p.collector.detach()
        while health_subscription:
            bus.unsubscribe(health_subscription.pop())

    orch.register(_service("monitoring", start=monitoring_start, stop=monitoring_stop), depends_on=["event_bus"])


def _ok(data: dict[str, Any]) -> ComponentHealth:
    return ComponentHealth(HealthState.HEALTHY, "", data)

"""Builds the trading pipeline and registers each stage with the orchestrator.

market data → candles → indicators → strategies → risk → execution/positions, plus monitoring and
the API. Live, testnet and paper differ only in the exchange endpoints, the credentials and the
clock: paper mode points the real Binance adapter at the built-in simulator and, when the
simulator runs in this process, runs on the simulator's clock (the only way to trade faster than
real time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

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
from ictbot.app.health import connect_health
from ictbot.app.notify_wiring import attach_journal
from ictbot.app.settings import Settings, TradingMode
from ictbot.app.stage_links import report_reconnects, strategy_risk_pct
from ictbot.app.stage_services import register_stages
from ictbot.app.validators import section_validators
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
from ictbot.strategies.registry import StrategyRegistry
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
    settings, bus = application.settings, application.bus
    clock = clock or SystemClock()
    config = _validated_config(application)
    symbols = tuple(config.exchange.symbols)
    base = config.exchange.base_timeframe
    context = tuple(tf for tf in config.exchange.context_timeframes if tf.ms > base.ms)
    stores = _Stores.open(settings)
    # exchange.recv_window_ms was validated but never reached the client (always 5000).
    binance = replace(binance_config(settings, sim_port, endpoints), recv_window_ms=config.exchange.recv_window_ms)
    venue = build_venue(binance, clock=clock)
    feed = BinanceKlineFeed.from_client(venue.client, stale_after_s=120.0)
    market_data = MarketDataService(feed, bus, [(symbol, base) for symbol in symbols], application.tasks,
                                    store=stores.candle_store, publish_open=False)
    candles = CandleService(bus, stores.candle_store, base=base, targets=context, window_size=settings.candle_window)
    engine = MultiTimeframeEngine(base, context)
    registry = StrategyRegistry()
    instruments: dict[str, Instrument] = {}
    risk = _risk_service(application, config, venue, stores.kv, instruments, market_data)
    built: list[Pipeline] = []  # the rebase after the start reconciliation reads the whole pipeline
    execution = _execution_service(application, config, clock, timer_scale, venue, stores, risk.breakers,
                                   after_start_reconcile=lambda: _rebase_after_start_reconcile(application, built[0]))
    collector = MetricsCollector(clock=clock, window=settings.metrics_window)
    monitoring = MonitoringSystem(bus, collector, clock=clock, interval_s=5.0 * timer_scale)
    report_reconnects(feed, venue, monitoring)
    pipeline = Pipeline(
        settings=settings, clock=clock, database=stores.database, journal=stores.journal, fills=stores.fills,
        positions_repo=stores.positions_repo, kv=stores.kv, candle_store=stores.candle_store, venue=venue, feed=feed,
        market_data=market_data, candles=candles, engine=engine, indicators=IndicatorService(bus, engine),
        registry=registry, strategies=StrategyService(bus, StrategyRunner(registry)), risk=risk,
        breakers=risk.breakers, account=risk.account, execution=execution, collector=collector,
        monitoring=monitoring, symbols=symbols, base=base, context=context, instruments=instruments,
        health=HealthBoard(market=clock, user_stream_required=settings.trading_mode is not TradingMode.PAPER),
    )
    built.append(pipeline)
    connect_health(application, pipeline)
    register_stages(application, pipeline, warmup_candles)
    attach_journal(application, pipeline)
    return pipeline


def _validated_config(application: Application) -> TradingConfig:
    for section, validator in section_validators().items():
        application.config.add_section_validator(section, validator)
    # (Re)load so the file is validated by the stages' own schemas as well.
    application.config.load()
    return application.config.config


@dataclass(frozen=True)
class _Stores:
    database: Database
    journal: SqlOrderJournal
    fills: SqlFillRepository
    positions_repo: SqlPositionRepository
    kv: SqlKeyValueStore
    candle_store: SqlCandleStore

    @classmethod
    def open(cls, settings: Settings) -> _Stores:
        database = Database(settings.resolved_database_url)
        return cls(database, SqlOrderJournal(database), SqlFillRepository(database), SqlPositionRepository(database),
                   SqlKeyValueStore(database), SqlCandleStore(database))


def _risk_service(application: Application, config: TradingConfig, venue: BinanceVenue, kv: SqlKeyValueStore,
                  instruments: dict[str, Instrument], market_data: MarketDataService) -> RiskService:
    holder: dict[str, RiskService] = {}
    # Risk decides by the exchange's clock (its measured offset): the UTC day's daily-loss baseline
    # resets at the exchange's midnight and cooldowns run from its fill times, whatever the local clock.
    exchange_clock = venue.client.server_time
    breakers = CircuitBreakers(kv, exchange_clock, lambda: holder["risk"].limits, bus=application.bus)
    risk = RiskService(
        application.bus, limits=RiskLimits.model_validate(config.risk), instruments=instruments.get,
        clock=exchange_clock, breakers=breakers, account=AccountTracker(Decimal(0)),
        data_stale=lambda symbol: market_data.data_stale,
        strategy_risk_pct=lambda strategy_id: strategy_risk_pct(application.config.config, strategy_id),
    )
    holder["risk"] = risk
    return risk


def _execution_service(application: Application, config: TradingConfig, clock: Clock, timer_scale: float,
                       venue: BinanceVenue, stores: _Stores, breakers: CircuitBreakers, *,
                       after_start_reconcile: Callable[[], Awaitable[None]]) -> ExecutionService:
    async def on_mismatch(reason: str) -> None:
        await breakers_trip(breakers, reason)

    execution = config.execution
    return ExecutionService(
        application.bus, venue, stores.journal, stores.fills, stores.positions_repo, clock,
        ExecutionConfig(entry_timeout_s=execution.entry_timeout_seconds,
                        entry_lists=execution.entry_lists,
                        reconcile_interval_s=execution.reconcile_interval_seconds * timer_scale,
                        # Waiting for the exchange (a triggered stop's fill, an unknown outcome) is
                        # about wall-clock latency, so these graces stretch with the replay speed.
                        breach_grace_s=execution.stop_fill_timeout_seconds * timer_scale,
                        unknown_grace_s=10.0 * timer_scale,
                        timer_interval_s=1.0 * timer_scale, poll_interval_s=2.0 * timer_scale,
                        unknown_query_interval_s=0.5 * timer_scale),
        kv=stores.kv, on_mismatch=on_mismatch,
        stop_rules=StopRules.from_settings(execution.model_dump()),
        after_start_reconcile=after_start_reconcile, tasks=application.tasks,
    )


async def _rebase_after_start_reconcile(application: Application, p: Pipeline) -> None:
    # The account is read once, here: equity from the whole account (holdings and positions
    # marked) once the start reconciliation has applied what filled while the bot was down (read
    # before it, an exit's P&L would be in the balances and then folded in again). The breakers
    # see no equity before this (``defer_equity_observation`` at risk start).
    await application.bus.wait_idle()  # the reconciliation's position updates have reached the account
    view = await restore_account(p.account, p.venue, p.positions_repo, market=p.venue.market,
                                 quote=application.config.config.exchange.quote_asset,
                                 when="after start reconciliation")
    if p.collector.initial_equity is None:  # the first start reconciliation that succeeded
        p.starting_equity = view.equity
        p.collector.set_initial_equity(view.equity)  # equity curve and drawdown % need the start
    await p.risk.resume_equity_observation()


async def breakers_trip(breakers: CircuitBreakers, reason: str) -> None:
    from ictbot.risk.state import BreakerReason

    await breakers.trip(BreakerReason.RECONCILIATION_MISMATCH.value, message=reason)

"""Indicators → strategies → risk over the bus on real BTCUSDT candles: every generated signal gets
exactly one verdict, and every accepted intent is a valid order for the real BTCUSDT filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.events import IndicatorsUpdated, SignalRejected, SignalValidated
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.ports.clock import ManualClock
from ictbot.risk import AccountTracker, CircuitBreakers, RiskLimits, RiskService
from ictbot.strategies import StrategyRegistry, StrategyRunner, StrategyService, default_strategies_config
from tests.integration.strategies.test_strategies_real_data import FILE, candles
from tests.unit.risk.support import MemoryKeyValueStore, real_instrument

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not FILE.exists(), reason="shared BTCUSDT data not available")
async def test_real_candles_through_strategies_and_risk() -> None:
    bars = candles()
    bus = EventBus()
    clock = ManualClock(bars[0].open_time)
    registry = StrategyRegistry()
    registry.configure(default_strategies_config())
    StrategyService(bus, StrategyRunner(registry)).attach()
    # Shorts allowed (this week of data is a down-move); counts and exposure wide open so that every
    # signal is judged on its own prices and size.
    limits = RiskLimits(
        allow_short_on_spot=True,
        max_open_positions=50,
        max_open_positions_per_symbol=50,
        duplicate_window_seconds=0,
        max_total_exposure_pct=Decimal(10_000),
        max_symbol_exposure_pct=Decimal(10_000),
    )
    breakers = CircuitBreakers(MemoryKeyValueStore(), clock, lambda: limits, bus=bus)
    await breakers.load()
    RiskService(
        bus,
        limits=limits,
        instruments={"BTCUSDT": real_instrument()},
        clock=clock,
        breakers=breakers,
        account=AccountTracker(Decimal(10_000)),
    ).attach()
    seen: dict[Topic, list[Any]] = {Topic.SIGNAL_GENERATED: [], Topic.SIGNAL_VALIDATED: [], Topic.SIGNAL_REJECTED: []}

    async def collect(envelope: Envelope) -> None:
        seen[envelope.topic].append(envelope.payload)

    for topic in seen:
        bus.subscribe(topic, collect, name=f"test.{topic.value}")
    await bus.start()
    engine = MultiTimeframeEngine("5m", ["15m", "1h", "4h"], resample_higher=True)
    for bar in bars:
        snapshot = engine.on_candle(bar)
        assert snapshot is not None
        clock.set(bar.close_time)
        await bus.publish(Topic.INDICATORS_UPDATED, IndicatorsUpdated(snapshot, bar))
        await bus.wait_idle()
    await bus.stop()

    generated = [payload.signal for payload in seen[Topic.SIGNAL_GENERATED]]
    validated: list[SignalValidated] = seen[Topic.SIGNAL_VALIDATED]
    rejected: list[SignalRejected] = seen[Topic.SIGNAL_REJECTED]
    assert generated, "no signal on 8 days of real data"
    verdicts = [v.intent.signal for v in validated] + [r.signal for r in rejected]
    assert sorted(s.id for s in verdicts) == sorted(s.id for s in generated)
    assert validated, [r.reasons for r in rejected]
    instrument = real_instrument()
    for verdict in validated:
        intent = verdict.intent
        assert instrument.order_problems(intent.signal.planned_entry, intent.quantity, market_order=True) == []
        assert intent.risk_amount <= Decimal(100)  # 1 % of 10 000, fees included
        side = intent.signal.direction.sign
        assert (intent.signal.planned_entry - intent.stop_loss) * side > 0
        assert all((tp - intent.signal.planned_entry) * side > 0 for tp in intent.take_profits)

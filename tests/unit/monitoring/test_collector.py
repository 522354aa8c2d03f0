"""MetricsCollector fed with envelopes: latency, slippage, rates, trades, exposure, Prometheus."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import generate_latest

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain import events as ev
from ictbot.domain.candle import Candle
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.order import Fill, Order, OrderAccepted, OrderFilled, OrderRejected, OrderSide, OrderType
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe
from ictbot.monitoring import MetricsCollector
from ictbot.monitoring.stats import DAY_MS
from ictbot.ports.clock import ManualClock

D = Decimal
T0 = 1_700_006_400_000  # a UTC midnight
SEQ = iter(range(1, 10**6))


def env(topic: Topic, payload: Any, at_ms: float) -> Envelope:
    return Envelope(topic, payload, next(SEQ), int(at_ms * 1_000_000))


def signal(ref: str = "100") -> Signal:
    return Signal("s1", "BTCUSDT", Direction.LONG, EntryType.MARKET, D("95"), (D("110"),), T0,
                  reference_price=D(ref))


def market_order(sig: Signal, client_id: str = "ict-1-E0") -> Order:
    return Order(client_id, "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D("1"), T0, strategy_id="s1",
                 signal_id=sig.id)


def closed_position(pid: str, pnl: str, closed_at: int, strategy: str = "s1") -> Position:
    return Position(pid, "BTCUSDT", "BTC", "USDT", strategy_id=strategy, realized_pnl=D(pnl), opened_at=T0,
                    closed_at=closed_at)


@pytest.fixture
def collector() -> MetricsCollector:
    return MetricsCollector(clock=ManualClock(T0 + 2 * DAY_MS + 5), initial_equity=D(1000))


def test_latency_and_slippage_from_signal_to_fill(collector: MetricsCollector) -> None:
    sig = signal("100")
    intent = ev.OrderIntent(sig, D(1), None, D(95), (D(110),), D(5))
    collector.on_envelope(env(Topic.SIGNAL_GENERATED, ev.SignalGenerated(sig), 1000))
    collector.on_envelope(env(Topic.SIGNAL_VALIDATED, ev.SignalValidated(intent), 1000))
    order = market_order(sig)
    collector.on_envelope(env(Topic.ORDER_UPDATED, ev.OrderUpdated(order), 1003))  # not yet answered
    accepted = order.apply(OrderAccepted("9", T0))
    collector.on_envelope(env(Topic.ORDER_UPDATED, ev.OrderUpdated(accepted), 1012))
    fill = Fill("t1", order.client_order_id, "BTCUSDT", OrderSide.BUY, D("100.2"), D(1), D(0), "USDT", T0)
    filled = accepted.apply(OrderFilled(fill))
    collector.on_envelope(env(Topic.ORDER_EXECUTED, ev.OrderExecuted(filled, fill), 1020))
    snap = collector.snapshot()
    assert snap.latency_ms_p50 == pytest.approx(12.0)  # validated at 1000 ms, venue answered at 1012 ms
    assert snap.avg_slippage_bps == pytest.approx(20.0)  # bought 100.2 vs planned 100
    assert snap.signals == 1
    assert snap.orders_submitted == 1 and snap.orders_filled == 1 and snap.fill_rate == 1.0


def test_fill_and_rejection_rates(collector: MetricsCollector) -> None:
    sig = signal()
    for i in range(4):
        order = market_order(sig, f"ict-{i}-E0")
        final = order.apply(OrderRejected("insufficient balance", T0)) if i == 0 else order.apply(
            OrderAccepted(str(i), T0))
        collector.on_envelope(env(Topic.ORDER_UPDATED, ev.OrderUpdated(final), 1))
        collector.on_envelope(env(Topic.ORDER_UPDATED, ev.OrderUpdated(final), 2))  # repeated: counted once
    snap = collector.snapshot()
    assert snap.orders_submitted == 4 and snap.orders_rejected == 1
    assert snap.rejection_rate == pytest.approx(0.25)
    assert snap.fill_rate == 0.0  # the only finished order was rejected


def test_trade_statistics_and_equity(collector: MetricsCollector) -> None:
    pnls = [("p1", "100", T0 + 10), ("p2", "-50", T0 + DAY_MS + 10), ("p3", "30", T0 + 2 * DAY_MS + 1)]
    for pid, pnl, closed_at in pnls:
        collector.on_envelope(env(Topic.POSITION_CLOSED, ev.PositionClosed(closed_position(pid, pnl, closed_at)), 1))
    snap = collector.snapshot()
    assert snap.trades == 3 and snap.wins == 2 and snap.losses == 1
    assert snap.win_rate == pytest.approx(2 / 3)
    assert snap.profit_factor == pytest.approx(130 / 50)
    assert snap.total_pnl == D(80) and snap.equity == D(1080)
    assert snap.daily_pnl == D(30)  # the clock is on day 3
    # equity 1000 -> 1100 -> 1050 -> 1080: drawdown 50 from the 1100 peak
    assert snap.max_drawdown_abs == D(50) and snap.max_drawdown == pytest.approx(50 / 1100)
    # daily returns 0.1, -0.0454545, 0.0285714 -> sample Sharpe annualised with sqrt(365)
    returns = [0.1, -50 / 1100, 30 / 1050]
    mean = sum(returns) / 3
    sd = (sum((r - mean) ** 2 for r in returns) / 2) ** 0.5
    assert snap.sharpe == pytest.approx(mean / sd * 365**0.5)
    assert [p.equity for p in collector.equity_curve()] == [D(1100), D(1050), D(1080)]
    assert set(collector.by_strategy()) == {"s1"}


def test_exposure_follows_positions(collector: MetricsCollector) -> None:
    open_pos = Position("p1", "BTCUSDT", "BTC", "USDT", qty=D("0.5"), avg_entry=D(100))
    collector.on_envelope(env(Topic.POSITION_UPDATED, ev.PositionUpdated(open_pos, D(110)), 1))
    assert collector.snapshot().exposure == D(55)
    assert collector.snapshot().open_positions == 1
    collector.on_envelope(env(Topic.POSITION_CLOSED, ev.PositionClosed(replace(open_pos, qty=D(0), closed_at=T0)), 2))
    assert collector.snapshot().exposure == D(0)


def test_indicator_time_from_candle_to_snapshot(collector: MetricsCollector) -> None:
    candle = Candle("BTCUSDT", Timeframe.M5, T0, D(1), D(2), D(1), D(2), D(1))
    snapshot = IndicatorSnapshot("BTCUSDT", T0 + 300_000, "5m", {})
    collector.on_envelope(env(Topic.CANDLE_STORED, ev.CandleStored(candle), 500.0))
    collector.on_envelope(env(Topic.INDICATORS_UPDATED, ev.IndicatorsUpdated(snapshot, candle), 503.5))
    assert collector.snapshot().indicator_ms_p50 == pytest.approx(3.5)


def test_higher_timeframe_candles_leave_no_pending_entries(collector: MetricsCollector) -> None:
    # Only base candles get an IndicatorsUpdated; the 15m candles closing with them must not pile up.
    for k in range(1, 301):
        close = T0 + k * 300_000
        base = Candle("BTCUSDT", Timeframe.M5, close - 300_000, D(1), D(2), D(1), D(2), D(1))
        collector.on_envelope(env(Topic.CANDLE_STORED, ev.CandleStored(base), 10.0 * k))
        if k % 3 == 0:
            htf = Candle("BTCUSDT", Timeframe.M15, close - 900_000, D(1), D(2), D(1), D(2), D(1))
            collector.on_envelope(env(Topic.CANDLE_STORED, ev.CandleStored(htf), 10.0 * k + 1))
        snapshot = IndicatorSnapshot("BTCUSDT", close, "5m", {})
        collector.on_envelope(env(Topic.INDICATORS_UPDATED, ev.IndicatorsUpdated(snapshot, base), 10.0 * k + 2))
        late = Candle("BTCUSDT", Timeframe.H1, close - 3_600_000, D(1), D(2), D(1), D(2), D(1))
        collector.on_envelope(env(Topic.CANDLE_STORED, ev.CandleStored(late), 10.0 * k + 3))  # after its base
    assert len(collector._candle_at) == 0
    assert collector.snapshot().indicator_ms_p50 == pytest.approx(2.0)


async def test_attached_collector_and_prometheus_exposition() -> None:
    bus = EventBus()
    collector = MetricsCollector(clock=ManualClock(T0))
    subs = collector.attach(bus)
    assert all(sub.policy.value == "drop_oldest" for sub in subs)
    await bus.start()
    await bus.publish(Topic.SIGNAL_GENERATED, ev.SignalGenerated(signal()))
    await bus.publish(Topic.ALERT, ev.Alert(ev.AlertLevel.WARNING, "feed", "slow"))
    await bus.publish(Topic.POSITION_CLOSED, ev.PositionClosed(closed_position("p1", "12.5", T0)))
    await bus.wait_idle()
    await bus.stop()
    text = generate_latest(collector.prometheus.registry).decode()
    assert 'ictbot_signals_total{strategy="s1"} 1.0' in text
    assert 'ictbot_alerts_total{level="warning",source="feed"} 1.0' in text
    assert 'ictbot_trades_total{result="win"} 1.0' in text
    assert "ictbot_realized_pnl 12.5" in text
    assert 'ictbot_bus_published_total{topic="signal_generated"} 1.0' in text
    assert "ictbot_bus_queue_depth{" in text and "ictbot_process_rss_bytes" in text
    snap = collector.snapshot()
    assert snap.rss_bytes is not None and snap.rss_bytes > 0
    assert snap.bus_max_queue_depth == 0
    collector.detach()
    assert bus.subscriptions() == []
    assert "ictbot_bus_queue_depth" not in generate_latest(collector.prometheus.registry).decode()
    collector.attach(bus)  # re-attachable after detach
    with pytest.raises(RuntimeError):
        collector.attach(bus)

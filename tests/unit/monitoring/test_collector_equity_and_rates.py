"""Metrics that must mean what their names say: equity (not cumulative P&L), drawdown, bus rates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from prometheus_client import generate_latest

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain import events as ev
from ictbot.domain.position import Position
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.monitoring import MetricsCollector
from ictbot.monitoring.collector import BUS_RATE_WINDOW_S
from ictbot.ports.clock import ManualClock

D = Decimal
T0 = 1_700_006_400_000


def _close(collector: MetricsCollector, pid: str, pnl: str, at: int) -> None:
    position = Position(pid, "BTCUSDT", "BTC", "USDT", strategy_id="s1", realized_pnl=D(pnl), opened_at=T0,
                        closed_at=at)
    collector.on_envelope(Envelope(Topic.POSITION_CLOSED, ev.PositionClosed(position), 1, 1))


def test_equity_curve_is_equity_once_the_start_is_known() -> None:
    collector = MetricsCollector(clock=ManualClock(T0 + 10))
    _close(collector, "p1", "200", T0 + 1)
    _close(collector, "p2", "-100", T0 + 2)
    assert collector.equity_curve() == []  # no starting equity: no fake "equity" of cumulative P&L
    before = collector.snapshot()
    assert before.max_drawdown is None and before.max_drawdown_abs == D(100) and before.equity is None
    collector.set_initial_equity(D(10_000))
    assert [p.equity for p in collector.equity_curve()] == [D(10_200), D(10_100)]
    after = collector.snapshot()
    assert after.equity == D(10_100)
    assert after.max_drawdown == pytest.approx(100 / 10_200) and after.max_drawdown_abs == D(100)
    exposition = generate_latest(collector.prometheus.registry).decode()
    assert "ictbot_equity 10100.0" in exposition
    assert 'ictbot_trades_total{result="win"} 1.0' in exposition  # refreshing the gauges counts nothing twice


async def test_bus_rates_do_not_depend_on_who_read_them_last() -> None:
    now = [0]
    bus = EventBus()
    collector = MetricsCollector(clock=ManualClock(T0), monotonic_ns=lambda: now[0])
    collector.attach(bus)
    await bus.start()
    try:
        assert collector.bus_rates() == {}  # nothing measured yet
        signal = Signal("s1", "BTCUSDT", Direction.LONG, EntryType.MARKET, D(95), (D(110),), T0,
                        reference_price=D(100))
        for _ in range(50):
            await bus.publish(Topic.SIGNAL_GENERATED, ev.SignalGenerated(signal))
        await bus.wait_idle()
        now[0] = 10 * 10**9
        status_rates = collector.bus_rates()  # e.g. GET /status
        now[0] += 10**6
        metrics_rates = collector.bus_rates()  # GET /metrics one millisecond later
        assert status_rates["signal_generated"] == pytest.approx(5.0)
        assert metrics_rates["signal_generated"] == pytest.approx(50 / 10.001)
        assert collector.snapshot().bus_rates["signal_generated"] > 4.9
        # a quiet minute later the window has moved on: the rate falls to zero
        now[0] += int(BUS_RATE_WINDOW_S * 2 * 10**9)
        collector.bus_rates()
        now[0] += 5 * 10**9
        assert collector.bus_rates()["signal_generated"] == 0.0
    finally:
        await bus.stop()

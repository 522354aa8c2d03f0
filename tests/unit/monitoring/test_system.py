"""MonitoringSystem: health, stale data, reconnect storms, anomaly rules, deduplication."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.bus import EventBus, Topic
from ictbot.domain import events as ev
from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe
from ictbot.monitoring import MetricsCollector, MonitoringSystem, Thresholds
from ictbot.monitoring.reports import ComponentHealth, HealthState, TradingMetrics
from ictbot.monitoring.rules import MonitorInputs, evaluate
from ictbot.ports.clock import ManualClock

T0 = 1_700_006_400_000


def inputs(**overrides: object) -> MonitorInputs:
    base: dict[str, object] = dict(now_ms=T0, last_candle={}, reconnects={}, metrics=TradingMetrics(),
                                   bus_subscriptions=[], bus_failed_delta={}, bus_dropped_delta={})
    base.update(overrides)
    return MonitorInputs(**base)  # type: ignore[arg-type]


def test_rules_quiet_when_all_is_well() -> None:
    assert evaluate(inputs(), Thresholds()) == []


def test_stale_series_rule() -> None:
    last = {("BTCUSDT", "1m"): T0 - 60_000}  # closed at T0; next due T0 + 60 s
    assert evaluate(inputs(now_ms=T0 + 60_000 + 90_000, last_candle=last), Thresholds()) == []
    drafts = evaluate(inputs(now_ms=T0 + 60_000 + 91_000, last_candle=last), Thresholds())
    assert [d.key for d in drafts] == ["stale:BTCUSDT:1m"]


def test_reconnect_storm_rule() -> None:
    recent = {"binance_ws": [T0 - i * 10_000 for i in range(5)]}
    old = {"binance_ws": [T0 - 400_000 - i for i in range(10)]}
    assert [d.key for d in evaluate(inputs(reconnects=recent), Thresholds())] == ["reconnect_storm:binance_ws"]
    assert evaluate(inputs(reconnects=old), Thresholds()) == []


@pytest.mark.parametrize(
    ("metrics", "key"),
    [
        (TradingMetrics(orders_submitted=20, rejection_rate=0.5), "rejection_rate"),
        (TradingMetrics(p99_slippage_bps=80.0), "slippage"),
        (TradingMetrics(max_drawdown=0.2), "drawdown"),
    ],
)
def test_anomaly_rules(metrics: TradingMetrics, key: str) -> None:
    assert [d.key for d in evaluate(inputs(metrics=metrics), Thresholds())] == [key]


def test_rejection_rate_needs_enough_orders() -> None:
    assert evaluate(inputs(metrics=TradingMetrics(orders_submitted=3, rejection_rate=1.0)), Thresholds()) == []


def test_bus_rules() -> None:
    subs = [{"name": "risk", "topic": "signal_generated", "policy": "block", "depth": 90, "maxsize": 100}]
    drafts = evaluate(inputs(bus_subscriptions=subs, bus_failed_delta={"risk@x": 2}), Thresholds())
    assert {d.key for d in drafts} == {"queue:risk", "handler_failed:risk@x"}


def candle(open_time: int) -> Candle:
    return Candle("BTCUSDT", Timeframe.M1, open_time, Decimal(1), Decimal(1), Decimal(1), Decimal(1), Decimal(1))


async def test_system_publishes_deduplicated_alerts_and_recoveries() -> None:
    bus = EventBus()
    clock = ManualClock(T0)
    collector = MetricsCollector(clock=clock)
    monitor = MonitoringSystem(bus, collector, clock=clock, thresholds=Thresholds(realert_after_s=600))
    monitor.attach()
    alerts: list[ev.Alert] = []
    bus.subscribe(Topic.ALERT, lambda e: alerts.append(e.payload), name="test")
    await bus.start()
    await bus.publish(Topic.CANDLE_STORED, ev.CandleStored(candle(T0 - 60_000)))
    await bus.wait_idle()
    assert (await monitor.health()).components["market_data"].status is HealthState.HEALTHY
    clock.set(T0 + 200_000)  # next candle was due at T0 + 60 s
    first = await monitor.evaluate_once()
    assert [a.details["key"] for a in first] == ["stale:BTCUSDT:1m"]
    assert first[0].level is ev.AlertLevel.WARNING
    assert await monitor.evaluate_once() == []  # still stale, not repeated
    assert (await monitor.health()).status is HealthState.DEGRADED
    clock.set(T0 + 200_000 + 601_000)
    assert len(await monitor.evaluate_once()) == 1  # re-alert after the cooldown
    await bus.publish(Topic.CANDLE_STORED, ev.CandleStored(candle(clock.now_ms() // 60_000 * 60_000 - 60_000)))
    await bus.wait_idle()
    recovered = await monitor.evaluate_once()
    assert recovered[0].level is ev.AlertLevel.INFO and "recovered" in recovered[0].message
    await bus.wait_idle()
    assert len(alerts) == 3
    await monitor.stop()
    await bus.stop()


async def test_health_checks_combine_and_contain_failures() -> None:
    bus = EventBus()
    monitor = MonitoringSystem(bus, MetricsCollector(), check_timeout_s=0.05)
    assert (await monitor.health()).components["bus"].status is HealthState.UNHEALTHY  # bus not started
    await bus.start()

    async def venue() -> ComponentHealth:
        return ComponentHealth(status=HealthState.HEALTHY, detail="connected")

    def storage() -> ComponentHealth:
        raise RuntimeError("db gone")

    monitor.register_check("venue", venue)
    report = await monitor.health()
    assert report.status is HealthState.HEALTHY and report.components["venue"].detail == "connected"
    monitor.register_check("storage", storage)
    report = await monitor.health()
    assert report.status is HealthState.UNHEALTHY
    assert report.components["storage"].detail == "health check failed: RuntimeError"
    await bus.stop()


async def test_reconnect_storm_through_the_system() -> None:
    bus = EventBus()
    clock = ManualClock(T0)
    monitor = MonitoringSystem(bus, MetricsCollector(clock=clock), clock=clock)
    await bus.start()
    for _ in range(5):
        monitor.note_reconnect("binance_ws")
        clock.advance(1)
    alerts = await monitor.evaluate_once()
    assert alerts[0].level is ev.AlertLevel.CRITICAL and alerts[0].details["source"] == "binance_ws"
    await bus.stop()

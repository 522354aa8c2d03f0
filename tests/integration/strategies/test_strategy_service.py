from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.events import (
    Alert,
    ConfigUpdated,
    IndicatorsUpdated,
    PositionClosed,
    PositionUpdated,
    SignalGenerated,
)
from ictbot.strategies import StrategyRegistry, StrategyRunner, StrategyService
from tests.unit.risk.support import open_position
from tests.unit.strategies.snapshots import MIN, T, candle, snapshot, view
from tests.unit.strategies.test_registry import Echo


class Collector:
    def __init__(self, bus: EventBus, *topics: Topic) -> None:
        self.items: dict[Topic, list[Any]] = {topic: [] for topic in topics}
        for topic in topics:
            bus.subscribe(topic, self._collect, name=f"test.{topic.value}")

    async def _collect(self, envelope: Envelope) -> None:
        self.items[envelope.topic].append(envelope.payload)


def indicators(close: float, time: int = T) -> IndicatorsUpdated:
    bar = candle(open=close, high=close, low=close, close=close, time=time)
    return IndicatorsUpdated(snapshot=snapshot({"5m": view("5m")}, time=time), candle=bar)


async def make() -> tuple[EventBus, StrategyRegistry, Collector]:
    bus = EventBus()
    registry = StrategyRegistry(max_consecutive_errors=2)
    registry.register_kind("echo", Echo.from_params_factory())
    registry.configure({"e": {"type": "echo"}})
    StrategyService(bus, StrategyRunner(registry)).attach()
    collector = Collector(bus, Topic.SIGNAL_GENERATED, Topic.ALERT)
    await bus.start()
    return bus, registry, collector


async def test_indicators_in_signals_out_and_config_disables() -> None:
    bus, _, got = await make()
    await bus.publish(Topic.INDICATORS_UPDATED, indicators(100))
    await bus.wait_idle()
    (generated,) = got.items[Topic.SIGNAL_GENERATED]
    assert isinstance(generated, SignalGenerated) and generated.signal.strategy_id == "e"
    await bus.publish(Topic.CONFIG_UPDATED, ConfigUpdated(2, "strategies", {"e": {"type": "echo", "enabled": False}}))
    await bus.publish(Topic.CONFIG_UPDATED, ConfigUpdated(3, "risk", {"e": {"whatever": 1}}))  # not ours
    await bus.wait_idle()
    await bus.publish(Topic.INDICATORS_UPDATED, indicators(101, T + 5 * MIN))
    await bus.wait_idle()
    assert len(got.items[Topic.SIGNAL_GENERATED]) == 1
    await bus.stop()


async def test_invalid_config_update_is_ignored_with_an_alert() -> None:
    bus, registry, got = await make()
    await bus.publish(Topic.CONFIG_UPDATED, ConfigUpdated(2, "strategies", {"e": {"type": "nope"}}))
    await bus.wait_idle()
    assert registry.is_enabled("e")
    (alert,) = got.items[Topic.ALERT]
    assert isinstance(alert, Alert) and "ignored" in alert.message
    await bus.stop()


async def test_failing_strategy_alert_goes_on_the_bus() -> None:
    bus, registry, got = await make()
    for i in range(2):
        await bus.publish(Topic.INDICATORS_UPDATED, indicators(13, T + i * 5 * MIN))
    await bus.wait_idle()
    assert not registry.is_enabled("e")
    assert [a.source for a in got.items[Topic.ALERT]] == ["strategy:e"]
    await bus.stop()


async def test_strategy_sees_its_open_positions_from_the_bus() -> None:
    bus, _, _ = await make()
    position = open_position(pid="p9", strategy_id="e")
    Echo.seen_positions.clear()
    await bus.publish(Topic.POSITION_UPDATED, PositionUpdated(position, Decimal(60_000)))
    await bus.wait_idle()
    await bus.publish(Topic.INDICATORS_UPDATED, indicators(100))
    await bus.wait_idle()
    closed = replace(position, qty=Decimal(0), closed_at=T, trade_ids=position.trade_ids | {"x"})
    await bus.publish(Topic.POSITION_CLOSED, PositionClosed(closed))
    await bus.wait_idle()
    await bus.publish(Topic.POSITION_UPDATED, PositionUpdated(position))  # stale, arrives late
    await bus.wait_idle()
    await bus.publish(Topic.INDICATORS_UPDATED, indicators(100, T + 5 * MIN))
    await bus.wait_idle()
    assert Echo.seen_positions == [1, 0]
    await bus.stop()


async def test_open_positions_per_symbol_survive_the_closed_position_pruning() -> None:
    bus = EventBus()
    service = StrategyService(bus, StrategyRunner(StrategyRegistry()))
    service.attach()
    await bus.start()
    keep = open_position(pid="keep", strategy_id="e")
    other = replace(open_position(pid="eth", strategy_id="e"), symbol="ETHUSDT")
    for position in (keep, other):
        await bus.publish(Topic.POSITION_UPDATED, PositionUpdated(position))
    for n in range(10_050):  # more closed positions than the service keeps
        gone = replace(open_position(pid=f"c{n}", strategy_id="e"), qty=Decimal(0), closed_at=T)
        await bus.publish(Topic.POSITION_CLOSED, PositionClosed(gone))
    await bus.wait_idle()
    assert service.open_positions(keep.symbol) == (keep,)
    assert service.open_positions("ETHUSDT") == (other,)
    assert service.open_positions("XRPUSDT") == ()
    await bus.stop()

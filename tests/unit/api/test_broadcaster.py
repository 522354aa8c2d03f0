"""Broadcaster fan-out: ordering, isolation of a stalled client, resume, bus wiring."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest

from ictbot.api.auth import Scope
from ictbot.api.broadcaster import CLOSE_SLOW_CONSUMER, Broadcaster
from ictbot.bus import EventBus, Topic
from ictbot.domain import events as ev
from ictbot.domain.candle import Candle
from ictbot.domain.signal import Direction, EntryType, Signal
from ictbot.domain.timeframe import Timeframe
from tests.unit.api.fakes import SECRET_API_KEY, make_order, make_position


class FakeConnection:
    def __init__(self, stalled: bool = False) -> None:
        self.stalled = stalled
        self.received: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self._never = asyncio.Event()

    async def send_text(self, text: str) -> None:
        if self.stalled:
            await self._never.wait()
        self.received.append(json.loads(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def data_seqs(self) -> list[int]:
        return [m["seq"] for m in self.received if "seq" in m]


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_every_subscriber_gets_every_message_in_order_and_a_stalled_one_is_dropped() -> None:
    feed = Broadcaster(queue_size=16, ring_size=100)
    healthy = [FakeConnection() for _ in range(50)]
    stalled = FakeConnection(stalled=True)
    clients = [feed.register(conn, Scope.READ) for conn in [*healthy, stalled]]
    for client in clients:
        feed.subscribe(client, ["order"])
    for i in range(200):
        feed.publish("order", {"i": i})  # synchronous: nobody can make publish wait
        await settle()
    await settle()
    for conn in healthy:
        assert conn.data_seqs() == list(range(1, 201))
        assert [m["data"]["i"] for m in conn.received] == list(range(200))
    assert stalled.closed is not None and stalled.closed[0] == CLOSE_SLOW_CONSUMER
    assert feed.evicted == 1
    assert len(feed.clients) == 50


async def test_type_filtering_and_unsubscribe() -> None:
    feed = Broadcaster()
    conn = FakeConnection()
    client = feed.register(conn, Scope.READ)
    feed.subscribe(client, ["alert"])
    feed.publish("order", {"x": 1})
    feed.publish("alert", {"x": 2})
    await settle()  # subscriptions apply when the fan-out task delivers
    feed.unsubscribe(client, ["alert"])
    feed.publish("alert", {"x": 3})
    await settle()
    assert [(m["type"], m["seq"], m["data"]) for m in conn.received] == [("alert", 2, {"x": 2})]
    assert set(conn.received[0]) == {"type", "data", "timestamp", "seq"}


async def test_resume_replays_missed_messages_of_subscribed_types() -> None:
    feed = Broadcaster(ring_size=5)
    for i in range(8):
        feed.publish("order" if i % 2 else "signal", {"i": i})
    conn = FakeConnection()
    client = feed.register(conn, Scope.READ)
    gap = feed.subscribe(client, ["order"], since_seq=5)
    await settle()
    assert gap is None
    assert conn.data_seqs() == [6, 8]  # seq 6 and 8 were orders; seq 7 a signal
    late = FakeConnection()
    late_client = feed.register(late, Scope.READ)
    gap = feed.subscribe(late_client, ["order", "signal"], since_seq=1)
    await settle()
    assert gap is not None and "2..3" in gap  # ring holds 4..8 only
    assert late.data_seqs() == [4, 5, 6, 7, 8]


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError):
        Broadcaster().publish("gossip", {})


async def test_attach_converts_bus_payloads_to_json() -> None:
    bus = EventBus()
    feed = Broadcaster()
    subs = feed.attach(bus)
    assert all(sub.policy.value == "drop_oldest" for sub in subs)
    conn = FakeConnection()
    client = feed.register(conn, Scope.READ)
    feed.subscribe(client, ["signal", "order", "position", "alert", "config", "candle"])
    await bus.start()
    signal = Signal("ict_ote", "BTCUSDT", Direction.LONG, EntryType.LIMIT, Decimal("29500"), (Decimal("31000"),),
                    1_700_000_000_000, entry_price=Decimal("30000"))
    candle = Candle("BTCUSDT", Timeframe.M5, 1_700_000_100_000 - 1_700_000_100_000 % 300_000, Decimal(1),
                    Decimal(2), Decimal("0.5"), Decimal("1.5"), Decimal(10))
    await bus.publish(Topic.SIGNAL_GENERATED, ev.SignalGenerated(signal))
    await bus.publish(Topic.ORDER_UPDATED, ev.OrderUpdated(make_order()))
    await bus.publish(Topic.POSITION_UPDATED, ev.PositionUpdated(make_position(), Decimal("30100")))
    await bus.publish(Topic.ALERT, ev.Alert(ev.AlertLevel.WARNING, "test", "hi", {"api_key": SECRET_API_KEY}))
    await bus.publish(Topic.CONFIG_UPDATED, ev.ConfigUpdated(3, "risk", {"max_positions": 2}))
    await bus.publish(Topic.CANDLE_STORED, ev.CandleStored(candle))
    await bus.wait_idle()
    await settle()
    await bus.stop()
    by_type = {m["type"]: m["data"] for m in conn.received}
    assert by_type["signal"]["id"] == signal.id and by_type["signal"]["stop_loss"] == "29500"
    assert by_type["order"]["order"]["status"] == "NEW"
    assert by_type["position"]["position"]["unrealized_pnl"] == "50.0"
    assert by_type["alert"]["details"]["api_key"] == "***"
    assert SECRET_API_KEY not in json.dumps(conn.received)
    assert by_type["config"] == {"version": 3, "section": "risk", "changes": {"max_positions": 2}}
    assert by_type["candle"]["timeframe"] == "5m" and by_type["candle"]["close"] == "1.5"
    feed.detach(bus)
    assert bus.subscriptions() == []


async def test_heartbeats_and_metric_feed() -> None:
    from ictbot.monitoring.reports import TradingMetrics

    feed = Broadcaster(heartbeat_s=0.01)

    async def source() -> TradingMetrics:
        return TradingMetrics(trades=7)

    conn = FakeConnection()
    client = feed.register(conn, Scope.READ)
    feed.subscribe(client, ["metric"])
    await feed.start(source, metrics_interval_s=0.01)
    for _ in range(100):
        await asyncio.sleep(0.005)
        types = {m["type"] for m in conn.received}
        if {"heartbeat", "metric"} <= types:
            break
    await feed.stop()
    assert {"heartbeat", "metric"} <= {m["type"] for m in conn.received}
    assert next(m for m in conn.received if m["type"] == "metric")["data"]["trades"] == 7
    assert conn.closed is not None and conn.closed[0] == 1001


async def test_replay_is_capped_to_half_the_client_queue() -> None:
    feed = Broadcaster(queue_size=8, ring_size=100)
    for i in range(20):
        feed.publish("alert", {"i": i})
    conn = FakeConnection()
    client = feed.register(conn, Scope.READ)
    gap = feed.subscribe(client, ["alert"], since_seq=0)
    await settle()
    assert conn.data_seqs() == [17, 18, 19, 20]  # the newest four, and the client stays connected
    assert gap is not None and "1..16" in gap
    assert conn.closed is None


async def test_resume_racing_the_fanout_delivers_each_message_once() -> None:
    feed = Broadcaster()
    conn = FakeConnection()
    client = feed.register(conn, Scope.READ)
    feed.publish("order", {"n": 1})  # recorded, not yet fanned out
    feed.subscribe(client, ["order"], since_seq=0)  # the replay delivers it now
    feed.publish("order", {"n": 2})
    await settle()
    assert conn.data_seqs() == [1, 2]


async def test_fanout_yields_to_the_loop_between_chunks() -> None:
    from ictbot.api.broadcaster import FANOUT_CHUNK

    feed = Broadcaster()
    conns = [FakeConnection() for _ in range(FANOUT_CHUNK * 2 + 1)]
    for conn in conns:
        feed.subscribe(feed.register(conn, Scope.READ), ["order"])
    feed.publish("order", {})
    await asyncio.sleep(0)  # the fan-out task's first step serves one chunk, then yields
    assert sum(1 for c in conns if c.received) == FANOUT_CHUNK
    await settle()
    assert all(c.data_seqs() == [1] for c in conns)


def test_indicator_messages_are_a_compact_summary() -> None:
    from ictbot.api.serialize import TOPIC_MESSAGES
    from ictbot.domain.ict import IctEvent, IndicatorSnapshot, TimeframeView, Zone

    zone = Zone("z1", "fvg", 1, "5m", 101.0, 100.0, 0, 0)
    event = IctEvent("e1", "bos", 1, "5m", 1, 2, 0, 0, level=100.5)
    view = TimeframeView("5m", 0, 100.7, trend=1, atr=float("nan"), fvgs=(zone,), new_events=(event,))
    snapshot = IndicatorSnapshot("BTCUSDT", 300_000, "5m", {"5m": view}, active_windows=("london_kz",))
    candle = Candle("BTCUSDT", Timeframe.M5, 0, Decimal(1), Decimal(1), Decimal(1), Decimal(1), Decimal(1))
    message_type, convert = TOPIC_MESSAGES[Topic.INDICATORS_UPDATED]
    data = convert(ev.IndicatorsUpdated(snapshot, candle))
    assert message_type == "indicator"
    assert data["views"]["5m"]["fvgs"] == 1 and data["views"]["5m"]["trend"] == 1
    assert data["views"]["5m"]["atr"] is None  # NaN is not JSON
    assert data["views"]["5m"]["new_events"] == [{"id": "e1", "kind": "bos", "direction": 1}]
    json.dumps(data, allow_nan=False)

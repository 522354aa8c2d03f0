"""The bus is a notification channel: when it refuses order events (NATS down, a JetStream ack
timing out), orders are still sent, fills still reach the position and the journal, and the
position is still protected. The ORDER_* events are published before the request leaves and before
the fills are booked, so a publish that raised there would stop exactly those."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ictbot.bus import Envelope, EventBus, Topic
from ictbot.domain.errors import FinalError
from ictbot.domain.order import Order, OrderLeg, OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution import ExecutionConfig
from ictbot.ports.venue import VenueOrderReport
from tests.unit.execution.fake_venue import drain_stream
from tests.unit.execution.harness import make_harness, make_intent

_ORDER_TOPICS = frozenset({Topic.ORDER_UPDATED, Topic.ORDER_EXECUTED})


class FlakyBus(EventBus):
    """An in-process bus whose order events (or ``topics``) fail while ``down``, as the NATS bus's do."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refused = 0
        self.topics = _ORDER_TOPICS  # the topics refused while down

    async def publish(self, topic: Topic, payload: Any) -> Envelope:
        if self.down and topic in self.topics:
            self.refused += 1
            raise ConnectionError("nats: no servers available")
        return await super().publish(topic, payload)


async def test_an_entry_is_sent_booked_and_protected_while_the_bus_refuses_order_events() -> None:
    bus = FlakyBus()
    await bus.start()
    h = await make_harness(bus=bus)
    bus.down = True
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    assert bus.refused > 0
    assert entry.client_order_id in [o.client_order_id for o in h.venue.place_calls]
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.FILLED
    position = h.positions.get(entry.position_id)
    assert position is not None and position.is_open
    assert h.executor.protection_deficit(entry.position_id, confirmed=True) == 0  # its stop is on the venue
    await bus.stop()


async def test_a_fill_reported_while_the_bus_is_down_reaches_the_position_and_is_protected() -> None:
    bus = FlakyBus()
    await bus.start()
    h = await make_harness(bus=bus)
    entry = await h.executor.submit_intent(make_intent(entry_type=EntryType.LIMIT, entry="49900", qty="0.1"))
    await h.settle()
    assert h.positions.get(entry.position_id) is None  # resting
    bus.down = True
    h.venue.fill(entry.client_order_id)
    await h.settle()  # the stream's report is applied with the bus down
    assert bus.refused > 0
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.FILLED
    position = h.positions.get(entry.position_id)
    assert position is not None and position.is_open
    assert h.executor.protection_deficit(entry.position_id, confirmed=True) == 0
    await bus.stop()


async def test_a_fill_whose_commit_failed_is_published_once_when_its_report_comes_again() -> None:
    """Order events go out before the commit: when the journal write then fails, the report comes
    again (stream, query, reconciliation) and must not announce the same trade a second time."""
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(entry_type=EntryType.LIMIT, entry="49900", qty="0.1"))
    await h.settle()
    cid = entry.client_order_id
    plain_save = h.journal.save
    failures = [RuntimeError("database is locked")]

    async def save_failing_once(order: Order) -> None:
        if order.client_order_id == cid and order.status is OrderStatus.FILLED and failures:
            raise failures.pop()
        await plain_save(order)

    h.journal.save = save_failing_once  # type: ignore[method-assign]
    h.venue.fill(cid)
    report = drain_stream(h.venue)[0]
    with pytest.raises(RuntimeError):
        await h.executor.apply_report(report)
    await h.executor.apply_report(report)  # the same report again (e.g. the reconciler's query)
    await h.settle()
    await h.bus.wait_idle()
    assert h.journal.orders[cid].status is OrderStatus.FILLED
    executed = [e for e in h.published(Topic.ORDER_EXECUTED) if e.order.client_order_id == cid]
    assert len(executed) == 1
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == entry.quantity  # booked once


class StalledBus(EventBus):
    """An in-process bus whose order events never get their ack while ``stalled`` (NATS reconnecting)."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = False

    async def publish(self, topic: Topic, payload: Any) -> Envelope:
        if self.stalled and topic in _ORDER_TOPICS:
            await asyncio.Event().wait()  # never set
        return await super().publish(topic, payload)


async def test_a_stalled_bus_does_not_hold_an_order_or_its_fill_back() -> None:
    bus = StalledBus()
    await bus.start()
    h = await make_harness(bus=bus, config=ExecutionConfig(background_tasks=False, event_publish_timeout_s=0.01))
    bus.stalled = True
    async with asyncio.timeout(10):  # a hang fails the test instead of stalling the run
        entry = await h.executor.submit_intent(make_intent(qty="0.1"))
        await h.executor.drain()
    assert entry.client_order_id in [o.client_order_id for o in h.venue.place_calls]
    position = h.positions.get(entry.position_id)
    assert position is not None and position.is_open
    assert h.executor.protection_deficit(entry.position_id, confirmed=True) == 0
    assert h.executor.stats.extra["events_not_published"] > 0
    bus.stalled = False
    await bus.stop()


async def test_a_refused_stop_flattens_the_position_while_the_bus_refuses_its_alert() -> None:
    """The CRITICAL alert comes before the flatten is started: a bus that refuses it (NATS down)
    must not leave the position open without its stop."""
    bus = FlakyBus()
    await bus.start()
    h = await make_harness(bus=bus)

    async def refuse(stop: Order, target: Order, list_id: str) -> list[VenueOrderReport]:
        raise FinalError("Account has insufficient balance for requested action.", code=-2010)

    h.venue.place_oco = refuse  # type: ignore[method-assign]
    bus.down, bus.topics = True, frozenset({Topic.ALERT})
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))  # filled at once; its OCO is refused
    await h.settle()
    assert bus.refused > 0
    assert [o.leg for o in h.venue.place_calls].count(OrderLeg.EXIT) == 1
    assert h.positions.get(entry.position_id) is None  # flattened
    await bus.stop()

"""The background loops: user stream, REST polling while it is down, reconcile on reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution import ExecutionConfig
from ictbot.ports.clock import SystemClock
from tests.unit.execution.fake_venue import FakeVenue
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal
FAST = ExecutionConfig(poll_interval_s=0.01, timer_interval_s=0.01, reconcile_interval_s=3600)


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait for the background tasks to reach a state (bounded; generous for a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


async def test_fills_arrive_through_the_stream_and_through_polling_while_it_is_down() -> None:
    venue = FakeVenue()
    h = await make_harness(venue, config=FAST, clock=SystemClock())  # type: ignore[arg-type]
    try:
        entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
        venue.fill(entry.client_order_id, D("0.04"))
        await until(lambda: h.executor.protection_deficit(entry.position_id) == 0
                    and h.positions.get(entry.position_id) is not None)
        assert h.service.health()["stream_up"] is True

        venue.drop_stream()
        await until(lambda: h.service.health()["stream_up"] is False)
        venue.fill(entry.client_order_id, D("0.06"))  # no stream: only REST polling can see this
        await until(lambda: h.journal.orders[entry.client_order_id].status is OrderStatus.FILLED)
        assert h.journal.orders[entry.client_order_id].filled_qty == D("0.1")

        reconciles = h.service.reconciler.last
        venue.stream_broken = False
        await until(lambda: h.service.health()["stream_up"] is True)
        await until(lambda: h.service.reconciler.last is not reconciles
                    and h.service.reconciler.last is not None
                    and h.service.reconciler.last.reason == "stream reconnect")
        await until(lambda: h.executor.protection_deficit(entry.position_id) == 0)
        stops = [o for o in venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
        assert sum(o.remaining for o in stops) == D("0.1")
    finally:
        await h.service.stop()
        await h.bus.stop()


class SelfReconnectingStream:
    """Like the Binance adapter's user stream: reconnects by itself, tells listeners."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.listeners: list[Callable[[], object]] = []

    def add_resubscribe_listener(self, listener: Callable[[], object]) -> None:
        self.listeners.append(listener)

    def resubscribed(self) -> None:
        self.connected.set()
        for listener in self.listeners:
            listener()


async def test_a_self_reconnecting_stream_triggers_polling_while_down_and_reconcile_on_resubscribe() -> None:
    venue = FakeVenue()
    stream = SelfReconnectingStream()
    venue.user_stream = stream  # type: ignore[attr-defined]
    h = await make_harness(venue, config=FAST, clock=SystemClock())  # type: ignore[arg-type]
    try:
        stream.resubscribed()  # first subscription
        await until(lambda: h.service.reconciler.last is not None
                    and h.service.reconciler.last.reason == "stream subscribed")
        assert h.service.health()["stream_up"] is True
        entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
        stream.connected.clear()  # the adapter lost its connection; its events stop arriving
        venue.mute_stream = True
        drops = h.service.health()["stream_drops"]
        assert h.service.health()["stream_up"] is False
        venue.fill(entry.client_order_id)
        await until(lambda: h.journal.orders[entry.client_order_id].status is OrderStatus.FILLED)  # by polling
        stream.resubscribed()
        await until(lambda: h.service.reconciler.last is not None
                    and h.service.reconciler.last.reason == "stream reconnect")
        assert h.service.health()["stream_drops"] == drops + 1
    finally:
        await h.service.stop()
        await h.bus.stop()

"""Bus entry point, rejected protection/exits, IOC partial entries, futures stop moves."""

from __future__ import annotations

from decimal import Decimal

from ictbot.bus import Topic
from ictbot.domain.errors import FinalError, InsufficientBalanceError
from ictbot.domain.events import SignalValidated
from ictbot.domain.order import OrderLeg, OrderStatus, OrderType, TimeInForce
from ictbot.domain.signal import EntryType
from ictbot.execution import ExecutionConfig
from tests.unit.execution.fake_venue import FakeVenue, futures_btc
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal


async def test_signal_validated_on_the_bus_places_the_entry_and_a_blocked_one_raises_an_alert() -> None:
    h = await make_harness()
    await h.bus.publish(Topic.SIGNAL_VALIDATED, SignalValidated(make_intent(time=1)))
    await h.bus.wait_idle()
    await h.settle()
    assert [c.leg for c in h.venue.place_calls][:1] == [OrderLeg.ENTRY]
    assert len(h.positions.open_positions()) == 1

    h.executor.block_entries("emergency", "operator said stop")
    await h.bus.publish(Topic.SIGNAL_VALIDATED, SignalValidated(make_intent(time=2)))
    await h.bus.wait_idle()
    assert any("operator said stop" in a.message for a in h.alerts)
    assert [c.leg for c in h.venue.place_calls].count(OrderLeg.ENTRY) == 1


async def test_a_rejected_stop_flattens_the_position() -> None:
    h = await make_harness()
    original = h.venue.place_oco

    async def refuse(*args: object, **kwargs: object) -> object:
        h.venue.place_oco = original  # type: ignore[method-assign]
        raise FinalError("Filter failure: MAX_NUM_ALGO_ORDERS", code=-2010)  # (a passed leg: test_entry_lists)

    h.venue.place_oco = refuse  # type: ignore[method-assign]
    entry = await h.executor.submit_intent(make_intent())
    await h.settle()
    assert h.positions.get(entry.position_id) is None
    exits = [o for o in h.journal.orders.values() if o.leg is OrderLeg.EXIT]
    assert len(exits) == 1 and exits[0].status is OrderStatus.FILLED
    assert any(a.level.value == "critical" and "flattening" in a.message for a in h.alerts)


async def test_repeatedly_rejected_exits_stop_after_three_and_protection_is_rearmed() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent())
    await h.settle()
    h.venue.reject_next = [InsufficientBalanceError("Account has insufficient balance", code=-2010)
                           for _ in range(3)]
    await h.service.close_position(entry.position_id)
    await h.settle()

    exits = [o for o in h.journal.orders.values() if o.leg is OrderLeg.EXIT]
    assert len(exits) == 3 and all(o.status is OrderStatus.REJECTED for o in exits)
    assert h.positions.get(entry.position_id) is not None
    assert h.executor.protection_deficit(entry.position_id, confirmed=True) == 0
    assert any("manual action needed" in a.message for a in h.alerts)


async def test_an_ioc_entry_that_expires_partly_filled_protects_the_filled_part() -> None:
    config = ExecutionConfig(background_tasks=False, limit_entry_tif=TimeInForce.IOC)
    h = await make_harness(config=config)
    entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
    assert entry.time_in_force is TimeInForce.IOC
    h.venue.fill(entry.client_order_id, D("0.02"))
    h.venue._finish(h.venue.orders[entry.client_order_id], OrderStatus.EXPIRED)
    await h.settle()
    order = h.journal.orders[entry.client_order_id]
    assert order.status is OrderStatus.EXPIRED and order.filled_qty == D("0.02")
    stops = [o for o in h.venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
    assert sum(o.remaining for o in stops) == D("0.02")


async def test_futures_stop_move_arms_the_new_stop_before_cancelling_the_old() -> None:
    h = await make_harness(FakeVenue([futures_btc()]))
    entry = await h.executor.submit_intent(make_intent(qty="0.01", stop="49000", targets=("53000",)))
    await h.settle()
    old = next(o.order.client_order_id for o in h.venue.open_venue_orders() if o.order.leg is OrderLeg.STOP)
    await h.executor.move_stop(entry.position_id, D("50000"))
    await h.settle()

    new_stop = next(c.client_order_id for c in h.venue.place_calls if c.stop_price == D("50000"))
    assert h.venue.cancel_calls == [old]
    assert h.venue.calls.index(("place", new_stop)) < h.venue.calls.index(("cancel", old))
    live = [o.order for o in h.venue.open_venue_orders()]
    assert sorted((o.type, o.stop_price) for o in live) == [
        (OrderType.STOP_MARKET, D("50000.0")), (OrderType.TAKE_PROFIT_MARKET, D("53000.0"))]


async def test_spot_protection_never_asks_for_more_coins_than_the_account_holds() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    # The venue kept a base-asset fee our books never saw (e.g. a fill rebuilt without detail).
    for venue_order in list(h.venue.open_venue_orders()):
        if venue_order.order.leg is OrderLeg.STOP:
            await h.venue.cancel_order("BTCUSDT", venue_order.order.client_order_id)
    h.venue.balances_["BTC"] = D("0.0999")
    await h.settle()
    stops = [o for o in h.venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
    assert sum(o.remaining for o in stops) == D("0.0999")
    assert not [o for o in h.journal.orders.values() if o.status is OrderStatus.REJECTED]
    assert any("only 0.09990 is free" in a.message for a in h.alerts)
    assert entry.position_id not in h.executor.unprotected_positions()

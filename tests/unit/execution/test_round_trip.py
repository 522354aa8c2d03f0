"""Entry → fills → protective orders → exit → position closed, on spot and on futures."""

from __future__ import annotations

from decimal import Decimal

from ictbot.bus import Topic
from ictbot.domain.order import OrderLeg, OrderStatus, OrderType
from ictbot.domain.signal import Direction
from tests.unit.execution.fake_venue import FakeVenue, futures_btc
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal


async def test_spot_long_entry_is_protected_by_an_oco_and_closes_at_target() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", stop="49000", targets=("52000",)))
    await h.settle()

    assert entry.status is OrderStatus.FILLED
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.1")
    open_orders = h.venue.open_venue_orders()
    assert sorted(o.order.type for o in open_orders) == [OrderType.LIMIT_MAKER, OrderType.STOP_LOSS_LIMIT]
    stop = next(o.order for o in open_orders if o.order.leg is OrderLeg.STOP)
    target = next(o.order for o in open_orders if o.order.leg is OrderLeg.TAKE_PROFIT)
    assert stop.list_id and stop.list_id == target.list_id
    assert stop.stop_price == D("49000") and stop.price is not None and stop.price < D("49000")
    assert stop.quantity == target.quantity == D("0.1")
    assert all(h.venue.journaled_before_send)

    h.venue.set_price("BTCUSDT", D("52000"))
    await h.settle()

    assert h.positions.get(entry.position_id) is None
    closed = h.positions_repo.positions[entry.position_id]
    fees = D("0.1") * D("50000") * D("0.001") + D("0.1") * D("52000") * D("0.001")
    assert closed.realized_pnl == D("200") - fees
    assert h.venue.open_venue_orders() == []
    assert h.executor.open_orders() == []
    assert all(o.status.is_terminal for o in h.journal.orders.values())
    assert len(h.published(Topic.POSITION_CLOSED)) == 1
    executed = h.published(Topic.ORDER_EXECUTED)
    assert [e.order.leg for e in executed] == [OrderLeg.ENTRY, OrderLeg.TAKE_PROFIT]


async def test_spot_stop_hit_closes_at_a_loss_and_expires_the_target() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", stop="49000", targets=("52000",)))
    await h.settle()
    h.venue.set_price("BTCUSDT", D("48990"))
    await h.settle()

    closed = h.positions_repo.positions[entry.position_id]
    assert not closed.is_open and closed.realized_pnl < D("-100")
    statuses = {o.leg: o.status for o in h.journal.orders.values()}
    assert statuses == {OrderLeg.ENTRY: OrderStatus.FILLED, OrderLeg.STOP: OrderStatus.FILLED,
                        OrderLeg.TAKE_PROFIT: OrderStatus.EXPIRED}


async def test_two_targets_split_the_quantity_into_two_oco_lists() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", targets=("51000", "52000")))
    await h.settle()
    stops = [o.order for o in h.venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
    assert sorted(s.quantity for s in stops) == [D("0.05"), D("0.05")]
    assert len({s.list_id for s in stops}) == 2

    h.venue.set_price("BTCUSDT", D("51000"))
    await h.settle()
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.05")
    assert position.take_profits == (D("52000"),)
    assert h.executor.protection_deficit(entry.position_id) == 0

    h.venue.set_price("BTCUSDT", D("52000"))
    await h.settle()
    assert h.positions.get(entry.position_id) is None
    assert h.venue.open_venue_orders() == []


async def test_futures_short_uses_reduce_only_algo_orders_and_sets_leverage() -> None:
    h = await make_harness(FakeVenue([futures_btc()]))
    intent = make_intent(direction=Direction.SHORT, qty="0.01", stop="51000", targets=("48000",), leverage=5)
    entry = await h.executor.submit_intent(intent)
    await h.settle()

    assert h.venue.leverage["BTCUSDT"] == 5
    protective = sorted((o.order for o in h.venue.open_venue_orders()), key=lambda o: o.leg.value)
    assert [(o.type, o.reduce_only, o.side.value) for o in protective] == [
        (OrderType.STOP_MARKET, True, "BUY"), (OrderType.TAKE_PROFIT_MARKET, True, "BUY")]
    assert all(not o.list_id for o in protective)

    h.venue.set_price("BTCUSDT", D("48000"))
    await h.settle()
    closed = h.positions_repo.positions[entry.position_id]
    assert not closed.is_open and closed.realized_pnl > 0
    # the stop of a closed position is cancelled, not left behind
    assert h.venue.open_venue_orders() == []
    assert h.venue.positions_.get("BTCUSDT") == 0


async def test_futures_two_targets_the_first_fill_leaves_the_second_and_a_full_stop() -> None:
    h = await make_harness(FakeVenue([futures_btc()]))
    entry = await h.executor.submit_intent(make_intent(qty="0.02", stop="49000", targets=("51000.04", "52000")))
    await h.settle()
    h.venue.set_price("BTCUSDT", D("51000"))
    await h.settle()
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.01")
    assert position.take_profits == (D("52000"),)
    assert h.executor.protection_deficit(entry.position_id) == 0
    h.venue.set_price("BTCUSDT", D("52000"))
    await h.settle()
    assert h.positions.get(entry.position_id) is None
    assert h.venue.open_venue_orders() == []

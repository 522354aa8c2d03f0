"""protection.py: stops for every open position; a target whose OCO lost its stop is re-armed."""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.order import OrderLeg, OrderStatus
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal


def _open(h: object, leg: OrderLeg) -> list[object]:
    return [o for o in h.venue.open_venue_orders() if o.order.leg is leg]  # type: ignore[attr-defined]


async def test_a_filled_entry_gets_one_oco_covering_the_position() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    assert [o.remaining for o in _open(h, OrderLeg.STOP)] == [D("0.1")]  # type: ignore[attr-defined]
    assert [o.remaining for o in _open(h, OrderLeg.TAKE_PROFIT)] == [D("0.1")]  # type: ignore[attr-defined]
    assert h.executor.protection_deficit(entry.position_id, confirmed=True) == 0


async def test_a_partly_filled_target_without_its_stop_is_cancelled_and_the_rest_rearmed_as_one_oco() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    (stop,), (target,) = _open(h, OrderLeg.STOP), _open(h, OrderLeg.TAKE_PROFIT)
    h.venue.fill(target.order.client_order_id, D("0.03"))  # type: ignore[attr-defined]
    h.venue._finish(stop, OrderStatus.EXPIRED)  # Binance expires the stop leg once the target trades
    await h.settle()

    assert h.venue.orders[target.order.client_order_id].status is OrderStatus.CANCELED  # type: ignore[attr-defined]
    stops, targets = _open(h, OrderLeg.STOP), _open(h, OrderLeg.TAKE_PROFIT)
    assert [o.remaining for o in stops] == [D("0.07")]  # type: ignore[attr-defined]
    assert [o.remaining for o in targets] == [D("0.07")]  # type: ignore[attr-defined]
    assert stops[0].order.list_id == targets[0].order.list_id != target.order.list_id  # type: ignore[attr-defined]
    assert all(h.venue.journaled_before_send)
    assert h.executor.unprotected_positions() == []
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.07")


async def test_targets_whose_stop_is_still_open_are_left_alone() -> None:
    h = await make_harness()
    await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    (target,) = _open(h, OrderLeg.TAKE_PROFIT)
    placed = len(h.venue.place_calls)
    h.venue.fill(target.order.client_order_id, D("0.03"))  # type: ignore[attr-defined]
    await h.settle()  # the stop leg is still open (it covers more than the rest): nothing to re-arm
    assert h.venue.orders[target.order.client_order_id].status is OrderStatus.PARTIALLY_FILLED  # type: ignore[attr-defined]
    assert len(h.venue.place_calls) == placed

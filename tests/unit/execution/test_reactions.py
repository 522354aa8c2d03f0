"""reactions.py: what an order's change triggers — protection, flattening, forgetting a plan."""

from __future__ import annotations

from ictbot.domain.errors import FinalError
from ictbot.domain.events import AlertLevel
from ictbot.domain.order import Order, OrderLeg
from ictbot.execution.reactions import market_passed_a_leg
from ictbot.ports.venue import VenueOrderReport
from tests.unit.execution.harness import make_harness, make_intent


def test_a_price_already_past_a_leg_is_recognised_from_binances_texts() -> None:
    assert market_passed_a_leg("-2010 The relationship of the prices for the orders is not correct.")
    assert market_passed_a_leg("Order would immediately match and take.")
    assert not market_passed_a_leg("Account has insufficient balance for requested action.")


async def test_a_refused_stop_flattens_the_position_with_a_critical_alert() -> None:
    h = await make_harness()

    async def refuse(stop: Order, target: Order, list_id: str) -> list[VenueOrderReport]:
        raise FinalError("Account has insufficient balance for requested action.", code=-2010)

    h.venue.place_oco = refuse  # type: ignore[method-assign]
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))  # filled at once; its OCO is refused
    await h.settle()
    assert h.positions.get(entry.position_id) is None
    assert [o.leg for o in h.venue.place_calls].count(OrderLeg.EXIT) == 1
    assert any(a.level is AlertLevel.CRITICAL and "rejected" in a.message for a in h.alerts)

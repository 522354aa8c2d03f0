"""closing.py: cancels confirmed by the venue; one market exit at a time; the emergency stop."""

from __future__ import annotations

import pytest

from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.execution import EntriesBlockedError, OrderNotOpenError, UnknownOrderError
from tests.unit.execution.harness import make_harness, make_intent


async def test_closing_cancels_the_protection_then_sends_exactly_one_exit() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    await h.executor.close_position(entry.position_id)
    await h.settle()
    assert h.positions.get(entry.position_id) is None
    exits = [o for o in h.venue.place_calls if o.leg is OrderLeg.EXIT]
    assert len(exits) == 1
    assert not h.venue.open_venue_orders()
    cancel_at = h.venue.calls.index(("place", exits[0].client_order_id))
    assert any(kind == "cancel" for kind, _ in h.venue.calls[:cancel_at])  # protection went first


async def test_cancel_order_names_unknown_and_finished_orders() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    with pytest.raises(UnknownOrderError):
        await h.executor.cancel_order("ict-nope-E0")
    with pytest.raises(OrderNotOpenError):
        await h.executor.cancel_order(entry.client_order_id)  # filled


async def test_emergency_stop_refuses_entries_and_flattens() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    result = await h.executor.emergency_stop("test")
    await h.settle()
    assert result["positions_closed"] == 1 and h.positions.get(entry.position_id) is None
    with pytest.raises(EntriesBlockedError):
        await h.executor.submit_intent(make_intent(qty="0.1", time=1_700_000_100_000))
    assert all(o.status is not OrderStatus.NEW for o in h.journal.orders.values())

"""sending.py: journal before send; a lost reply is an unknown outcome, never a second request."""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.errors import FinalError
from ictbot.domain.order import OrderStatus
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal


async def test_every_order_is_journaled_before_its_request_leaves() -> None:
    h = await make_harness()
    await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    assert len(h.venue.journaled_before_send) >= 2  # the entry and the OCO
    assert all(h.venue.journaled_before_send)


async def test_a_lost_reply_leaves_the_order_unknown_and_it_is_resolved_by_query_not_resent() -> None:
    h = await make_harness()
    h.venue.timeout_after_place = 1
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    assert entry.status is OrderStatus.SUBMITTED_UNKNOWN
    await h.settle()
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.FILLED
    assert [o.client_order_id for o in h.venue.place_calls].count(entry.client_order_id) == 1


async def test_a_refused_order_is_rejected_with_the_venues_reason() -> None:
    h = await make_harness()
    h.venue.reject_next.append(FinalError("Account has insufficient balance", code=-2010))
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    assert entry.status is OrderStatus.REJECTED and "insufficient balance" in entry.reason
    assert h.executor.stats.rejected == 1

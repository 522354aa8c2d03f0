"""unknown_outcomes.py: an order whose create reply was lost is found by query or declared lost."""

from __future__ import annotations

import asyncio

from ictbot.domain.order import OrderStatus
from ictbot.execution import LOST_REASON
from ictbot.ports.venue import VenueOrderReport
from tests.unit.execution.harness import make_harness, make_intent


async def test_an_order_the_venue_never_got_is_declared_lost_only_after_the_grace() -> None:
    h = await make_harness()
    h.venue.timeout_before_place = 1
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    cid = entry.client_order_id
    assert entry.status is OrderStatus.SUBMITTED_UNKNOWN
    assert await h.executor.resolve_once(cid) is False  # within the grace: it may still arrive
    assert h.executor.order(cid) is not None and cid in h.executor.unresolved
    h.clock.advance(h.executor.config.unknown_grace_s)
    assert await h.executor.resolve_once(cid) is True
    stored = h.journal.orders[cid]
    assert stored.status is OrderStatus.REJECTED and stored.reason == LOST_REASON
    assert len(h.venue.place_calls) == 1  # never resent


async def test_an_order_the_venue_knows_is_brought_to_its_state() -> None:
    h = await make_harness()
    h.venue.timeout_after_place = 1
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    assert await h.executor.resolve_once(entry.client_order_id) is True
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.FILLED


async def test_an_order_resolved_by_the_timer_and_its_follow_up_at_once_is_counted_lost_once() -> None:
    h = await make_harness()
    h.venue.timeout_before_place = 1
    plain_query = h.venue.query_order

    async def slow_query(symbol: str, client_order_id: str) -> VenueOrderReport | None:
        await asyncio.sleep(0)  # both paths are waiting on the venue at the same time
        return await plain_query(symbol, client_order_id)

    h.venue.query_order = slow_query  # type: ignore[method-assign]
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))  # spawns the follow-up query task
    cid = entry.client_order_id
    h.clock.advance(h.executor.config.unknown_grace_s)
    timer_pass, _ = await asyncio.gather(h.executor.resolve_once(cid), h.executor.drain())
    assert timer_pass is True
    assert h.journal.orders[cid].reason == LOST_REASON
    assert h.executor.stats.lost == 1

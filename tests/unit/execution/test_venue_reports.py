"""venue_reports.py: a report brings our order to the venue's state once; repeats change nothing."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ictbot.domain.order import OrderStatus
from ictbot.domain.signal import EntryType
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal


async def test_the_same_fill_report_twice_books_the_fill_once() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
    await h.settle()
    h.venue.fill(entry.client_order_id, D("0.04"))
    report = h.venue.report(h.venue.orders[entry.client_order_id])
    await h.settle()
    await h.executor.apply_report(report)
    await h.executor.apply_report(report)
    await h.settle()
    assert h.journal.orders[entry.client_order_id].filled_qty == D("0.04")
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.04")
    assert len(h.fills.fills) == 1


async def test_a_report_about_another_order_with_the_same_client_id_is_ignored() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
    await h.settle()
    stale = replace(h.venue.report(h.venue.orders[entry.client_order_id]), exchange_order_id="999999",
                    status=OrderStatus.CANCELED)
    await h.executor.apply_report(stale)
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.NEW

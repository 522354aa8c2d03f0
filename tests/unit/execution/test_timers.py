"""timers.py: entries older than ``entry_timeout_s`` are cancelled; younger ones stay."""

from __future__ import annotations

from ictbot.domain.order import OrderStatus
from ictbot.domain.signal import EntryType
from tests.unit.execution.harness import make_harness, make_intent


async def test_only_entries_past_the_timeout_are_cancelled() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
    await h.settle()
    h.clock.advance(h.executor.config.entry_timeout_s - 1)
    assert await h.executor.expire_entries() == 0
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.NEW
    h.clock.advance(1)
    assert await h.executor.expire_entries() == 1
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.CANCELED

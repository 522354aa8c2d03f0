"""executor_state.py: the shared queries — protection deficit, entry blocks."""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.signal import EntryType
from tests.unit.execution.fake_venue import drain_stream
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal


async def test_the_deficit_is_the_filled_quantity_no_stop_covers_yet() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1", entry_type=EntryType.LIMIT, entry="49500"))
    await h.settle()
    assert h.executor.protection_deficit(entry.position_id) == 0  # nothing filled, nothing exposed
    h.venue.fill(entry.client_order_id, D("0.04"))
    for report in drain_stream(h.venue):
        await h.executor.apply_report(report)  # the fill is booked; its stop is armed by a follow-up task
    assert h.executor.protection_deficit(entry.position_id) == D("0.04")
    assert h.executor.unprotected_positions() == [entry.position_id]
    await h.settle()
    assert h.executor.protection_deficit(entry.position_id, confirmed=True) == 0
    assert h.executor.unprotected_positions() == []


async def test_block_reasons_are_kept_per_key() -> None:
    h = await make_harness()
    h.executor.block_entries("a", "first")
    h.executor.block_entries("b", "second")
    h.executor.unblock_entries("a")
    assert h.executor.block_reasons == {"b": "second"}

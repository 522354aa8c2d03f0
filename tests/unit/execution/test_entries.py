"""entries.py: one entry per signal, refused while entries are blocked or a position is unprotected."""

from __future__ import annotations

import pytest

from ictbot.domain.order import OrderLeg
from ictbot.execution import EntriesBlockedError
from tests.unit.execution.harness import make_harness, make_intent


async def test_the_same_signal_twice_places_one_entry() -> None:
    h = await make_harness()
    first = await h.executor.submit_intent(make_intent(qty="0.1"))
    again = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    assert again.client_order_id == first.client_order_id
    assert [o.leg for o in h.venue.place_calls].count(OrderLeg.ENTRY) == 1


async def test_blocked_entries_are_refused_with_the_reason() -> None:
    h = await make_harness()
    h.executor.block_entries("operator", "paused by operator")
    with pytest.raises(EntriesBlockedError, match="paused by operator"):
        await h.executor.submit_intent(make_intent(qty="0.1"))
    assert h.venue.place_calls == []
    h.executor.unblock_entries("operator")
    await h.executor.submit_intent(make_intent(qty="0.1"))
    assert len(h.venue.place_calls) == 1

"""The executor's in-memory index of journaled client ids (the duplicate check without a database
round trip) and the entry's plan written together with its order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.domain.order import OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution.journal_index import JournalIndex
from ictbot.execution.planning import entry_order
from tests.unit.execution.fake_venue import spot_btc
from tests.unit.execution.harness import QUIET, make_harness, make_intent
from tests.unit.execution.memory_repos import MemoryJournal, MemoryKV

D = Decimal
LIMIT = {"entry_type": EntryType.LIMIT, "entry": "49500"}


async def test_a_new_signal_is_sent_without_asking_the_journal() -> None:
    h = await make_harness()
    h.venue.journal = None  # the venue double would otherwise read the journal itself
    h.journal.gets = 0
    order = await h.executor.submit_intent(make_intent(**LIMIT))
    assert h.journal.gets == 0
    assert [o.client_order_id for o in h.venue.place_calls] == [order.client_order_id]
    assert h.journal.orders[order.client_order_id].status is OrderStatus.NEW


async def test_a_filled_entry_resubmitted_after_a_restart_is_not_sent_again() -> None:
    h = await make_harness()
    intent = make_intent()  # MARKET: fills at once, so it leaves the executor's book
    filled = await h.executor.submit_intent(intent)
    await h.settle()
    assert h.journal.orders[filled.client_order_id].status is OrderStatus.FILLED
    h2 = await h.restart()
    assert h2.executor.order(filled.client_order_id) is None  # only the journal knows it now
    calls = len(h2.venue.place_calls)

    again = await h2.executor.submit_intent(intent)

    assert again.client_order_id == filled.client_order_id and again.status is OrderStatus.FILLED
    assert len(h2.venue.place_calls) == calls


async def test_the_entry_plan_is_stored_before_the_request_leaves() -> None:
    h = await make_harness()
    seen: list[str | None] = []
    place = h.venue.place_order

    async def checking(order):  # type: ignore[no-untyped-def]
        seen.append(await h.kv.get(f"execution.plan.{order.position_id}"))
        return await place(order)

    h.venue.place_order = checking  # type: ignore[method-assign]
    await h.executor.submit_intent(make_intent(**LIMIT, stop="49000", targets=("52000",)))
    assert len(seen) == 1 and seen[0] is not None
    assert '"stop_loss": "49000"' in seen[0] and '"52000"' in seen[0]


async def test_index_answers_from_memory_once_loaded_and_from_the_journal_before() -> None:
    journal = MemoryJournal()
    stored = entry_order(make_intent(**LIMIT), spot_btc(), QUIET, 0)
    await journal.save(stored)
    index = JournalIndex(journal)

    assert await index.holds(stored.client_order_id)  # not loaded: asks the journal
    assert journal.gets == 1
    await index.load()
    assert await index.holds(stored.client_order_id)
    assert not await index.holds("ict-000000000000000000000000-E0")
    assert await index.get("ict-000000000000000000000000-E0") is None
    assert journal.gets == 1  # nothing more reached the journal
    assert await index.get(stored.client_order_id) == stored

    other = entry_order(make_intent(**LIMIT, time=2), spot_btc(), QUIET, 0)
    kv = MemoryKV()
    await index.save_with_values(other, {"k": "v"}, kv)
    assert await index.holds(other.client_order_id)
    assert journal.orders[other.client_order_id] == other and kv.values == {"k": "v"}


async def test_an_id_whose_save_failed_is_still_checked_against_the_journal() -> None:
    class FailingJournal(MemoryJournal):
        async def save(self, order):  # type: ignore[no-untyped-def]
            raise OSError("disk full")

    journal = FailingJournal()
    index = JournalIndex(journal)
    await index.load()
    order = entry_order(make_intent(**LIMIT), spot_btc(), QUIET, 0)
    with pytest.raises(OSError):
        await index.save(order)
    # Superset, never a miss: the id counts as taken, and a lookup still asks the journal.
    assert await index.holds(order.client_order_id)
    assert await index.get(order.client_order_id) is None
    assert journal.gets == 1

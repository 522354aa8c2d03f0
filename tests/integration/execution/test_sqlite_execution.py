"""Execution on the real SQLite repositories: durability across a process restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from ictbot.adapters.storage import (
    Database,
    SqlFillRepository,
    SqlKeyValueStore,
    SqlOrderJournal,
    SqlPositionRepository,
    sqlite_url,
)
from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution.planning import entry_order
from tests.unit.execution.fake_venue import FakeVenue, spot_btc
from tests.unit.execution.harness import QUIET, Harness, make_harness, make_intent

D = Decimal


@asynccontextmanager
async def sqlite_harness(path: Path, venue: FakeVenue, *, start: bool = True) -> AsyncIterator[Harness]:
    """One 'process': its own Database on the shared file, stopped (not cleaned) on exit."""
    db = Database(sqlite_url(path))
    db.upgrade()
    repos: dict[str, Any] = {
        "journal": SqlOrderJournal(db),
        "fills": SqlFillRepository(db),
        "positions_repo": SqlPositionRepository(db),
        "kv": SqlKeyValueStore(db),
    }
    h = await make_harness(venue, start=start, **repos)
    try:
        yield h
    finally:
        await h.service.stop()
        await h.bus.stop()
        await db.close()


async def test_round_trip_is_durable_in_sqlite(tmp_path: Path) -> None:
    venue = FakeVenue()
    async with sqlite_harness(tmp_path / "bot.db", venue) as h:
        entry = await h.executor.submit_intent(make_intent(qty="0.1", targets=("52000",)))
        await h.settle()
        assert all(venue.journaled_before_send)
        venue.set_price("BTCUSDT", D("52000"))
        await h.settle()

    async with sqlite_harness(tmp_path / "bot.db", venue) as again:
        position = await again.positions_repo.get(entry.position_id)
        assert position is not None and not position.is_open and position.closed_at is not None
        assert position.realized_pnl == D("200") - D("5") - D("5.2")
        orders = await again.journal.query(limit=10)
        assert {o.leg: o.status for o in orders} == {
            OrderLeg.ENTRY: OrderStatus.FILLED,
            OrderLeg.STOP: OrderStatus.EXPIRED,
            OrderLeg.TAKE_PROFIT: OrderStatus.FILLED,
        }
        assert len(await again.fills.recent(limit=10)) == 2
        assert await again.journal.open_orders() == []


async def test_restart_with_open_orders_and_an_open_position_recovers_and_keeps_the_stop(tmp_path: Path) -> None:
    venue = FakeVenue()
    async with sqlite_harness(tmp_path / "bot.db", venue) as h:
        filled = await h.executor.submit_intent(make_intent(time=1))
        resting = await h.executor.submit_intent(make_intent(time=2, entry_type=EntryType.LIMIT, entry="49500"))
        await h.settle()
        calls = len(venue.place_calls)
    venue.fill(resting.client_order_id, D("0.05"))  # while down

    async with sqlite_harness(tmp_path / "bot.db", venue) as h2:
        first = h2.positions.get(filled.position_id)
        second = h2.positions.get(resting.position_id)
        assert first is not None and first.qty == D("0.1") and first.stop_loss == D("49000")
        assert second is not None and second.qty == D("0.05")
        assert h2.executor.protection_deficit(filled.position_id) == 0
        assert h2.executor.protection_deficit(resting.position_id) == 0
        new_calls = venue.place_calls[calls:]
        assert [c.leg for c in new_calls] == [OrderLeg.STOP]  # only the new part's OCO
        assert h2.mismatches == []


async def test_crash_between_journal_write_and_send_in_sqlite(tmp_path: Path) -> None:
    venue = FakeVenue()
    async with sqlite_harness(tmp_path / "bot.db", venue, start=False) as h:
        order = entry_order(make_intent(), spot_btc(), QUIET, h.clock.now_ms())
        await h.journal.save(order)
        await venue.place_order(order)  # sent, then the process died before the reply was journaled

    async with sqlite_harness(tmp_path / "bot.db", venue) as h2:
        stored = await h2.journal.get(order.client_order_id)
        assert stored is not None and stored.status is OrderStatus.FILLED
        assert len([c for c in venue.place_calls if c.leg is OrderLeg.ENTRY]) == 1
        assert h2.executor.protection_deficit(order.position_id) == 0


async def test_entry_and_its_plan_are_committed_in_one_transaction_before_the_request(tmp_path: Path) -> None:
    venue = FakeVenue()
    observer = Database(sqlite_url(tmp_path / "bot.db"))  # another connection: sees committed rows only
    try:
        async with sqlite_harness(tmp_path / "bot.db", venue) as h:
            db: Database = h.kv.database  # type: ignore[attr-defined]
            seen: list[tuple[str | None, str | None]] = []
            place = venue.place_order

            async def checking(order: Any) -> Any:
                row = await SqlOrderJournal(observer).get(order.client_order_id)
                plan = await SqlKeyValueStore(observer).get(f"execution.plan.{order.position_id}")
                seen.append((row.status.value if row else None, plan))
                return await place(order)

            venue.place_order = checking  # type: ignore[method-assign]
            jobs = db.writer.stats.jobs
            await h.executor.submit_intent(make_intent(entry_type=EntryType.LIMIT, entry="49500", stop="49000"))
            assert db.writer.stats.jobs == jobs + 2  # entry + plan in one commit, then the venue's answer
            assert len(seen) == 1
            status, plan = seen[0]
            assert status == OrderStatus.PENDING_SUBMIT.value
            assert plan is not None and '"stop_loss": "49000"' in plan
    finally:
        await observer.close()

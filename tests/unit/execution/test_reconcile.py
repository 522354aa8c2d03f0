"""Restart (warm and cold), crash between journal write and send, re-arming, mismatches."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution import LOST_REASON, EntriesBlockedError
from ictbot.execution.planning import entry_order
from tests.unit.execution.fake_venue import drain_stream, spot_btc
from tests.unit.execution.harness import QUIET, make_harness, make_intent
from tests.unit.execution.memory_repos import MemoryFills, MemoryJournal, MemoryKV, MemoryPositions

D = Decimal
LIMIT = {"entry_type": EntryType.LIMIT, "entry": "49500"}


async def test_warm_restart_recovers_orders_and_position_and_places_nothing_new() -> None:
    h = await make_harness()
    filled = await h.executor.submit_intent(make_intent(time=1))
    resting = await h.executor.submit_intent(make_intent(time=2, **LIMIT))
    await h.settle()
    calls = len(h.venue.place_calls)

    h2 = await h.restart()

    assert len(h2.venue.place_calls) == calls
    assert {o.client_order_id for o in h2.executor.open_orders()} == {
        o.order.client_order_id for o in h2.venue.open_venue_orders()}
    assert h2.executor.order(resting.client_order_id) is not None
    position = h2.positions.get(filled.position_id)
    assert position is not None and position.qty == D("0.1")
    assert h2.executor.protection_deficit(filled.position_id) == 0
    assert h2.service.health()["ready"] is True
    assert h2.mismatches == []


async def test_restart_picks_up_fills_that_happened_while_down() -> None:
    h = await make_harness()
    resting = await h.executor.submit_intent(make_intent(qty="0.1", **LIMIT))
    await h.settle()
    await h.service.stop()
    h.venue.fill(resting.client_order_id, D("0.06"))  # while the bot is down
    h.venue.drop_stream()

    h2 = await h.restart()

    order = h2.journal.orders[resting.client_order_id]
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled_qty == D("0.06")
    position = h2.positions.get(resting.position_id)
    assert position is not None and position.qty == D("0.06")
    stops = [o for o in h2.venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
    assert sum(o.remaining for o in stops) == D("0.06")
    assert position.stop_loss == D("49000")  # the planned stop survived through the KV store


async def test_cold_restart_adopts_our_orders_and_rebuilds_the_position_from_trades() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    venue = h.venue
    await h.service.stop()

    cold = await make_harness(venue, journal=MemoryJournal(), fills=MemoryFills(), positions_repo=MemoryPositions(),
                              kv=MemoryKV())

    assert cold.executor.stats.adopted >= 2  # the OCO legs (open) and the entry (via trades)
    position = cold.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.1")
    assert cold.executor.protection_deficit(entry.position_id) == 0
    assert len([o for o in venue.all_orders if o.order.leg is OrderLeg.STOP]) == 1  # no second stop
    assert cold.mismatches == []


async def test_cold_restart_without_order_terms_cancels_the_unknown_legs_and_rearms() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(qty="0.1"))
    await h.settle()
    venue = h.venue
    old_stop = next(o for o in venue.open_venue_orders() if o.order.leg is OrderLeg.STOP)
    await h.service.stop()
    venue.report_terms = False

    cold = await make_harness(venue, journal=MemoryJournal(), fills=MemoryFills(), positions_repo=MemoryPositions(),
                              kv=MemoryKV())

    assert old_stop.status is OrderStatus.CANCELED
    position = cold.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.1")
    open_stops = [o for o in venue.open_venue_orders() if o.order.leg is OrderLeg.STOP]
    assert len(open_stops) == 1 and open_stops[0].remaining == D("0.1")
    assert cold.mismatches == []
    assert any("terms are not reported" in a.message for a in cold.alerts)


async def test_crash_after_journal_write_with_the_order_never_sent_is_resolved_without_a_duplicate() -> None:
    h = await make_harness(start=False)
    order = entry_order(make_intent(), spot_btc(), QUIET, h.clock.now_ms())
    await h.journal.save(order)  # journaled PENDING_SUBMIT, then the process died
    h.clock.advance(QUIET.unknown_grace_s + 1)

    await h.service.start()
    await h.settle()

    assert h.journal.orders[order.client_order_id].status is OrderStatus.REJECTED
    assert h.journal.orders[order.client_order_id].reason == LOST_REASON
    assert h.venue.place_calls == []
    assert h.executor.open_orders() == []


async def test_crash_after_journal_write_with_the_order_sent_adopts_its_outcome() -> None:
    h = await make_harness(start=False)
    order = entry_order(make_intent(), spot_btc(), QUIET, h.clock.now_ms())
    await h.journal.save(order)
    await h.venue.place_order(order)  # the request did leave before the crash; it filled

    await h.service.start()
    await h.settle()

    stored = h.journal.orders[order.client_order_id]
    assert stored.status is OrderStatus.FILLED
    assert len([c for c in h.venue.place_calls if c.leg is OrderLeg.ENTRY]) == 1
    position = h.positions.get(order.position_id)
    assert position is not None and position.qty == D("0.1")
    assert h.executor.protection_deficit(order.position_id) == 0


async def test_a_pending_order_within_the_grace_period_is_left_for_the_next_pass() -> None:
    h = await make_harness(start=False)
    order = entry_order(make_intent(), spot_btc(), QUIET, h.clock.now_ms())
    await h.journal.save(order)
    await h.service.start()
    assert h.journal.orders[order.client_order_id].status is OrderStatus.PENDING_SUBMIT
    assert h.service.health()["unresolved_orders"] == [order.client_order_id]
    h.clock.advance(QUIET.unknown_grace_s + 1)
    await h.service.tick()
    assert h.journal.orders[order.client_order_id].status is OrderStatus.REJECTED


async def test_a_position_whose_stop_vanished_is_rearmed_before_the_next_entry() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(time=1))
    await h.settle()
    await h.service.stop()
    for venue_order in h.venue.open_venue_orders():  # someone cancelled our OCO on the website
        if venue_order.order.leg is OrderLeg.STOP:
            await h.venue.cancel_order("BTCUSDT", venue_order.order.client_order_id)

    h2 = await h.restart()
    await h2.executor.submit_intent(make_intent(time=2))
    await h2.settle()

    legs = [c.leg for c in h2.venue.place_calls]  # an OCO is recorded once, as its stop leg
    stops = [i for i, leg in enumerate(legs) if leg is OrderLeg.STOP]
    entries = [i for i, leg in enumerate(legs) if leg is OrderLeg.ENTRY]
    assert len(entries) == 2 and len(stops) == 3
    assert stops[1] < entries[1]  # the re-armed stop went out before the second entry
    assert h2.executor.protection_deficit(entry.position_id) == 0


async def test_unprotectable_position_blocks_new_entries() -> None:
    h = await make_harness()
    entry = await h.executor.submit_intent(make_intent(time=1))
    await h.settle()
    for venue_order in h.venue.open_venue_orders():
        if venue_order.order.leg is OrderLeg.STOP:
            await h.venue.cancel_order("BTCUSDT", venue_order.order.client_order_id)
    h.venue.timeout_before_place = 10**6  # the venue never confirms a new stop
    for report in drain_stream(h.venue):
        await h.executor.apply_report(report)

    with pytest.raises(EntriesBlockedError, match="without protective stop"):
        await h.executor.submit_intent(make_intent(time=2))
    assert entry.position_id in h.executor.unprotected_positions()
    assert [c.leg for c in h.venue.place_calls].count(OrderLeg.ENTRY) == 1
    await h.service.stop()


async def test_a_balance_mismatch_trips_the_breaker_alerts_and_blocks_entries() -> None:
    h = await make_harness()
    await h.executor.submit_intent(make_intent(time=1))
    await h.settle()
    h.venue.balances_["BTC"] = D("0.01")  # the coins left the account behind our back

    result = await h.service.reconcile("periodic")
    await h.settle()

    assert not result.clean
    assert h.mismatches and "BTC" in h.mismatches[0]
    assert any(a.level.value == "critical" and "mismatch" in a.message for a in h.alerts)
    with pytest.raises(EntriesBlockedError):
        await h.executor.submit_intent(make_intent(time=2))


async def test_a_journal_order_the_venue_never_heard_of_is_a_mismatch() -> None:
    h = await make_harness(start=False)
    order = entry_order(make_intent(**LIMIT), spot_btc(), QUIET, h.clock.now_ms())
    await h.journal.save(replace(order, status=OrderStatus.NEW, exchange_order_id="999"))
    await h.service.start()
    assert h.mismatches and order.client_order_id in h.mismatches[0]


async def test_venue_down_at_start_keeps_entries_blocked_until_a_reconcile_succeeds() -> None:
    h = await make_harness(start=False)
    original = h.venue.open_orders

    async def down(symbol: str | None = None) -> list[object]:
        raise ConnectionError("connection refused")

    h.venue.open_orders = down  # type: ignore[assignment,method-assign]
    await h.service.start()
    assert "startup" in h.service.health()["entries_blocked"]
    with pytest.raises(EntriesBlockedError):
        await h.executor.submit_intent(make_intent())
    h.venue.open_orders = original  # type: ignore[method-assign]
    assert await h.service._try_startup_reconcile()
    assert h.service.health()["ready"] is True

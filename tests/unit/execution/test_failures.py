"""Unknown outcomes, rejections, duplicates: never lose, never duplicate, no phantom orders."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

from ictbot.domain.errors import FilterFailureError, InsufficientBalanceError, NetworkError
from ictbot.domain.order import OrderLeg, OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution import LOST_REASON
from tests.unit.execution.harness import make_harness, make_intent

D = Decimal


async def test_timeout_after_the_order_was_placed_resolves_by_query_without_a_second_order() -> None:
    h = await make_harness()
    h.venue.timeout_after_place = 1
    entry = await h.executor.submit_intent(make_intent())
    assert entry.status is OrderStatus.SUBMITTED_UNKNOWN
    await h.settle()

    entries = [o for o in h.venue.all_orders if o.order.leg is OrderLeg.ENTRY]
    assert len(entries) == 1
    assert len([c for c in h.venue.place_calls if c.leg is OrderLeg.ENTRY]) == 1  # never resent
    stored = h.journal.orders[entry.client_order_id]
    assert stored.status is OrderStatus.FILLED and stored.filled_qty == D("0.1")
    position = h.positions.get(entry.position_id)
    assert position is not None and position.qty == D("0.1")
    assert h.executor.protection_deficit(entry.position_id) == 0


async def test_timeout_with_nothing_placed_is_declared_lost_after_the_grace_period_and_not_resent() -> None:
    h = await make_harness()
    h.venue.timeout_before_place = 1
    entry = await h.executor.submit_intent(make_intent())
    await h.settle()

    stored = h.journal.orders[entry.client_order_id]
    assert stored.status is OrderStatus.REJECTED and stored.reason == LOST_REASON
    assert h.venue.all_orders == []
    assert len(h.venue.place_calls) == 1
    assert h.clock.now_ms() - entry.created_at >= h.executor.config.unknown_grace_s * 1000
    assert h.positions.open_positions() == []


async def test_timeout_on_the_protective_oco_does_not_duplicate_the_list() -> None:
    h = await make_harness()
    h.venue.timeout_after_place = 0
    intent = make_intent()
    # The entry goes through; the OCO placement then times out after being placed.
    original_place_oco = h.venue.place_oco

    async def flaky_oco(*args: object, **kwargs: object) -> object:
        h.venue.timeout_after_place = 1
        h.venue.place_oco = original_place_oco  # type: ignore[method-assign]
        return await original_place_oco(*args, **kwargs)  # type: ignore[arg-type]

    h.venue.place_oco = flaky_oco  # type: ignore[method-assign]
    entry = await h.executor.submit_intent(intent)
    await h.settle()
    stops = [o for o in h.venue.all_orders if o.order.leg is OrderLeg.STOP]
    assert len(stops) == 1
    assert h.executor.protection_deficit(entry.position_id) == 0
    assert {o.status for o in h.journal.orders.values() if o.leg is OrderLeg.STOP} == {OrderStatus.NEW}


async def test_insufficient_balance_and_filter_rejections_leave_no_phantom_orders() -> None:
    h = await make_harness()
    h.venue.reject_next = [
        InsufficientBalanceError("Account has insufficient balance for requested action.", code=-2010),
        FilterFailureError("Filter failure: LOT_SIZE", code=-1013),
    ]
    first = await h.executor.submit_intent(make_intent(time=1))
    second = await h.executor.submit_intent(make_intent(time=2))
    await h.settle()

    for order in (first, second):
        assert order.status is OrderStatus.REJECTED
        assert h.journal.orders[order.client_order_id].status is OrderStatus.REJECTED
    assert h.journal.orders[first.client_order_id].reason.startswith("Account has insufficient")
    assert h.executor.open_orders() == []
    assert h.venue.all_orders == []
    assert h.positions.open_positions() == []
    assert h.service.health()["open_orders"] == 0


async def test_an_entry_breaking_filters_is_never_sent() -> None:
    h = await make_harness()
    order = await h.executor.submit_intent(make_intent(qty="0.00005"))  # 2.5 USDT < minNotional 5
    assert order.status is OrderStatus.REJECTED and "minNotional" in order.reason
    assert h.venue.place_calls == []


async def test_the_same_signal_twice_places_one_order() -> None:
    h = await make_harness()
    intent = make_intent(entry_type=EntryType.LIMIT, entry="49500")
    first = await h.executor.submit_intent(intent)
    second = await h.executor.submit_intent(intent)
    await h.settle()
    assert first.client_order_id == second.client_order_id
    assert len(h.venue.place_calls) == 1


async def test_duplicate_order_reply_is_treated_as_already_placed() -> None:
    h = await make_harness()
    intent = make_intent(entry_type=EntryType.LIMIT, entry="49500")
    placed = await h.executor.submit_intent(intent)
    await h.settle()
    # Forget the order locally (as if the journal write of the reply were lost) and send again.
    h.executor._ctx.book.pop(placed.client_order_id)
    h.journal.orders.pop(placed.client_order_id)
    again = await h.executor.submit_intent(intent)
    await h.settle()
    assert again.client_order_id == placed.client_order_id
    assert len(h.venue.all_orders) == 1
    assert h.journal.orders[placed.client_order_id].status is OrderStatus.NEW


async def test_a_timeout_after_the_stream_already_reported_the_order_keeps_the_stream_state() -> None:
    h = await make_harness()
    original = h.venue.place_order

    async def stream_first(order: object) -> object:
        report = await original(order)  # type: ignore[arg-type]
        await h.executor.apply_report(report)  # the user stream was faster than the REST reply
        raise NetworkError("read timeout after the stream event")

    h.venue.place_order = stream_first  # type: ignore[method-assign]
    entry = await h.executor.submit_intent(make_intent())
    await h.settle()
    assert entry.status is OrderStatus.FILLED
    assert h.journal.orders[entry.client_order_id].status is OrderStatus.FILLED
    assert len([c for c in h.venue.place_calls if c.leg is OrderLeg.ENTRY]) == 1


async def test_the_same_signal_submitted_concurrently_places_one_order() -> None:
    h = await make_harness()
    intent = make_intent()
    first, second = await asyncio.gather(h.executor.submit_intent(intent), h.executor.submit_intent(intent))
    await h.settle()
    assert first.client_order_id == second.client_order_id
    assert len([c for c in h.venue.place_calls if c.leg is OrderLeg.ENTRY]) == 1
    position = h.positions.get(first.position_id)
    assert position is not None and position.qty == D("0.1")


async def test_a_halted_symbol_seen_at_reconcile_refuses_entries_without_sending() -> None:
    h = await make_harness()
    h.venue.instruments_["BTCUSDT"] = replace(h.venue.instruments_["BTCUSDT"], status="HALT")
    await h.service.reconcile("periodic")
    order = await h.executor.submit_intent(make_intent())
    assert order.status is OrderStatus.REJECTED and "HALT" in order.reason
    assert h.venue.place_calls == []

"""Executions without trade detail: held as pending, completed by a later lookup, never invented;
mismatches confirmed by a re-query; the reconcile result counts every mismatch of its pass."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from ictbot.domain.errors import RateLimitedError
from ictbot.domain.order import Fill, OrderStatus
from ictbot.domain.signal import EntryType
from ictbot.execution import EntriesBlockedError, ExecutionConfig
from ictbot.execution.trade_detail import STORE_KEY, backoff_delays
from tests.unit.execution.fake_venue import FakeVenue, futures_btc
from tests.unit.execution.harness import Harness, make_harness, make_intent

D = Decimal
FAST = ExecutionConfig(background_tasks=False, detail_retry_s=0.01, detail_retry_max_s=0.05)


class FlakyTrades(FakeVenue):
    """Trade lookups fail (429) while ``trades_down`` is set."""

    trades_down = True

    async def trades(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        if self.trades_down:
            raise RateLimitedError("too many requests", retry_after=1)
        return await super().trades(symbol, since_ms)


async def until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def fill_without_detail(h: Harness) -> str:
    """A market entry whose reply is lost and whose stream events vanish: learnt by query only."""
    h.venue.timeout_after_place = 1
    h.venue.mute_stream = True
    order = await h.executor.submit_intent(make_intent())
    await h.service.tick()  # resolves the unknown outcome by query
    await h.settle()
    return order.client_order_id


async def test_execution_without_trade_detail_is_held_then_booked_with_the_real_ids() -> None:
    venue = FlakyTrades()
    h = await make_harness(venue, config=FAST)
    cid = await fill_without_detail(h)

    pending = h.executor.details.get(cid)
    assert pending is not None and pending.missing_qty == D("0.1")
    assert await h.fills.for_order(cid) == []
    held = h.executor.order(cid)
    assert held is not None and held.status is OrderStatus.NEW and held.filled_qty == 0  # kept open, unbooked
    assert STORE_KEY in h.kv.values
    with pytest.raises(EntriesBlockedError, match="trade detail pending"):
        await h.executor.submit_intent(make_intent(time=5))

    venue.trades_down = False  # the exchange answers again: the backoff loop completes the order
    await until(lambda: h.executor.details.get(cid) is None)
    await h.settle()
    real = sorted(t.trade_id for t in venue.trades_ if t.client_order_id == cid)
    assert sorted(f.trade_id for f in await h.fills.for_order(cid)) == real
    assert h.journal.orders[cid].status is OrderStatus.FILLED
    assert h.positions.open_positions()[0].qty == D("0.1")
    assert not h.executor.block_reasons and h.mismatches == []
    await h.service.stop()


async def test_pending_detail_survives_a_restart_and_reconciliation_completes_it() -> None:
    venue = FlakyTrades()
    h = await make_harness(venue, config=FAST)
    cid = await fill_without_detail(h)
    await h.service.stop()

    h2 = await h.restart(config=FAST)
    assert h2.executor.details.get(cid) is not None  # still unresolved: the lookup keeps failing
    venue.trades_down = False
    result = await h2.service.reconcile("test")
    await h2.settle()
    assert h2.executor.details.get(cid) is None
    assert [f.trade_id for f in await h2.fills.for_order(cid)] == [
        t.trade_id for t in venue.trades_ if t.client_order_id == cid]
    assert result.mismatches == () and h2.mismatches == [] and not h2.executor.block_reasons
    await h2.service.stop()


async def test_stale_contradiction_is_withdrawn_after_re_query() -> None:
    h = await make_harness()
    resting = await h.executor.submit_intent(make_intent(entry_type=EntryType.LIMIT, entry="49500"))
    await h.settle()
    report = h.venue.report(h.venue.orders[resting.client_order_id], with_fills=False)

    await h.executor.apply_report(replace(report, status=OrderStatus.REJECTED), trusted=True)
    assert h.mismatches == []  # the venue, asked again, still has the order open

    del h.venue.orders[resting.client_order_id]  # now the venue really does not know it
    await h.executor.apply_report(replace(report, status=OrderStatus.REJECTED), trusted=True)
    assert len(h.mismatches) == 1


async def test_reconcile_result_counts_mismatches_found_while_applying_trades() -> None:
    h = await make_harness()
    order = await h.executor.submit_intent(make_intent())
    await h.settle()
    extra = Fill(trade_id="999", client_order_id=order.client_order_id, symbol="BTCUSDT", side=order.side,
                 price=D(50_000), qty=D("0.01"), fee=D(0), fee_asset="USDT", time=h.venue.now + 5)
    h.venue.trades_.append(extra)  # a trade of a FILLED order that our books never saw

    result = await h.service.reconcile("test")

    assert len(h.mismatches) == 1 and h.executor.stats.mismatches == 1
    assert len(result.mismatches) == 1 and "fills reported" in result.mismatches[0]


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = backoff_delays(0.5, 3.0)
    assert [next(delays) for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_trades_booked_earlier_under_a_stand_in_id_do_not_halt() -> None:
    h = await make_harness()
    order = await h.executor.submit_intent(make_intent())
    await h.settle()
    cid = order.client_order_id
    # A journal written by an earlier version: the fill was booked under an invented id.
    h.journal.orders[cid] = replace(h.journal.orders[cid], trade_ids=frozenset({f"cum-{cid}-0.1"}))
    await h.service.stop()

    h2 = await h.restart()
    result = await h2.service.reconcile("test")

    assert result.mismatches == () and h2.mismatches == []
    assert h2.journal.orders[cid].trade_ids == frozenset({f"cum-{cid}-0.1"})  # not booked a second time


async def test_holdings_of_a_symbol_awaiting_trade_detail_are_not_called_a_mismatch() -> None:
    venue = FlakyTrades([futures_btc()])
    venue.trades_down = False
    h = await make_harness(venue, config=FAST)
    entry = await h.executor.submit_intent(make_intent())
    await h.settle()
    venue.trades_down = True
    venue.timeout_after_place = 1
    venue.mute_stream = True
    await h.executor.close_position(entry.position_id)  # executed on the venue, reply lost
    await h.service.tick()
    await h.settle()
    assert h.executor.details.all() and venue.positions_["BTCUSDT"] == 0
    assert h.positions.open_positions()[0].qty == D("0.1")  # our books: not yet reduced

    result = await h.service.reconcile("test")

    assert result.mismatches == () and h.mismatches == []
    await h.service.stop()

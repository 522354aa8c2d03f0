"""Venue reports: every report goes through ``events_for`` + ``Order.apply`` (idempotent, ordered);
fills reach the position before the journal; trades the report does not explain are looked up."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from decimal import Decimal

import structlog

from ictbot.domain.errors import FinalError, IllegalTransitionError, OrderNotFoundError, RetryableError
from ictbot.domain.events import AlertLevel
from ictbot.domain.order import (
    Fill,
    Order,
    OrderEvent,
    OrderFilled,
    OrderLeg,
    OrderSide,
    OrderStatus,
    OrderType,
    legal_sources,
)
from ictbot.execution.confirm import contradiction_confirmed
from ictbot.execution.errors import UnknownOrderError
from ictbot.execution.executor_state import _CONDITIONAL, _SEEN_IDS_KEPT, ExecutorContext, _remember
from ictbot.execution.ids import is_ours
from ictbot.execution.reports import adopted_order, applied, covered_by_stand_in, events_for, missing_qty, new_fills
from ictbot.execution.roles import ChangeListener, DetailLoops, Protector
from ictbot.execution.trade_detail import BLOCK_PREFIX, PendingDetail
from ictbot.ports.venue import VenueOrderReport

log = structlog.get_logger(__name__)


class VenueReports:
    """Applies venue reports and locally decided events to the book, the positions and the journal;
    what a change triggers is the listener's (``connect``: reactions, protection, detail loops)."""

    _listener: ChangeListener
    _protector: Protector
    _detail_loops: DetailLoops

    def __init__(self, ctx: ExecutorContext) -> None:
        self._ctx = ctx

    def connect(self, listener: ChangeListener, protector: Protector, detail_loops: DetailLoops) -> None:
        """The concerns that react to changes (they depend on this one: connected after building)."""
        self._listener = listener
        self._protector = protector
        self._detail_loops = detail_loops

    async def apply_report(self, report: VenueOrderReport, *, trusted: bool = False) -> Order | None:
        """Bring our order up to the venue's view. ``trusted``: a contradiction is a mismatch."""
        cid = report.client_order_id
        fills: list[Fill] = []
        _remember(self._ctx.seen_ids, cid, None, _SEEN_IDS_KEPT)
        async with self._ctx.order_lock(cid):
            order = self._ctx.book.get(cid) or await self._ctx.journal.get(cid)
            if (order is not None and order.exchange_order_id and report.exchange_order_id
                    and order.exchange_order_id != report.exchange_order_id and order.type not in _CONDITIONAL):
                # An earlier order that carried the same client id (ids are unique only among open
                # orders): not about this order. (A triggered futures algo order legitimately
                # reports under its new matching-engine order id.)
                log.warning("report for another incarnation ignored", client_order_id=cid,
                            ours=order.exchange_order_id, theirs=report.exchange_order_id)
                return order
            adopted = order is None
            if order is None:
                found = await self._adopt(report)
                if found is None:
                    return None
                order, report = found
            before = order
            fills = new_fills(order, report)
            fills, report, short = await self._with_trade_detail(order, report, fills)
            diff = events_for(order, report, fills)
            if diff.problem:
                if covered_by_stand_in(order, fills):
                    log.info("trades already booked under a stand-in id", client_order_id=cid, trades=len(fills))
                elif not trusted:
                    self._ctx.spawn(self._verify(order))
                elif await contradiction_confirmed(self._ctx.venue, order, diff.problem, fills):
                    await self._ctx.mismatch(diff.problem)
                return order
            try:
                final = applied(order, diff.events)
            except IllegalTransitionError as exc:
                await self._ctx.mismatch(str(exc))
                return order
            if diff.events:
                # Published before the fills reach the position: every consumer sees the order's
                # answer and fills before the position they open (causal order in the journal).
                await self._ctx.publish_change(final, fills)
            for event in diff.events:
                order = await self._commit(order, event)
        if short <= 0 and await self._ctx.details.resolve(cid):
            self._ctx.unblock_entries(BLOCK_PREFIX + cid)
            log.info("trade detail completed", client_order_id=cid, trades=len(fills))
        if order is not before or adopted:
            await self._listener.after_change(before, order, fills, published=bool(diff.events))
        return order

    async def _adopt(self, report: VenueOrderReport) -> tuple[Order, VenueOrderReport] | None:
        """An order of ours the book and journal do not know (e.g. journaled by a lost write): adopt
        what it is and did (with the report completed: its cancel's answer, its looked-up trades).
        None when it is not ours, or nothing executed and nothing is open."""
        cid = report.client_order_id
        if not is_ours(cid):
            return None
        if (report.quantity is None or report.side is None) and report.status.is_open:
            # Ours, but the venue did not say what it is: stop it, then adopt what it did.
            report = await self._cancel_unknown_terms(report)
        if report.side is None and not report.fills and report.executed_qty > 0:
            found = Order(cid, report.symbol, OrderSide.BUY, OrderType.MARKET, report.executed_qty, report.time)
            report = replace(report, fills=tuple(await self._order_trades(found, report.time)))
        instrument = await self._ctx.instrument(report.symbol)
        order = adopted_order(report, instrument.market, self._ctx.clock.now_ms())
        if order is None:
            return None  # nothing executed and nothing open: nothing to adopt
        self._ctx.stats.adopted += 1
        self._ctx.book[cid] = order
        await self._ctx.journal.save(order)
        return order, report

    async def _with_trade_detail(
        self, order: Order, report: VenueOrderReport, fills: list[Fill]
    ) -> tuple[list[Fill], VenueOrderReport, Decimal]:
        """The report's new fills, completed by a trade lookup when they do not explain the executed
        quantity; what is still missing is held as pending (the report comes back non-terminal)."""
        short = missing_qty(order, report, fills)
        if short > 0:
            fills = new_fills(order, report, tuple(await self._order_trades(order, report.time)))
            short = missing_qty(order, report, fills)
            if short > 0:
                report = await self._hold_for_detail(order, report, short)
        return fills, report, short

    async def _hold_for_detail(self, order: Order, report: VenueOrderReport, short: Decimal) -> VenueOrderReport:
        """The venue executed ``short`` more than any trade we can see: keep the order open (a
        terminal status would end it with the quantity unbooked), refuse entries meanwhile and look
        the trades up again with backoff. Nothing is booked under an invented trade id."""
        cid = order.client_order_id
        detail = PendingDetail(cid, order.symbol, short, self._ctx.clock.now_ms())
        if await self._ctx.details.hold(detail):
            await self._ctx.alert(AlertLevel.WARNING, f"{detail.describe()}; booked when the venue gives its trades")
        self._ctx.block_entries(BLOCK_PREFIX + cid, detail.describe())
        if order.leg is OrderLeg.ENTRY:
            self._ctx.spawn(self._protector.ensure_protection(order.position_id))  # executed: it needs its stop now
        self._detail_loops.start_detail_loop(cid)
        return replace(report, status=OrderStatus.NEW) if report.status.is_terminal else report

    async def _cancel_unknown_terms(self, report: VenueOrderReport) -> VenueOrderReport:
        cid = report.client_order_id
        await self._ctx.alert(AlertLevel.WARNING, f"order {cid} is ours but unknown to the journal and its terms are "
                              "not reported: cancelling it (protection is re-armed from the position)")
        try:
            return await self._ctx.venue.cancel_order(report.symbol, cid)
        except OrderNotFoundError:
            found = await self._ctx.venue.query_order(report.symbol, cid)
            return found or report
        except (RetryableError, FinalError) as exc:
            self._ctx.stats.last_error = f"cancel {cid}: {exc}"
            return report

    async def _verify(self, order: Order) -> None:
        """A stream/reply contradicted our state: ask the venue directly."""
        with contextlib.suppress(OrderNotFoundError, RetryableError):
            report = await self._ctx.venue.query_order(order.symbol, order.client_order_id)
            if report is not None:
                await self.apply_report(report, trusted=True)

    async def _order_trades(self, order: Order, venue_time: int = 0) -> list[Fill]:
        """The order's trades. ``since`` uses the venue's clock when known (a simulator's clock may
        be far from ours): the earlier of our creation time and the report's time, minus 5 min."""
        since = min(order.created_at, venue_time) if venue_time > 0 else order.created_at
        try:
            trades = await self._ctx.venue.trades(order.symbol, since_ms=since - 300_000)
        except (RetryableError, FinalError):
            return []
        return [t for t in trades if t.client_order_id == order.client_order_id]

    async def apply_events(self, cid: str, events: list[OrderEvent]) -> Order:
        """Apply locally decided events (unknown outcome, rejection, lost) where still legal.

        A stream report may have moved the order on meanwhile (e.g. NEW arrived before the REST
        call timed out); then the local event is stale and skipped.
        """
        order, _ = await self.apply_local(cid, events)
        return order

    async def apply_local(self, cid: str, events: list[OrderEvent]) -> tuple[Order, bool]:
        """``_apply_events``, and whether this call changed the order (False when another path,
        e.g. the timer and a follow-up task resolving one order, got there first)."""
        async with self._ctx.order_lock(cid):
            current = self._ctx.book.get(cid) or await self._ctx.journal.get(cid)
            if current is None:
                raise UnknownOrderError(f"order {cid} not found")
            before = order = current
            for event in events:
                if order.status in legal_sources(type(event)):
                    order = await self._commit(order, event)
        if order is not before:
            await self._listener.after_change(before, order, [])
        return order, order is not before

    async def _commit(self, order: Order, event: OrderEvent) -> Order:
        """Apply one event: fills reach the position first, the journal last (replay-safe order)."""
        updated = order.apply(event)
        if isinstance(event, OrderFilled):
            await self._apply_fill(order, event.fill)
        await self._ctx.journal.save(updated)
        if updated.status.is_terminal:
            self._ctx.book.pop(updated.client_order_id, None)
        else:
            self._ctx.book[updated.client_order_id] = updated
        return updated

    async def _apply_fill(self, order: Order, fill: Fill) -> None:
        instrument = await self._ctx.instrument(order.symbol)
        plan = await self._ctx.plan(order.position_id)
        await self._ctx.positions.apply_fill(
            order.position_id, fill, instrument, strategy_id=order.strategy_id or (plan.strategy_id if plan else ""),
            stop_loss=plan.stop_loss if plan else None, take_profits=plan.take_profits if plan else (),
        )

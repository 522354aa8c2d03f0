"""Cancelling and closing: cancels are confirmed by the venue; a position is flattened by one market
exit at a time; the emergency stop refuses entries, cancels them and flattens everything."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import structlog

from ictbot.domain.errors import FinalError, OrderNotFoundError, RetryableError
from ictbot.domain.events import AlertLevel
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderLeg, OrderStatus
from ictbot.execution.attempts import AttemptNumbers, FreeBalance
from ictbot.execution.errors import OrderNotOpenError, UnknownOrderError
from ictbot.execution.executor_state import _UNSENT, ExecutorContext
from ictbot.execution.planning import exit_order, tradable
from ictbot.execution.sending import Sender
from ictbot.execution.unknown_outcomes import UnknownOutcomes
from ictbot.execution.venue_reports import VenueReports
from ictbot.ports.venue import VenueOrderReport

log = structlog.get_logger(__name__)


class Closing:
    """Confirmed cancels, flattening (one market exit at a time), dust write-off, emergency stop."""

    def __init__(
        self, ctx: ExecutorContext, sender: Sender, resolver: UnknownOutcomes, reports: VenueReports,
        attempts: AttemptNumbers, balances: FreeBalance,
    ) -> None:
        self._ctx = ctx
        self._sender = sender
        self._resolver = resolver
        self._reports = reports
        self._attempts = attempts
        self._balances = balances
        self._closing_ids: set[str] = set()  # positions being flattened: nothing re-protects them

    def is_closing(self, position_id: str) -> bool:
        return position_id in self._closing_ids

    def stop_closing(self, position_id: str) -> None:
        """The position is gone, or flattening was given up (protection takes over)."""
        self._closing_ids.discard(position_id)

    async def cancel_order(self, client_id: str) -> Order:
        """Cancel one order (API). UnknownOrderError (404) / OrderNotOpenError (409)."""
        order = self._ctx.book.get(client_id)
        if order is None:
            stored = await self._ctx.journal.get(client_id)
            if stored is None:
                raise UnknownOrderError(f"order {client_id} not found")
            raise OrderNotOpenError(f"order {client_id} is {stored.status.value}")
        return await self.cancel(order, "canceled by request")

    async def cancel(self, order: Order, reason: str) -> Order:
        """Cancel and confirm: the order ends terminal here only when the venue says so."""
        cid = order.client_order_id
        if order.status in _UNSENT:
            await self._resolver.resolve_once(cid)
            order = self._ctx.book.get(cid) or order
            if order.status.is_terminal or order.status in _UNSENT:
                return order
        try:
            report: VenueOrderReport | None = await self._ctx.venue.cancel_order(order.symbol, cid)
        except OrderNotFoundError:
            report = None  # already filled/canceled (-2011): ask what happened
        except (RetryableError, FinalError) as exc:
            self._ctx.stats.last_error = f"cancel {cid}: {exc}"
            return order
        if report is None or report.status.is_open:
            with contextlib.suppress(OrderNotFoundError, RetryableError):
                report = await self._ctx.venue.query_order(order.symbol, cid)
        updated = order
        if report is not None:
            if report.status is OrderStatus.CANCELED and not report.reason:
                report = replace(report, reason=reason)  # the journal records why we cancelled
            updated = await self._reports.apply_report(report, trusted=True) or order
        if order.list_id:
            for sibling in [o for o in self._ctx.book.values() if o.list_id == order.list_id and o is not order]:
                with contextlib.suppress(OrderNotFoundError, RetryableError):
                    sibling_report = await self._ctx.venue.query_order(sibling.symbol, sibling.client_order_id)
                    if sibling_report is not None:
                        await self._reports.apply_report(sibling_report, trusted=True)
        log.info("order cancel", client_order_id=cid, reason=reason, status=updated.status.value)
        return updated

    async def cancel_position_orders(self, position_id: str, reason: str, *, legs: frozenset[OrderLeg] | None = None
                                     ) -> None:
        """Cancel the position's open orders, entries first (so they stop adding)."""
        orders = sorted(self._ctx.open_orders(position_id), key=lambda o: o.leg is not OrderLeg.ENTRY)
        handled: set[str] = set()
        for order in orders:
            if (legs is not None and order.leg not in legs) or order.leg is OrderLeg.EXIT:
                continue
            if order.list_id and order.list_id in handled:
                continue
            current = self._ctx.book.get(order.client_order_id)
            if current is None:
                continue
            await self.cancel(current, reason)
            if order.list_id:
                handled.add(order.list_id)

    async def close_position(self, position_id: str, reason: str = "closed by request") -> Order | None:
        """Flatten one position at market (API). PositionNotFoundError / PositionAlreadyClosedError."""
        await self._ctx.positions.require_open(position_id)
        self._closing_ids.add(position_id)
        async with self._ctx.position_lock(position_id):
            return await self._flatten(position_id, reason)

    async def close_quietly(self, position_id: str, reason: str) -> None:
        if self._ctx.positions.get(position_id) is None:
            return
        self._closing_ids.add(position_id)
        async with self._ctx.position_lock(position_id):
            await self._flatten(position_id, reason)

    async def _flatten(self, position_id: str, reason: str) -> Order | None:
        await self.cancel_position_orders(position_id, reason)
        position = self._ctx.positions.get(position_id)
        if position is None:
            return None
        pending_exit = [o for o in self._ctx.open_orders(position_id) if o.leg is OrderLeg.EXIT]
        if pending_exit:
            return pending_exit[0]  # one exit at a time: never a second market order
        instrument = await self._ctx.instrument(position.symbol)
        qty = instrument.floor_qty(abs(position.qty), market_order=True)
        if instrument.market is Market.SPOT and position.qty > 0:
            qty = await self._balances.cap(position_id, instrument, qty, market_order=True)
        price = self._ctx.positions.mark_price(position.symbol) or position.avg_entry
        if not tradable(qty, price, instrument, market_order=True):
            await self.write_off(position_id, f"close: remainder {position.qty} below the venue's minimum")
            return None
        order = exit_order(
            position_id=position_id, symbol=position.symbol, long=position.qty > 0, qty=qty, instrument=instrument,
            attempt=await self._attempts.next_attempt(position_id, 1), now_ms=self._ctx.clock.now_ms(),
            strategy_id=position.strategy_id,
        )
        log.info("closing position", position=position_id, reason=reason, qty=str(qty))
        return await self._sender.send(order)

    async def write_off(self, position_id: str, reason: str) -> None:
        position = self._ctx.positions.get(position_id)
        if position is None:
            return
        await self._ctx.alert(AlertLevel.INFO, f"position {position_id}: dust {position.qty} {position.base_asset} "
                              f"left ({reason})", {"position_id": position_id, "qty": str(position.qty)})
        await self._ctx.positions.write_off_dust(position_id, reason)
        await self._ctx.forget_plan(position_id)
        self._closing_ids.discard(position_id)

    async def emergency_stop(self, reason: str = "emergency stop") -> dict[str, int]:
        """Refuse entries, cancel every entry, flatten every position."""
        self._ctx.block_entries("emergency", reason)
        entries = [o for o in list(self._ctx.book.values()) if o.leg is OrderLeg.ENTRY]
        for order in entries:
            current = self._ctx.book.get(order.client_order_id)
            if current is not None:
                await self.cancel(current, reason)
        positions = self._ctx.positions.open_positions()
        for position in positions:
            self._closing_ids.add(position.id)
            async with self._ctx.position_lock(position.id):
                await self._flatten(position.id, reason)
        await self._ctx.alert(AlertLevel.CRITICAL, f"emergency stop: {reason}",
                              {"entries_canceled": len(entries), "positions_closed": len(positions)})
        return {"entries_canceled": len(entries), "positions_closed": len(positions)}

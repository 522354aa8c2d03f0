"""Sending: journal before send, then one request; a lost reply marks the order SUBMITTED_UNKNOWN
(never blind-retried), a refusal rejects it."""

from __future__ import annotations

from ictbot.domain.errors import DuplicateOrderError, FilterFailureError, FinalError, NetworkError, RetryableError
from ictbot.domain.order import Order, OrderRejected, OrderSubmitUnknown
from ictbot.execution.entry_lists import EntryList
from ictbot.execution.executor_state import ExecutorContext
from ictbot.execution.planning import ProtectionSet
from ictbot.execution.unknown_outcomes import UnknownOutcomes
from ictbot.execution.venue_ext import OrderListVenue
from ictbot.execution.venue_reports import VenueReports


class Sender:
    """Sends orders: journaled first, one request each; its outcome goes through the reports."""

    def __init__(self, ctx: ExecutorContext, reports: VenueReports, resolver: UnknownOutcomes) -> None:
        self._ctx = ctx
        self._reports = reports
        self._resolver = resolver

    async def send(self, order: Order, values: dict[str, str] | None = None) -> Order:
        """Journal ``order`` (with ``values`` for the key-value store, same commit), then send it."""
        cid = order.client_order_id
        self._ctx.inflight.add(cid)
        try:
            async with self._ctx.order_lock(cid):
                await self._ctx.journal_new(order, values)  # durable BEFORE the request leaves
            self._ctx.stats.sent += 1
            try:
                report = await self._ctx.venue.place_order(order)
            except DuplicateOrderError:
                # Same id already open on the venue: placed earlier; learn its state by query.
                return await self._mark_unknown(cid, "duplicate client order id: already placed")
            except NetworkError as exc:
                return await self._mark_unknown(cid, f"unknown outcome: {exc}")
            except (FinalError, RetryableError) as exc:
                return await self._reject(cid, exc)
        finally:
            self._ctx.inflight.discard(cid)
        return await self._reports.apply_report(report) or order

    async def send_entry_lists(self, lists: list[EntryList], plan_values: dict[str, str]) -> Order:
        """Journal every order of every list (the plan with the first), then send the lists one by one.

        All are journaled first so that a tranche whose entry expires unfilled never takes the plan
        away from a later tranche. After a refused list the rest are not sent (rejected here)."""
        assert isinstance(self._ctx.venue, OrderListVenue)
        orders = [order for entry_list in lists for order in entry_list.orders]
        self._ctx.inflight.update(o.client_order_id for o in orders)
        refused: Exception | None = None
        try:
            for order in orders:
                async with self._ctx.order_lock(order.client_order_id):
                    await self._ctx.journal_new(order, plan_values if order is orders[0] else {})
            for entry_list in lists:
                ids = [o.client_order_id for o in entry_list.orders]
                if refused is not None:
                    for cid in ids:
                        await self._reject(cid, FinalError(f"not sent: an earlier list of this entry was refused "
                                                           f"({refused})"))
                    continue
                refused = await self._send_entry_list(entry_list, ids)
        finally:
            self._ctx.inflight.difference_update(o.client_order_id for o in orders)
        return self._ctx.book.get(orders[0].client_order_id) or await self._ctx.journal.get(orders[0].client_order_id) \
            or orders[0]

    async def _send_entry_list(self, entry_list: EntryList, ids: list[str]) -> Exception | None:
        """Send one OTOCO and apply its reports; the refusal, if the venue refused it."""
        assert isinstance(self._ctx.venue, OrderListVenue)
        self._ctx.stats.sent += 1
        try:
            reports = await self._ctx.venue.place_otoco(*entry_list.orders, entry_list.list_id)
        except DuplicateOrderError:
            for cid in ids:
                await self._mark_unknown(cid, "duplicate client order id: already placed")
            return None
        except NetworkError as exc:
            for cid in ids:
                await self._mark_unknown(cid, f"unknown outcome: {exc}")
            return None
        except (FinalError, RetryableError) as exc:
            for cid in ids:
                await self._reject(cid, exc)
            return exc
        finally:
            self._ctx.inflight.difference_update(ids)
        for report in reports:
            await self._reports.apply_report(report)
        return None

    async def send_set(self, protection: ProtectionSet) -> None:
        if not protection.list_id:
            for order in protection.orders:
                await self.send(order)
            return
        stop, target = protection.orders
        ids = [stop.client_order_id, target.client_order_id]
        self._ctx.inflight.update(ids)
        try:
            for order in protection.orders:
                async with self._ctx.order_lock(order.client_order_id):
                    await self._ctx.journal_new(order)
            self._ctx.stats.sent += 1
            try:
                reports = await self._ctx.venue.place_oco(stop, target, protection.list_id)
            except DuplicateOrderError:
                for cid in ids:
                    await self._mark_unknown(cid, "duplicate client order id: already placed")
                return
            except NetworkError as exc:
                for cid in ids:
                    await self._mark_unknown(cid, f"unknown outcome: {exc}")
                return
            except (FinalError, RetryableError) as exc:
                for cid in ids:
                    await self._reject(cid, exc)
                return
        finally:
            self._ctx.inflight.difference_update(ids)
        for report in reports:
            await self._reports.apply_report(report)

    async def _mark_unknown(self, cid: str, reason: str) -> Order:
        self._ctx.stats.unknown += 1
        order = await self._reports.apply_events(cid, [OrderSubmitUnknown(reason, self._ctx.clock.now_ms())])
        self._ctx.spawn(self._resolver.resolve_unknown(cid))
        return order

    async def _reject(self, cid: str, exc: Exception) -> Order:
        self._ctx.stats.rejected += 1
        if isinstance(exc, FilterFailureError):
            order = self._ctx.book.get(cid)
            if order is not None:
                self._ctx.forget_instrument(order.symbol)  # filters may have changed: re-read next time
        code = exc.code if isinstance(exc, FinalError | RetryableError) else None
        return await self._reports.apply_events(cid, [OrderRejected(str(exc), self._ctx.clock.now_ms(), code)])

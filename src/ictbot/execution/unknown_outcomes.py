"""Unknown outcomes: an order whose create reply was lost is resolved by querying its client id; one
the venue still does not know after ``unknown_grace_s`` can no longer execute and is declared lost."""

from __future__ import annotations

from ictbot.domain.errors import FinalError, OrderNotFoundError, RetryableError
from ictbot.domain.order import Order, OrderRejected
from ictbot.execution.executor_state import _UNSENT, LOST_REASON, ExecutorContext
from ictbot.execution.venue_reports import VenueReports


class UnknownOutcomes:
    """Resolves orders whose create reply was lost (by query, or lost after the grace)."""

    def __init__(self, ctx: ExecutorContext, reports: VenueReports) -> None:
        self._ctx = ctx
        self._reports = reports

    async def resolve_unknown(self, cid: str) -> Order | None:
        """Query until the venue knows the order or the grace period proves it never existed."""
        while True:
            order = self._ctx.book.get(cid)
            if order is None or order.status not in _UNSENT:
                return order
            settled = await self.resolve_once(cid)
            if settled:
                return self._ctx.book.get(cid) or await self._ctx.journal.get(cid)
            age_s = (self._ctx.clock.now_ms() - order.created_at) / 1000
            if age_s > self._ctx.config.unknown_grace_s * 3:
                return order  # venue unreachable: the reconciler keeps trying
            await self._ctx.clock.sleep(self._ctx.config.unknown_query_interval_s)

    async def resolve_once(self, cid: str) -> bool:
        """One query for an unsent/unknown order; True when its outcome is now known."""
        order = self._ctx.book.get(cid)
        if order is None or order.status not in _UNSENT or cid in self._ctx.inflight:
            return True
        try:
            report = await self._ctx.venue.query_order(order.symbol, cid)
        except OrderNotFoundError:
            report = None
        except (RetryableError, FinalError) as exc:
            self._ctx.stats.last_error = f"query {cid}: {exc}"
            return False
        if report is not None:
            await self._reports.apply_report(report)
            return True
        if self._ctx.clock.now_ms() - order.created_at >= self._ctx.config.unknown_grace_s * 1000:
            # Counted by the path that declared it: the timer and a follow-up task may both get here.
            _, declared = await self._reports.apply_local(cid, [OrderRejected(LOST_REASON, self._ctx.clock.now_ms())])
            if declared:
                self._ctx.stats.lost += 1
            return True
        return False

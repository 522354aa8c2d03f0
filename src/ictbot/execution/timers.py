"""Timers: entry timeouts and the backoff loop that completes trades a report did not explain. They are
driven by the service's supervised timer loop (``ExecutionService.tick``) or run as bounded tasks."""

from __future__ import annotations

import asyncio

import structlog

from ictbot.domain.errors import FinalError, OrderNotFoundError, RetryableError
from ictbot.domain.order import OrderLeg
from ictbot.execution.executor_state import _UNSENT, ExecutorState
from ictbot.execution.trade_detail import backoff_delays

log = structlog.get_logger(__name__)


class TimersMixin(ExecutorState):
    async def expire_entries(self) -> int:
        """Cancel entries older than ``entry_timeout_s`` (their filled part stays and is protected)."""
        now = self._clock.now_ms()
        limit = self.config.entry_timeout_s * 1000
        stale = [o for o in list(self._book.values())
                 if o.leg is OrderLeg.ENTRY and o.status.is_open and o.status not in _UNSENT
                 and now - o.created_at >= limit
                 and self.details.get(o.client_order_id) is None]  # executed; only its trades are missing
        for order in stale:
            await self._cancel(order, "entry timeout")
        return len(stale)

    async def _complete_detail(self, cid: str) -> None:
        """Re-query the order (its report triggers a new trade lookup) until the detail is in."""
        for delay in backoff_delays(self.config.detail_retry_s, self.config.detail_retry_max_s):
            await asyncio.sleep(delay)
            order = self._book.get(cid)
            if self.details.get(cid) is None or order is None:
                return
            try:
                report = await self._venue.query_order(order.symbol, cid)
            except (OrderNotFoundError, RetryableError, FinalError) as exc:
                log.info("trade detail lookup failed; retrying", client_order_id=cid, error=str(exc))
                continue
            if report is not None:
                await self.apply_report(report, trusted=True)

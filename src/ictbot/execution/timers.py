"""Timers: entry timeouts (driven by the service's supervised timer loop, ``ExecutionService.tick``)
and the backoff loop that completes trades a report did not explain: one per order, under the task
supervisor when the executor has one (``execution.trade_detail.<client id>``: restarted if it raises,
listed in ``/status``), a plain task otherwise; it ends when the detail is in."""

from __future__ import annotations

import asyncio

import structlog

from ictbot.domain.errors import FinalError, OrderNotFoundError, RetryableError
from ictbot.domain.order import OrderLeg
from ictbot.execution.closing import Closing
from ictbot.execution.executor_state import _UNSENT, ExecutorContext
from ictbot.execution.trade_detail import backoff_delays
from ictbot.execution.venue_reports import VenueReports
from ictbot.ports.tasks import TaskSupervisor

log = structlog.get_logger(__name__)

DETAIL_TASK_PREFIX = "execution.trade_detail."


class Timers:
    """Entry timeouts and the per-order trade-detail loops (the venue reports' ``DetailLoops``)."""

    def __init__(self, ctx: ExecutorContext, closer: Closing, reports: VenueReports,
                 supervisor: TaskSupervisor | None = None) -> None:
        self._ctx = ctx
        self._closer = closer
        self._reports = reports
        self._supervisor = supervisor  # runs the trade-detail loops when given
        self._supervised_details: set[str] = set()
        self._detail_tasks: dict[str, asyncio.Task[None]] = {}

    async def expire_entries(self) -> int:
        """Cancel entries older than ``entry_timeout_s`` (their filled part stays and is protected)."""
        now = self._ctx.clock.now_ms()
        limit = self._ctx.config.entry_timeout_s * 1000
        stale = [o for o in list(self._ctx.book.values())
                 if o.leg is OrderLeg.ENTRY and o.status.is_open and o.status not in _UNSENT
                 and now - o.created_at >= limit
                 and self._ctx.details.get(o.client_order_id) is None]  # executed; only its trades are missing
        for order in stale:
            await self._closer.cancel(order, "entry timeout")
        return len(stale)

    def start_detail_loop(self, cid: str) -> None:
        """Start the order's trade-detail loop unless it is running already."""
        if self._supervisor is None:
            task = self._detail_tasks.get(cid)
            if task is None or task.done():
                task = self._detail_tasks[cid] = asyncio.get_running_loop().create_task(self._complete_detail(cid))
                # A finished loop leaves the list (one per order would pile up on a long run).
                task.add_done_callback(lambda done: self._forget_detail_task(cid, done))
            return
        try:
            self._supervisor.spawn(DETAIL_TASK_PREFIX + cid, lambda: self._supervised_detail(cid))
        except ValueError:
            return  # running already (the supervisor refuses a second task of one name)
        self._supervised_details.add(cid)

    def _forget_detail_task(self, cid: str, task: asyncio.Task[None]) -> None:
        if self._detail_tasks.get(cid) is task:
            del self._detail_tasks[cid]

    async def _supervised_detail(self, cid: str) -> None:
        """The loop as the supervisor runs it; once done it is no longer ours to cancel at stop."""
        await self._complete_detail(cid)
        self._supervised_details.discard(cid)

    async def stop_detail_loops(self) -> None:
        for task in self._detail_tasks.values():
            task.cancel()
        if self._supervisor is not None:
            for cid in list(self._supervised_details):
                await self._supervisor.cancel(DETAIL_TASK_PREFIX + cid, timeout=5.0)
            self._supervised_details.clear()

    async def _complete_detail(self, cid: str) -> None:
        """Re-query the order (its report triggers a new trade lookup) until the detail is in."""
        for delay in backoff_delays(self._ctx.config.detail_retry_s, self._ctx.config.detail_retry_max_s):
            await asyncio.sleep(delay)
            order = self._ctx.book.get(cid)
            if self._ctx.details.get(cid) is None or order is None:
                return
            try:
                report = await self._ctx.venue.query_order(order.symbol, cid)
            except (OrderNotFoundError, RetryableError, FinalError) as exc:
                log.info("trade detail lookup failed; retrying", client_order_id=cid, error=str(exc))
                continue
            if report is not None:
                await self._reports.apply_report(report, trusted=True)

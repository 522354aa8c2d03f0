"""OrderExecutor: intents → venue orders, venue reports → order state, fills → positions.

Invariants (money is at stake):

* Journal before send: an order is durably saved as PENDING_SUBMIT before its request leaves.
* Never blind-retry a create: a timeout/5xx leaves the order SUBMITTED_UNKNOWN; it is resolved by
  querying its client order id. An order the venue still does not know once ``unknown_grace_s``
  (≥ recvWindow) has passed can no longer execute and is declared lost, never resent.
* Every venue report goes through ``events_for`` + ``Order.apply``; applying a report twice or out
  of order changes nothing.
* An open position always has stop orders for its full tradable quantity; if protection cannot be
  placed the position is flattened instead. New entries wait until every position is protected.

Follow-up work triggered by a report (arming protection, cancelling leftovers) runs in tasks
tracked by ``drain()``, so a handler never waits on a lock its caller already holds.
"""

from __future__ import annotations

import asyncio
import contextlib

from ictbot.execution.closing import ClosingMixin
from ictbot.execution.entries import EntriesMixin
from ictbot.execution.executor_state import LOST_REASON, ExecutorStats, MismatchCallback
from ictbot.execution.ids import is_ours, parse_client_id, position_id_for
from ictbot.execution.protection import ProtectionMixin
from ictbot.execution.reactions import ReactionsMixin
from ictbot.execution.sending import SendingMixin
from ictbot.execution.timers import TimersMixin
from ictbot.execution.trade_detail import BLOCK_PREFIX
from ictbot.execution.unknown_outcomes import UnknownOutcomesMixin
from ictbot.execution.venue_reports import VenueReportsMixin


class OrderExecutor(
    EntriesMixin, SendingMixin, UnknownOutcomesMixin, VenueReportsMixin, ReactionsMixin, ProtectionMixin,
    ClosingMixin, TimersMixin,
):
    """Intents → venue orders, venue reports → order state, fills → positions: the collaborators of
    the modules above over one ``ExecutorState`` (the module docstring lists the invariants)."""

    async def load(self) -> None:
        """Warm state from the journal (start-up, before reconciliation)."""
        await self._journal.load()
        for order in await self._journal.open_orders():
            self._book[order.client_order_id] = order
        await self._positions.load()
        for detail in await self.details.load():
            self.block_entries(BLOCK_PREFIX + detail.client_order_id, detail.describe())

    async def drain(self, timeout: float = 5.0) -> bool:
        """Wait (bounded) for follow-up tasks; False if some are still running (e.g. a slow query)."""
        try:
            async with asyncio.timeout(timeout):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        await self._stop_detail_loops()
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


__all__ = ["LOST_REASON", "ExecutorStats", "MismatchCallback", "OrderExecutor", "is_ours", "parse_client_id",
           "position_id_for"]

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

``OrderExecutor`` is a facade over one collaborator per concern, each with its own state, over a
shared ``ExecutorContext`` (ports, the book of open orders, locks, entry blocks, counters):
``Entries`` → ``Sender`` → ``VenueReports`` (applies every report) → ``Reactions`` (what a change
triggers) → ``Protection`` / ``Closing``; ``UnknownOutcomes`` resolves lost replies, ``Timers``
runs entry timeouts and trade-detail loops, ``AttemptNumbers`` / ``FreeBalance`` serve protection
and closing. The only back-edges (reports → reactions, protection, detail loops) go through the
``roles.py`` protocols, connected after building.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from ictbot.bus import EventBus
from ictbot.domain.events import OrderIntent
from ictbot.domain.instrument import Instrument
from ictbot.domain.order import Order, OrderLeg
from ictbot.execution.attempts import AttemptNumbers, FreeBalance
from ictbot.execution.closing import Closing
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.entries import Entries
from ictbot.execution.executor_state import _UNSENT, LOST_REASON, ExecutorContext, ExecutorStats, MismatchCallback
from ictbot.execution.ids import is_ours, parse_client_id, position_id_for
from ictbot.execution.protection import Protection
from ictbot.execution.reactions import Reactions
from ictbot.execution.sending import Sender
from ictbot.execution.timers import Timers
from ictbot.execution.trade_detail import BLOCK_PREFIX, PendingDetails
from ictbot.execution.unknown_outcomes import UnknownOutcomes
from ictbot.execution.venue_reports import VenueReports
from ictbot.ports.clock import Clock
from ictbot.ports.repositories import KeyValueStore, OrderJournal
from ictbot.ports.tasks import TaskSupervisor
from ictbot.ports.venue import ExecutionVenue, VenueOrderReport
from ictbot.positions.manager import PositionManager


class OrderExecutor:
    """Intents → venue orders, venue reports → order state, fills → positions (the module
    docstring lists the invariants and the collaborators this facade builds and delegates to)."""

    def __init__(
        self,
        bus: EventBus,
        venue: ExecutionVenue,
        journal: OrderJournal,
        positions: PositionManager,
        clock: Clock,
        config: ExecutionConfig | None = None,
        *,
        plans: KeyValueStore | None = None,
        on_mismatch: MismatchCallback | None = None,
        tasks: TaskSupervisor | None = None,
    ) -> None:
        ctx = self._ctx = ExecutorContext(bus, venue, journal, positions, clock, config, plans=plans,
                                          on_mismatch=on_mismatch)
        self.config: ExecutionConfig = ctx.config
        self.stats: ExecutorStats = ctx.stats
        self.details: PendingDetails = ctx.details
        reports = self._reports = VenueReports(ctx)
        resolver = self._resolver = UnknownOutcomes(ctx, reports)
        sender = Sender(ctx, reports, resolver)
        attempts, balances = AttemptNumbers(ctx), FreeBalance(ctx)
        closer = self._closer = Closing(ctx, sender, resolver, reports, attempts, balances)
        protection = self._protection = Protection(ctx, sender, closer, attempts, balances)
        self._timers = Timers(ctx, closer, reports, tasks)
        self._entries = Entries(ctx, protection, sender)
        reports.connect(Reactions(ctx, protection, closer), protection, self._timers)

    # ---- lifecycle ---------------------------------------------------------------------------
    async def load(self) -> None:
        """Warm state from the journal (start-up, before reconciliation)."""
        await self._ctx.journal.load()
        for order in await self._ctx.journal.open_orders():
            self._ctx.book[order.client_order_id] = order
        await self._ctx.positions.load()
        for detail in await self.details.load():
            self.block_entries(BLOCK_PREFIX + detail.client_order_id, detail.describe())

    async def drain(self, timeout: float = 5.0) -> bool:
        """Wait (bounded) for follow-up tasks; False if some are still running (e.g. a slow query)."""
        try:
            async with asyncio.timeout(timeout):
                while self._ctx.tasks:
                    await asyncio.gather(*list(self._ctx.tasks), return_exceptions=True)
        except TimeoutError:
            return False
        return True

    @property
    def follow_ups(self) -> int:
        """Follow-up tasks still running (protect, flatten, query)."""
        return len(self._ctx.tasks)

    async def close(self) -> None:
        await self._timers.stop_detail_loops()
        for task in self._ctx.tasks:
            task.cancel()
        for task in list(self._ctx.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ---- orders in, reports in -----------------------------------------------------------------
    async def submit_intent(self, intent: OrderIntent) -> Order:
        """Place the entry for a validated intent; idempotent per signal (EntriesBlockedError)."""
        return await self._entries.submit_intent(intent)

    async def apply_report(self, report: VenueOrderReport, *, trusted: bool = False) -> Order | None:
        return await self._reports.apply_report(report, trusted=trusted)

    async def resolve_once(self, cid: str) -> bool:
        return await self._resolver.resolve_once(cid)

    async def resolve_unknown(self, cid: str) -> Order | None:
        return await self._resolver.resolve_unknown(cid)

    async def expire_entries(self) -> int:
        return await self._timers.expire_entries()

    # ---- protection and closing --------------------------------------------------------------
    async def ensure_protection(self, position_id: str) -> bool:
        return await self._protection.ensure_protection(position_id)

    async def move_stop(self, position_id: str, new_stop: Decimal) -> None:
        await self._protection.move_stop(position_id, new_stop)

    def unprotected_positions(self) -> list[str]:
        return self._protection.unprotected_positions()

    async def cancel_order(self, client_id: str) -> Order:
        return await self._closer.cancel_order(client_id)

    async def cancel_position_orders(self, position_id: str, reason: str, *,
                                     legs: frozenset[OrderLeg] | None = None) -> None:
        await self._closer.cancel_position_orders(position_id, reason, legs=legs)

    async def close_position(self, position_id: str, reason: str = "closed by request") -> Order | None:
        return await self._closer.close_position(position_id, reason)

    async def emergency_stop(self, reason: str = "emergency stop") -> dict[str, int]:
        return await self._closer.emergency_stop(reason)

    # ---- queries and entry blocks (the shared context) -----------------------------------------
    def open_orders(self, position_id: str | None = None) -> list[Order]:
        return self._ctx.open_orders(position_id)

    def order(self, client_id: str) -> Order | None:
        return self._ctx.book.get(client_id)

    async def journal_get(self, client_id: str) -> Order | None:
        return self._ctx.book.get(client_id) or await self._ctx.journal.get(client_id)

    @property
    def unresolved(self) -> list[str]:
        return [cid for cid, o in self._ctx.book.items() if o.status in _UNSENT and cid not in self._ctx.inflight]

    @property
    def inflight(self) -> frozenset[str]:
        """Orders whose create request is on the wire right now (not to be queried or resolved)."""
        return frozenset(self._ctx.inflight)

    def protection_deficit(self, position_id: str, *, confirmed: bool = False) -> Decimal:
        return self._ctx.protection_deficit(position_id, confirmed=confirmed)

    @property
    def block_reasons(self) -> dict[str, str]:
        return self._ctx.block_reasons

    def block_entries(self, key: str, reason: str) -> None:
        self._ctx.block_entries(key, reason)

    def unblock_entries(self, key: str) -> None:
        self._ctx.unblock_entries(key)

    async def instrument(self, symbol: str) -> Instrument:
        return await self._ctx.instrument(symbol)

    async def refresh_instruments(self) -> None:
        await self._ctx.refresh_instruments()

    async def mismatch(self, reason: str) -> None:
        """Irreconcilable difference with the venue: trip the breaker, alert, refuse entries."""
        await self._ctx.mismatch(reason)

    @property
    def mismatch_reasons(self) -> list[str]:
        """Every mismatch raised, oldest first (bounded)."""
        return self._ctx.mismatch_reasons


__all__ = ["LOST_REASON", "ExecutorStats", "MismatchCallback", "OrderExecutor", "is_ours", "parse_client_id",
           "position_id_for"]

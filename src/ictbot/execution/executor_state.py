"""The executor's shared state: the book of open orders, locks, caches, entry blocks and the queries
on them. The collaborators (one module per concern) are mixins over it; ``executor.py`` composes them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.domain.errors import UnknownSymbolError
from ictbot.domain.events import Alert, AlertLevel, OrderExecuted, OrderUpdated
from ictbot.domain.instrument import Instrument
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill, Order, OrderEvent, OrderLeg, OrderStatus, OrderType
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.entry_lists import EntryList
from ictbot.execution.journal_index import JournalIndex
from ictbot.execution.planning import ProtectionSet, tradable
from ictbot.execution.plans import Plan, PlanBook
from ictbot.execution.trade_detail import PendingDetails
from ictbot.ports.clock import Clock
from ictbot.ports.repositories import KeyValueStore, OrderJournal
from ictbot.ports.tasks import TaskSupervisor
from ictbot.ports.venue import ExecutionVenue, VenueOrderReport
from ictbot.positions.manager import PositionManager

log = structlog.get_logger(__name__)

LOST_REASON = "lost: not found on venue after the unknown-outcome grace period"

_UNSENT = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED_UNKNOWN})

_PROTECTIVE = frozenset({OrderLeg.STOP, OrderLeg.TAKE_PROFIT})

_CONDITIONAL = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})

MismatchCallback = Callable[[str], Awaitable[None] | None]


@dataclass
class ExecutorStats:
    sent: int = 0
    rejected: int = 0
    unknown: int = 0
    lost: int = 0
    adopted: int = 0
    mismatches: int = 0
    last_error: str = ""
    extra: dict[str, int] = field(default_factory=dict)


class ExecutorState:
    """State and queries shared by the executor's collaborators (see ``executor.py``)."""

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
        self._bus = bus
        self._venue = venue
        self._journal = JournalIndex(journal)
        self._positions = positions
        self._clock = clock
        self.config = config or ExecutionConfig()
        self._on_mismatch = on_mismatch
        self._supervisor = tasks  # runs the trade-detail loops when given (``timers.py``)
        self._supervised_details: set[str] = set()
        self._book: dict[str, Order] = {}  # every non-terminal order we know
        self._order_locks: dict[str, asyncio.Lock] = {}
        self._position_locks: dict[str, asyncio.Lock] = {}
        self._instruments: dict[str, Instrument] = {}
        self._plans = PlanBook(plans)
        self._closing: set[str] = set()
        self._exit_failures: dict[str, int] = {}
        self._gave_up: set[str] = set()  # flattening failed repeatedly: protection only, retried slowly
        self._protection_rejected_at: dict[str, int] = {}
        self._inflight: set[str] = set()
        self._submitting: dict[str, Order] = {}
        # Client ids venue reports mentioned (never reuse): the newest _SEEN_IDS_KEPT; older ones are
        # in the journal, which _attempt_taken asks as well.
        self._seen_ids: dict[str, None] = {}
        self._last_attempt: dict[str, int] = {}  # a hint only (the journal is checked): pruned like it
        self._account_ready: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._block_reasons: dict[str, str] = {}
        self.details = PendingDetails(plans)
        self._detail_tasks: dict[str, asyncio.Task[None]] = {}
        self.mismatch_reasons: list[str] = []  # every mismatch raised, oldest first (bounded)
        self.stats = ExecutorStats()

    def open_orders(self, position_id: str | None = None) -> list[Order]:
        return [o for o in self._book.values() if position_id is None or o.position_id == position_id]

    def order(self, client_id: str) -> Order | None:
        return self._book.get(client_id)

    @property
    def unresolved(self) -> list[str]:
        return [cid for cid, o in self._book.items() if o.status in _UNSENT and cid not in self._inflight]

    @property
    def inflight(self) -> frozenset[str]:
        """Orders whose create request is on the wire right now (not to be queried or resolved)."""
        return frozenset(self._inflight)

    async def journal_get(self, client_id: str) -> Order | None:
        return self._book.get(client_id) or await self._journal.get(client_id)

    @property
    def block_reasons(self) -> dict[str, str]:
        return dict(self._block_reasons)

    def block_entries(self, key: str, reason: str) -> None:
        self._block_reasons[key] = reason

    def unblock_entries(self, key: str) -> None:
        self._block_reasons.pop(key, None)

    def protection_deficit(self, position_id: str, *, confirmed: bool = False) -> Decimal:
        """Open quantity not covered by an open stop order.

        By default stops whose placement is still unconfirmed count (so they are never placed
        twice); with ``confirmed`` only stops the venue acknowledged count (the entry gate).
        """
        position = self._positions.get(position_id)
        held = abs(position.qty) if position is not None and position.is_open else ZERO
        exposed = held + self.details.unbooked_entry_qty(position_id)
        if exposed <= 0:
            return ZERO
        # The pending stop of an OTOCO entry is placed by the exchange only once its working order
        # is fully filled: until then it covers nothing (a partial fill is protected the plain way).
        waiting = {o.list_id for o in self._book.values()
                   if o.position_id == position_id and o.leg is OrderLeg.ENTRY and o.list_id
                   and o.filled_qty + self.details.missing(o.client_order_id) < o.quantity}
        covered = sum(
            (o.remaining_qty for o in self._book.values()
             if o.position_id == position_id and o.leg is OrderLeg.STOP and o.list_id not in waiting
             and not (confirmed and o.status in _UNSENT)),
            ZERO,
        )
        return max(exposed - covered, ZERO)

    async def instrument(self, symbol: str) -> Instrument:
        found = self._instruments.get(symbol)
        if found is None:
            self._instruments = await self._venue.instruments()
            found = self._instruments.get(symbol)
            if found is None:
                raise UnknownSymbolError(f"venue has no instrument {symbol}")
        return found

    async def refresh_instruments(self) -> None:
        """Re-read filters and symbol status (they change; a symbol can go HALT / BREAK)."""
        self._instruments = await self._venue.instruments()

    def unprotected_positions(self) -> list[str]:
        """Positions with a tradable quantity no acknowledged stop covers (dust is not counted)."""
        found: list[str] = []
        for position in self._positions.open_positions():
            deficit = self.protection_deficit(position.id, confirmed=True)
            instrument = self._instruments.get(position.symbol)
            if instrument is None or position.id in self._closing:
                continue
            price = position.stop_loss or position.avg_entry
            if tradable(instrument.floor_qty(deficit), price, instrument):
                found.append(position.id)
        return found

    async def mismatch(self, reason: str) -> None:
        """Irreconcilable difference with the venue: trip the breaker, alert, refuse entries."""
        self.stats.mismatches += 1
        self.mismatch_reasons = [*self.mismatch_reasons[-99:], reason]
        self.block_entries("reconciliation", reason)
        log.error("reconciliation mismatch", reason=reason)
        if self._on_mismatch is not None:
            result = self._on_mismatch(reason)
            if isinstance(result, Awaitable):
                await result
        await self._alert(AlertLevel.CRITICAL, f"reconciliation mismatch: {reason}")

    async def _publish_change(self, order: Order, fills: list[Fill]) -> None:
        """ORDER_EXECUTED per new fill, then ORDER_UPDATED with the order's new state."""
        for fill in fills:
            await self._bus.publish(Topic.ORDER_EXECUTED, OrderExecuted(order, fill))
        await self._bus.publish(Topic.ORDER_UPDATED, OrderUpdated(order))

    async def _journal_new(self, order: Order, values: dict[str, str] | None = None) -> None:
        """Journal a new order (PENDING_SUBMIT, with ``values`` for the key-value store in the same
        commit) and publish it: consumers see "order sent" before the venue's answer and before
        any position its fills open. Call under the order's lock, before the request leaves."""
        self._book[order.client_order_id] = order
        await self._journal.save_with_values(order, values or {}, self._plans.store)
        await self._bus.publish(Topic.ORDER_UPDATED, OrderUpdated(order))

    async def _alert(self, level: AlertLevel, message: str, details: dict[str, Any] | None = None) -> None:
        await self._bus.publish(Topic.ALERT, Alert(level, "execution", message, details or {}))

    async def _plan(self, position_id: str) -> Plan | None:
        return await self._plans.get(position_id)

    async def _forget_plan(self, position_id: str) -> None:
        await self._plans.forget(position_id)

    def _order_lock(self, cid: str) -> asyncio.Lock:
        return _lock_for(self._order_locks, cid)

    def _position_lock(self, position_id: str) -> asyncio.Lock:
        return _lock_for(self._position_locks, position_id)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.stats.last_error = repr(task.exception())
            log.error("execution follow-up failed", error=repr(task.exception()))

    if TYPE_CHECKING:
        # Implemented by the collaborators (one module per concern) that ``OrderExecutor`` combines.
        async def _after_change(self, before: Order, after: Order, fills: list[Fill], *, published: bool = False
                                ) -> None:
            ...

        async def _apply_events(self, cid: str, events: list[OrderEvent]) -> Order:
            ...

        async def _apply_local(self, cid: str, events: list[OrderEvent]) -> tuple[Order, bool]:
            ...

        async def _cancel(self, order: Order, reason: str) -> Order:
            ...

        async def _cap_to_free_balance(
            self, position_id: str, instrument: Instrument, qty: Decimal, *, market_order: bool = False
        ) -> Decimal:
            ...

        async def _close_quietly(self, position_id: str, reason: str) -> None:
            ...

        async def _complete_detail(self, cid: str) -> None:
            ...

        def _start_detail_loop(self, cid: str) -> None:
            ...

        async def _next_attempt(self, position_id: str, count: int) -> int:
            ...

        async def _send(self, order: Order, values: dict[str, str] | None = None) -> Order:
            ...

        async def _send_entry_lists(self, lists: list[EntryList], plan_values: dict[str, str]) -> Order:
            ...

        async def _send_set(self, protection: ProtectionSet) -> None:
            ...

        async def _write_off(self, position_id: str, reason: str) -> None:
            ...

        async def apply_report(self, report: VenueOrderReport, *, trusted: bool = False) -> Order | None:
            ...

        async def cancel_position_orders(self, position_id: str, reason: str, *, legs: frozenset[OrderLeg] | None = None
                                         ) -> None:
            ...

        async def ensure_protection(self, position_id: str) -> bool:
            ...

        async def resolve_once(self, cid: str) -> bool:
            ...

        async def resolve_unknown(self, cid: str) -> Order | None:
            ...

_SEEN_IDS_KEPT = 10_000

_LOCKS_PRUNE_AT = 1_024


def _remember(store: dict[str, Any], key: str, value: Any, limit: int) -> None:
    """Insert as the newest entry; beyond ``limit`` the oldest goes (bounded memory on a long run)."""
    store.pop(key, None)
    store[key] = value
    if len(store) > limit:
        del store[next(iter(store))]


def _lock_for(locks: dict[str, asyncio.Lock], key: str) -> asyncio.Lock:
    """One lock per order / position, created on demand. Past ``_LOCKS_PRUNE_AT`` entries the free
    ones are dropped: nobody holds or waits on an unlocked lock, and between this call and the
    caller's ``acquire`` there is no await, so a fresh lock for the same key cannot race with it."""
    lock = locks.get(key)
    if lock is None:
        if len(locks) >= _LOCKS_PRUNE_AT:
            for stale in [k for k, held in locks.items() if not held.locked()]:
                del locks[stale]
        lock = locks[key] = asyncio.Lock()
    return lock


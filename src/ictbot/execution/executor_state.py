"""The executor's shared context: its ports, the book of open orders, locks, caches, entry blocks and
the queries on them. Each concern is a class of its own over it; ``executor.py`` composes them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.domain.errors import UnknownSymbolError
from ictbot.domain.events import Alert, AlertLevel, OrderExecuted, OrderUpdated
from ictbot.domain.instrument import Instrument
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill, Order, OrderLeg, OrderStatus, OrderType
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.journal_index import JournalIndex
from ictbot.execution.plans import Plan, PlanBook
from ictbot.execution.trade_detail import PendingDetails
from ictbot.ports.clock import Clock
from ictbot.ports.repositories import KeyValueStore, OrderJournal
from ictbot.ports.venue import ExecutionVenue
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


class ExecutorContext:
    """What every concern of the executor shares: its ports (bus, venue, journal, positions, clock,
    protection plans), the book of open orders with its locks and the client ids in flight, the
    instrument cache, the entry blocks, the pending trade details, the follow-up tasks and the
    counters. A concern's own state lives in its class (``executor.py`` lists them)."""

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
    ) -> None:
        self.bus = bus
        self.venue = venue
        self.journal = JournalIndex(journal)
        self.positions = positions
        self.clock = clock
        self.config = config or ExecutionConfig()
        self.plans = PlanBook(plans)
        self.details = PendingDetails(plans)
        self.stats = ExecutorStats()
        self.book: dict[str, Order] = {}  # every non-terminal order we know
        self.inflight: set[str] = set()  # create requests on the wire (not to be queried or resolved)
        # Client ids venue reports mentioned (never reuse): the newest _SEEN_IDS_KEPT; older ones are
        # in the journal, which the attempt numbering asks as well.
        self.seen_ids: dict[str, None] = {}
        self.tasks: set[asyncio.Task[Any]] = set()  # follow-ups, awaited by ``drain``
        self.mismatch_reasons: list[str] = []  # every mismatch raised, oldest first (bounded)
        self._published_trades: dict[str, None] = {}  # "<client id>/<trade id>" announced (newest kept)
        self._on_mismatch = on_mismatch
        self._order_locks: dict[str, asyncio.Lock] = {}
        self._position_locks: dict[str, asyncio.Lock] = {}
        self._instruments: dict[str, Instrument] = {}
        self._block_reasons: dict[str, str] = {}

    def open_orders(self, position_id: str | None = None) -> list[Order]:
        return [o for o in self.book.values() if position_id is None or o.position_id == position_id]

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
        position = self.positions.get(position_id)
        held = abs(position.qty) if position is not None and position.is_open else ZERO
        exposed = held + self.details.unbooked_entry_qty(position_id)
        if exposed <= 0:
            return ZERO
        # The pending stop of an OTOCO entry is placed by the exchange only once its working order
        # is fully filled: until then it covers nothing (a partial fill is protected the plain way).
        waiting = {o.list_id for o in self.book.values()
                   if o.position_id == position_id and o.leg is OrderLeg.ENTRY and o.list_id
                   and o.filled_qty + self.details.missing(o.client_order_id) < o.quantity}
        covered = sum(
            (o.remaining_qty for o in self.book.values()
             if o.position_id == position_id and o.leg is OrderLeg.STOP and o.list_id not in waiting
             and not (confirmed and o.status in _UNSENT)),
            ZERO,
        )
        return max(exposed - covered, ZERO)

    async def instrument(self, symbol: str) -> Instrument:
        found = self._instruments.get(symbol)
        if found is None:
            self._instruments = await self.venue.instruments()
            found = self._instruments.get(symbol)
            if found is None:
                raise UnknownSymbolError(f"venue has no instrument {symbol}")
        return found

    def cached_instrument(self, symbol: str) -> Instrument | None:
        return self._instruments.get(symbol)

    def forget_instrument(self, symbol: str) -> None:
        """Filters may have changed (a filter failure): re-read them next time."""
        self._instruments.pop(symbol, None)

    async def refresh_instruments(self) -> None:
        """Re-read filters and symbol status (they change; a symbol can go HALT / BREAK)."""
        self._instruments = await self.venue.instruments()

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
        await self.alert(AlertLevel.CRITICAL, f"reconciliation mismatch: {reason}")

    async def alert(self, level: AlertLevel, message: str, details: dict[str, Any] | None = None) -> None:
        """Best effort too: an alert often comes just before the action it announces (a flatten)."""
        if not await self._publish(Topic.ALERT, Alert(level, "execution", message, details or {})):
            log.error("execution alert not published", level=level.value, message=message)

    async def publish_change(self, order: Order, fills: list[Fill]) -> None:
        """ORDER_EXECUTED per new fill, then ORDER_UPDATED with the order's new state."""
        for fill in fills:
            # Published before the commit: if that failed, the same report comes again; its trades
            # were announced already.
            key = f"{order.client_order_id}/{fill.trade_id}"
            if key not in self._published_trades and await self._publish(
                    Topic.ORDER_EXECUTED, OrderExecuted(order, fill)):
                _remember(self._published_trades, key, None, _SEEN_IDS_KEPT)
        await self._publish(Topic.ORDER_UPDATED, OrderUpdated(order))

    async def _publish(self, topic: Topic, payload: OrderExecuted | OrderUpdated | Alert) -> bool:
        """Best effort: order events go out before the request leaves and before the fills are
        booked, alerts before the flatten they announce, so a bus that refuses or stalls on them
        (NATS down or reconnecting) must not stop or hold back an order, a fill or the protection
        it triggers. The journal has the state; a refusal or a wait past
        ``event_publish_timeout_s`` is logged and counted; False then."""
        try:
            async with asyncio.timeout(self.config.event_publish_timeout_s):
                await self.bus.publish(topic, payload)
            return True
        except Exception as exc:  # TimeoutError included
            self.stats.extra["events_not_published"] = self.stats.extra.get("events_not_published", 0) + 1
            self.stats.last_error = f"publish {topic.value}: {exc!r}"
            log.error("event not published", topic=topic.value, error=repr(exc))
            return False

    async def journal_new(self, order: Order, values: dict[str, str] | None = None) -> None:
        """Journal a new order (PENDING_SUBMIT, with ``values`` for the key-value store in the same
        commit) and publish it: consumers see "order sent" before the venue's answer and before
        any position its fills open. Call under the order's lock, before the request leaves."""
        self.book[order.client_order_id] = order
        await self.journal.save_with_values(order, values or {}, self.plans.store)
        await self._publish(Topic.ORDER_UPDATED, OrderUpdated(order))

    async def plan(self, position_id: str) -> Plan | None:
        return await self.plans.get(position_id)

    async def forget_plan(self, position_id: str) -> None:
        await self.plans.forget(position_id)

    def order_lock(self, cid: str) -> asyncio.Lock:
        return _lock_for(self._order_locks, cid)

    def position_lock(self, position_id: str) -> asyncio.Lock:
        return _lock_for(self._position_locks, position_id)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a follow-up (protect, flatten, query) in a task: a handler never waits on a lock its
        caller already holds."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.stats.last_error = repr(task.exception())
            log.error("execution follow-up failed", error=repr(task.exception()))


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


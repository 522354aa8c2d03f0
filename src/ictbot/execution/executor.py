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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import structlog

from ictbot.bus import EventBus, Topic
from ictbot.domain.errors import (
    DuplicateOrderError,
    FilterFailureError,
    FinalError,
    IllegalTransitionError,
    NetworkError,
    OrderNotFoundError,
    RetryableError,
    UnknownSymbolError,
)
from ictbot.domain.events import Alert, AlertLevel, OrderExecuted, OrderIntent, OrderUpdated
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import (
    Fill,
    Order,
    OrderEvent,
    OrderFilled,
    OrderLeg,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitUnknown,
    OrderType,
    legal_sources,
)
from ictbot.domain.position import Position
from ictbot.execution.config import ExecutionConfig
from ictbot.execution.confirm import contradiction_confirmed
from ictbot.execution.entry_lists import EntryList, entry_lists
from ictbot.execution.errors import EntriesBlockedError, OrderNotOpenError, UnknownOrderError
from ictbot.execution.ids import is_entry_list, is_ours, leg_client_id, parse_client_id, position_id_for
from ictbot.execution.journal_index import JournalIndex
from ictbot.execution.planning import (
    ProtectionSet,
    entry_order,
    entry_problems,
    exit_order,
    fallback_stop,
    futures_protection,
    spot_protection,
    tradable,
)
from ictbot.execution.plans import Plan, PlanBook
from ictbot.execution.reports import adopted_order, covered_by_stand_in, events_for, missing_qty, new_fills
from ictbot.execution.trade_detail import BLOCK_PREFIX, PendingDetail, PendingDetails, backoff_delays
from ictbot.execution.venue_ext import AccountSetupVenue, OrderListVenue
from ictbot.ports.clock import Clock
from ictbot.ports.repositories import KeyValueStore, OrderJournal
from ictbot.ports.venue import ExecutionVenue, VenueOrderReport
from ictbot.positions.manager import PositionManager

log = structlog.get_logger(__name__)

LOST_REASON = "lost: not found on venue after the unknown-outcome grace period"
_UNSENT = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED_UNKNOWN})
_PROTECTIVE = frozenset({OrderLeg.STOP, OrderLeg.TAKE_PROFIT})
_CONDITIONAL = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})

_MAX_EXIT_FAILURES = 3

# Binance's -2010 texts for a protective order refused because the price has already passed one of
# its legs (OCO: target > last > stop for a SELL; a LIMIT_MAKER target that would take; a stop that
# would trigger at once). The position then leaves at market: an exit, not a failed protection.
_PASSED_LEG_TEXTS = ("relationship of the prices", "would immediately match and take", "would trigger immediately")


def market_passed_a_leg(reason: str) -> bool:
    lowered = reason.lower()
    return any(text in lowered for text in _PASSED_LEG_TEXTS)

MismatchCallback = Callable[[str], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class _Exposure:
    """What needs a stop (``OrderExecutor._exposure``); ``reference`` prices a fallback stop."""

    symbol: str
    long: bool
    qty: Decimal
    stop: Decimal | None
    targets: tuple[Decimal, ...]
    strategy_id: str
    signal_id: str
    reference: Decimal | None
    position: Position | None


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


class OrderExecutor:
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
        self._bus = bus
        self._venue = venue
        self._journal = JournalIndex(journal)
        self._positions = positions
        self._clock = clock
        self.config = config or ExecutionConfig()
        self._on_mismatch = on_mismatch
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

    # ---- lifecycle ----------------------------------------------------------------------------
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
        for task in [*self._tasks, *self._detail_tasks.values()]:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ---- queries ------------------------------------------------------------------------------
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

    # ---- entries ------------------------------------------------------------------------------
    async def submit_intent(self, intent: OrderIntent) -> Order:
        """Place the entry for a validated intent; idempotent per signal.

        Raises EntriesBlockedError while entries are refused.
        """
        signal = intent.signal
        if self._block_reasons:
            raise EntriesBlockedError("; ".join(self._block_reasons.values()))
        if self.unprotected_positions():
            for position_id in self.unprotected_positions():
                await self.ensure_protection(position_id)
            if still := self.unprotected_positions():
                raise EntriesBlockedError(f"positions without protective stop: {', '.join(still)}")
        instrument = await self.instrument(signal.symbol)
        order = entry_order(intent, instrument, self.config, self._clock.now_ms())
        cid = order.client_order_id
        pending = self._book.get(cid) or self._submitting.get(cid)
        if pending is not None:
            return pending  # the same signal again (or concurrently): never a second order
        self._submitting[cid] = order  # claimed before the first await below
        try:
            # Answered from the journal's id index (no database round trip for a new signal).
            existing = await self._journal.get(cid)
            if existing is not None:
                return existing  # seen before (maybe FILLED: Binance would accept the id again)
            return await self._submit_entry(intent, order, instrument)
        finally:
            self._submitting.pop(cid, None)

    async def _submit_entry(self, intent: OrderIntent, order: Order, instrument: Instrument) -> Order:
        signal = intent.signal
        problems = entry_problems(order, instrument, signal.reference_price)
        if problems:
            rejected = order.apply(OrderRejected("; ".join(problems), self._clock.now_ms()))
            await self._journal.save(rejected)
            self.stats.rejected += 1
            await self._bus.publish(Topic.ORDER_UPDATED, OrderUpdated(rejected))
            await self._alert(AlertLevel.WARNING, f"entry {order.client_order_id} not sent: {rejected.reason}")
            return rejected
        # Durable before the entry can fill (a restart must protect with the planned stop): the
        # plan is committed in the same transaction as the PENDING_SUBMIT order, before sending.
        plan_values = self._plans.stage(order.position_id, Plan(signal.strategy_id, signal.id, intent.stop_loss,
                                                                intent.take_profits))
        if instrument.market is Market.USDM:
            await self._setup_account(signal.symbol, intent.leverage)
        lists = entry_lists(intent, instrument, self.config, order.created_at)
        if lists and isinstance(self._venue, OrderListVenue):
            return await self._send_entry_lists(lists, plan_values)
        return await self._send(order, plan_values)

    async def _setup_account(self, symbol: str, leverage: int) -> None:
        if (symbol, leverage) in self._account_ready or not isinstance(self._venue, AccountSetupVenue):
            return
        margin = self.config.margin_types.get(symbol)
        if margin:
            await self._venue.set_margin_type(symbol, margin)
        await self._venue.set_leverage(symbol, leverage)
        self._account_ready.add((symbol, leverage))

    # ---- sending ------------------------------------------------------------------------------
    async def _send(self, order: Order, values: dict[str, str] | None = None) -> Order:
        """Journal ``order`` (with ``values`` for the key-value store, same commit), then send it."""
        cid = order.client_order_id
        self._inflight.add(cid)
        try:
            async with self._order_lock(cid):
                self._book[cid] = order
                # durable BEFORE the request leaves
                await self._journal.save_with_values(order, values or {}, self._plans.store)
            self.stats.sent += 1
            try:
                report = await self._venue.place_order(order)
            except DuplicateOrderError:
                # Same id already open on the venue: placed earlier; learn its state by query.
                return await self._mark_unknown(cid, "duplicate client order id: already placed")
            except NetworkError as exc:
                return await self._mark_unknown(cid, f"unknown outcome: {exc}")
            except (FinalError, RetryableError) as exc:
                return await self._reject(cid, exc)
        finally:
            self._inflight.discard(cid)
        return await self.apply_report(report) or order

    async def _send_entry_lists(self, lists: list[EntryList], plan_values: dict[str, str]) -> Order:
        """Journal every order of every list (the plan with the first), then send the lists one by one.

        All are journaled first so that a tranche whose entry expires unfilled never takes the plan
        away from a later tranche. After a refused list the rest are not sent (rejected here)."""
        assert isinstance(self._venue, OrderListVenue)
        orders = [order for entry_list in lists for order in entry_list.orders]
        self._inflight.update(o.client_order_id for o in orders)
        refused: Exception | None = None
        try:
            for order in orders:
                async with self._order_lock(order.client_order_id):
                    self._book[order.client_order_id] = order
                    values = plan_values if order is orders[0] else {}
                    await self._journal.save_with_values(order, values, self._plans.store)
            for entry_list in lists:
                ids = [o.client_order_id for o in entry_list.orders]
                if refused is not None:
                    for cid in ids:
                        await self._reject(cid, FinalError(f"not sent: an earlier list of this entry was refused "
                                                           f"({refused})"))
                    continue
                refused = await self._send_entry_list(entry_list, ids)
        finally:
            self._inflight.difference_update(o.client_order_id for o in orders)
        return self._book.get(orders[0].client_order_id) or await self._journal.get(orders[0].client_order_id) \
            or orders[0]

    async def _send_entry_list(self, entry_list: EntryList, ids: list[str]) -> Exception | None:
        """Send one OTOCO and apply its reports; the refusal, if the venue refused it."""
        assert isinstance(self._venue, OrderListVenue)
        self.stats.sent += 1
        try:
            reports = await self._venue.place_otoco(*entry_list.orders, entry_list.list_id)
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
            self._inflight.difference_update(ids)
        for report in reports:
            await self.apply_report(report)
        return None

    async def _send_set(self, protection: ProtectionSet) -> None:
        if not protection.list_id:
            for order in protection.orders:
                await self._send(order)
            return
        stop, target = protection.orders
        ids = [stop.client_order_id, target.client_order_id]
        self._inflight.update(ids)
        try:
            for order in protection.orders:
                async with self._order_lock(order.client_order_id):
                    self._book[order.client_order_id] = order
                    await self._journal.save(order)
            self.stats.sent += 1
            try:
                reports = await self._venue.place_oco(stop, target, protection.list_id)
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
            self._inflight.difference_update(ids)
        for report in reports:
            await self.apply_report(report)

    async def _mark_unknown(self, cid: str, reason: str) -> Order:
        self.stats.unknown += 1
        order = await self._apply_events(cid, [OrderSubmitUnknown(reason, self._clock.now_ms())])
        self._spawn(self.resolve_unknown(cid))
        return order

    async def _reject(self, cid: str, exc: Exception) -> Order:
        self.stats.rejected += 1
        if isinstance(exc, FilterFailureError):
            order = self._book.get(cid)
            if order is not None:
                self._instruments.pop(order.symbol, None)  # filters may have changed: re-read next time
        code = exc.code if isinstance(exc, FinalError | RetryableError) else None
        return await self._apply_events(cid, [OrderRejected(str(exc), self._clock.now_ms(), code)])

    # ---- unknown outcomes ---------------------------------------------------------------------
    async def resolve_unknown(self, cid: str) -> Order | None:
        """Query until the venue knows the order or the grace period proves it never existed."""
        while True:
            order = self._book.get(cid)
            if order is None or order.status not in _UNSENT:
                return order
            settled = await self.resolve_once(cid)
            if settled:
                return self._book.get(cid) or await self._journal.get(cid)
            age_s = (self._clock.now_ms() - order.created_at) / 1000
            if age_s > self.config.unknown_grace_s * 3:
                return order  # venue unreachable: the reconciler keeps trying
            await self._clock.sleep(self.config.unknown_query_interval_s)

    async def resolve_once(self, cid: str) -> bool:
        """One query for an unsent/unknown order; True when its outcome is now known."""
        order = self._book.get(cid)
        if order is None or order.status not in _UNSENT or cid in self._inflight:
            return True
        try:
            report = await self._venue.query_order(order.symbol, cid)
        except OrderNotFoundError:
            report = None
        except (RetryableError, FinalError) as exc:
            self.stats.last_error = f"query {cid}: {exc}"
            return False
        if report is not None:
            await self.apply_report(report)
            return True
        if self._clock.now_ms() - order.created_at >= self.config.unknown_grace_s * 1000:
            self.stats.lost += 1
            await self._apply_events(cid, [OrderRejected(LOST_REASON, self._clock.now_ms())])
            return True
        return False

    # ---- venue reports ------------------------------------------------------------------------
    async def apply_report(self, report: VenueOrderReport, *, trusted: bool = False) -> Order | None:
        """Bring our order up to the venue's view. ``trusted``: a contradiction is a mismatch."""
        cid = report.client_order_id
        fills: list[Fill] = []
        _remember(self._seen_ids, cid, None, _SEEN_IDS_KEPT)
        async with self._order_lock(cid):
            order = self._book.get(cid) or await self._journal.get(cid)
            if (order is not None and order.exchange_order_id and report.exchange_order_id
                    and order.exchange_order_id != report.exchange_order_id and order.type not in _CONDITIONAL):
                # An earlier order that carried the same client id (ids are unique only among open
                # orders): not about this order. (A triggered futures algo order legitimately
                # reports under its new matching-engine order id.)
                log.warning("report for another incarnation ignored", client_order_id=cid,
                            ours=order.exchange_order_id, theirs=report.exchange_order_id)
                return order
            adopted = False
            if order is None:
                if not is_ours(cid):
                    return None
                if (report.quantity is None or report.side is None) and report.status.is_open:
                    # Ours, but the venue did not say what it is: stop it, then adopt what it did.
                    report = await self._cancel_unknown_terms(report)
                if report.side is None and not report.fills and report.executed_qty > 0:
                    found = Order(cid, report.symbol, OrderSide.BUY, OrderType.MARKET, report.executed_qty,
                                  report.time)
                    report = replace(report, fills=tuple(await self._order_trades(found, report.time)))
                instrument = await self.instrument(report.symbol)
                order = adopted_order(report, instrument.market, self._clock.now_ms())
                if order is None:
                    return None  # nothing executed and nothing open: nothing to adopt
                self.stats.adopted += 1
                adopted = True
                self._book[cid] = order
                await self._journal.save(order)
            before = order
            fills = new_fills(order, report)
            fills, report, short = await self._with_trade_detail(order, report, fills)
            diff = events_for(order, report, fills)
            if diff.problem:
                if covered_by_stand_in(order, fills):
                    log.info("trades already booked under a stand-in id", client_order_id=cid, trades=len(fills))
                elif not trusted:
                    self._spawn(self._verify(order))
                elif await contradiction_confirmed(self._venue, order, diff.problem, fills):
                    await self.mismatch(diff.problem)
                return order
            try:
                for event in diff.events:
                    order = await self._commit(order, event)
            except IllegalTransitionError as exc:
                await self.mismatch(str(exc))
                return order
        if short <= 0 and await self.details.resolve(cid):
            self.unblock_entries(BLOCK_PREFIX + cid)
            log.info("trade detail completed", client_order_id=cid, trades=len(fills))
        if order is not before or adopted:
            await self._after_change(before, order, fills)
        return order

    # ---- pending trade detail -----------------------------------------------------------------
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
        detail = PendingDetail(cid, order.symbol, short, self._clock.now_ms())
        if await self.details.hold(detail):
            await self._alert(AlertLevel.WARNING, f"{detail.describe()}; booked when the venue gives its trades")
        self.block_entries(BLOCK_PREFIX + cid, detail.describe())
        if order.leg is OrderLeg.ENTRY:
            self._spawn(self.ensure_protection(order.position_id))  # executed: it needs its stop now
        task = self._detail_tasks.get(cid)
        if task is None or task.done():
            self._detail_tasks[cid] = asyncio.get_running_loop().create_task(self._complete_detail(cid))
        return replace(report, status=OrderStatus.NEW) if report.status.is_terminal else report

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

    async def _cancel_unknown_terms(self, report: VenueOrderReport) -> VenueOrderReport:
        cid = report.client_order_id
        await self._alert(AlertLevel.WARNING, f"order {cid} is ours but unknown to the journal and its terms are "
                          "not reported: cancelling it (protection is re-armed from the position)")
        try:
            return await self._venue.cancel_order(report.symbol, cid)
        except OrderNotFoundError:
            found = await self._venue.query_order(report.symbol, cid)
            return found or report
        except (RetryableError, FinalError) as exc:
            self.stats.last_error = f"cancel {cid}: {exc}"
            return report

    async def _verify(self, order: Order) -> None:
        """A stream/reply contradicted our state: ask the venue directly."""
        with contextlib.suppress(OrderNotFoundError, RetryableError):
            report = await self._venue.query_order(order.symbol, order.client_order_id)
            if report is not None:
                await self.apply_report(report, trusted=True)

    async def _order_trades(self, order: Order, venue_time: int = 0) -> list[Fill]:
        """The order's trades. ``since`` uses the venue's clock when known (a simulator's clock may
        be far from ours): the earlier of our creation time and the report's time, minus 5 min."""
        since = min(order.created_at, venue_time) if venue_time > 0 else order.created_at
        try:
            trades = await self._venue.trades(order.symbol, since_ms=since - 300_000)
        except (RetryableError, FinalError):
            return []
        return [t for t in trades if t.client_order_id == order.client_order_id]

    async def _apply_events(self, cid: str, events: list[OrderEvent]) -> Order:
        """Apply locally decided events (unknown outcome, rejection, lost) where still legal.

        A stream report may have moved the order on meanwhile (e.g. NEW arrived before the REST
        call timed out); then the local event is stale and skipped.
        """
        async with self._order_lock(cid):
            current = self._book.get(cid) or await self._journal.get(cid)
            if current is None:
                raise UnknownOrderError(f"order {cid} not found")
            before = order = current
            for event in events:
                if order.status in legal_sources(type(event)):
                    order = await self._commit(order, event)
        if order is not before:
            await self._after_change(before, order, [])
        return order

    async def _commit(self, order: Order, event: OrderEvent) -> Order:
        """Apply one event: fills reach the position first, the journal last (replay-safe order)."""
        updated = order.apply(event)
        if isinstance(event, OrderFilled):
            await self._apply_fill(order, event.fill)
        await self._journal.save(updated)
        if updated.status.is_terminal:
            self._book.pop(updated.client_order_id, None)
        else:
            self._book[updated.client_order_id] = updated
        return updated

    async def _apply_fill(self, order: Order, fill: Fill) -> None:
        instrument = await self.instrument(order.symbol)
        plan = await self._plan(order.position_id)
        await self._positions.apply_fill(
            order.position_id, fill, instrument, strategy_id=order.strategy_id or (plan.strategy_id if plan else ""),
            stop_loss=plan.stop_loss if plan else None, take_profits=plan.take_profits if plan else (),
        )

    async def _after_change(self, before: Order, after: Order, fills: list[Fill]) -> None:
        for fill in fills:
            await self._bus.publish(Topic.ORDER_EXECUTED, OrderExecuted(after, fill))
        await self._bus.publish(Topic.ORDER_UPDATED, OrderUpdated(after))
        pid = after.position_id
        if not pid:
            return
        if self._entry_list_leg_refused(after):
            return
        if after.status is OrderStatus.REJECTED and after.leg in _PROTECTIVE and after.reason != LOST_REASON:
            self._protection_rejected_at[pid] = self._clock.now_ms()
            if after.leg is OrderLeg.STOP and pid not in self._gave_up and self._positions.get(pid) is not None:
                passed = market_passed_a_leg(after.reason)
                await self._alert(
                    AlertLevel.WARNING if passed else AlertLevel.CRITICAL,
                    f"position {pid}: the market is already beyond its stop or target ({after.reason}); exiting "
                    "at market" if passed else
                    f"stop {after.client_order_id} rejected ({after.reason}); flattening position {pid}")
                self._spawn(self._close_quietly(pid, "market beyond a protective leg" if passed
                                                else "protective stop rejected"))
            return
        if after.leg in _PROTECTIVE and after.status is OrderStatus.NEW:
            self._gave_up.discard(pid)
            self._protection_rejected_at.pop(pid, None)
        if (after.leg is OrderLeg.ENTRY and after.status.is_terminal and after.filled_qty == 0
                and self._positions.get(pid) is None
                and not any(o.leg is OrderLeg.ENTRY for o in self.open_orders(pid))):  # other tranches
            await self._forget_plan(pid)
        position = self._positions.get(pid)
        if position is None:
            self._closing.discard(pid)
            self._exit_failures.pop(pid, None)
            self._gave_up.discard(pid)
            self._protection_rejected_at.pop(pid, None)
            if fills or after.status.is_terminal:
                self._spawn(self.cancel_position_orders(pid, "position closed"))
            return
        if pid in self._closing:
            if after.leg is OrderLeg.EXIT and after.status is OrderStatus.REJECTED:
                failures = self._exit_failures[pid] = self._exit_failures.get(pid, 0) + 1
                if failures >= _MAX_EXIT_FAILURES:
                    # Give up flattening for now: re-arm protection rather than hammer the venue;
                    # a rejected re-arm no longer flattens (that would loop) but is retried slowly.
                    self._closing.discard(pid)
                    self._exit_failures.pop(pid, None)
                    self._gave_up.add(pid)
                    await self._alert(AlertLevel.CRITICAL, f"position {pid}: {failures} exit orders rejected "
                                      f"({after.reason}); protection re-armed, manual action needed")
                    self._spawn(self.ensure_protection(pid))
                    return
            if (fills and after.leg is OrderLeg.ENTRY) or (after.leg is OrderLeg.EXIT and after.status.is_terminal):
                self._spawn(self._close_quietly(pid, "remainder after close"))
            return
        target = after.price if after.price is not None else after.stop_price  # LIMIT_MAKER / *_MARKET
        if after.leg is OrderLeg.TAKE_PROFIT and after.status is OrderStatus.FILLED and target is not None:
            instrument = await self.instrument(after.symbol)
            remaining = tuple(t for t in position.take_profits if instrument.round_price(t) != target)
            await self._positions.set_protection(pid, position.stop_loss, remaining)
        if fills or after.status.is_terminal:
            self._spawn(self.ensure_protection(pid))

    def _entry_list_leg_refused(self, after: Order) -> bool:
        """A pending leg of an OTOCO entry refused (e.g. a later tranche's list, or a pair the exchange
        could not place at the fill): nothing was refused that the bot cannot place itself, so the
        position is protected the plain way instead of flattened. True when handled here."""
        pid = after.position_id
        refused = after.status is OrderStatus.REJECTED and after.leg in _PROTECTIVE
        if not (refused and is_entry_list(after.list_id) and self._positions.get(pid) is not None):
            return False
        log.warning("entry list leg refused; protecting the plain way", client_order_id=after.client_order_id,
                    reason=after.reason)
        self._spawn(self.ensure_protection(pid))
        return True

    # ---- protection ---------------------------------------------------------------------------
    async def ensure_protection(self, position_id: str) -> bool:
        """Arm stops (and targets) for any uncovered quantity; True when the position is covered."""
        if position_id in self._closing:
            return True
        async with self._position_lock(position_id):
            if position_id in self._closing:
                return True
            return await self._arm(position_id)

    async def _exposure(self, position_id: str) -> _Exposure | None:
        """The quantity to protect: the open position plus executed entry quantity whose trades are
        still pending (before its first booked fill there is no position: the entry and plan say)."""
        position = self._positions.get(position_id)
        plan = await self._plan(position_id)
        unbooked = self.details.unbooked_entry_qty(position_id)
        signal_id = plan.signal_id if plan else ""
        if position is not None and position.is_open:
            return _Exposure(
                position.symbol, position.qty > 0, abs(position.qty) + unbooked,
                position.stop_loss or (plan.stop_loss if plan else None),
                position.take_profits or (plan.take_profits if plan else ()), position.strategy_id, signal_id,
                position.avg_entry, position)
        entry = next((o for o in self.open_orders(position_id) if o.leg is OrderLeg.ENTRY), None)
        if unbooked <= 0 or entry is None:
            return None
        return _Exposure(entry.symbol, entry.side is OrderSide.BUY, unbooked, plan.stop_loss if plan else None,
                         plan.take_profits if plan else (), entry.strategy_id, signal_id, entry.price, None)

    async def _arm(self, position_id: str) -> bool:
        exposure = await self._exposure(position_id)
        if exposure is None:
            return True
        rejected_at = self._protection_rejected_at.get(position_id)
        if rejected_at is not None and self._clock.now_ms() - rejected_at < self.config.rearm_backoff_s * 1000:
            return False  # the venue refused protection moments ago: do not hammer it
        instrument = await self.instrument(exposure.symbol)
        long, stop, targets, position = exposure.long, exposure.stop, exposure.targets, exposure.position
        if stop is None:
            if exposure.reference is None:
                return False
            stop = fallback_stop(exposure.reference, long, self.config.fallback_stop_fraction)
            await self._alert(AlertLevel.WARNING, f"position {position_id}: stop level unknown, using fallback {stop}")
        if position is not None and (position.stop_loss != stop or (not position.take_profits and targets)):
            await self._positions.set_protection(position_id, stop, targets)
        stop_deficit = instrument.floor_qty(self.protection_deficit(position_id))
        if instrument.market is Market.SPOT and long and stop_deficit > 0:
            if await self._release_orphan_targets(position_id):
                stop_deficit = instrument.floor_qty(self.protection_deficit(position_id))
            stop_deficit = await self._cap_to_free_balance(position_id, instrument, stop_deficit)
        covered = [o for o in self._book.values() if o.position_id == position_id]
        if not tradable(stop_deficit, stop, instrument):
            if instrument.market is Market.SPOT and long and self._orphan_targets(position_id):
                return False  # their cancel failed: the coins are still locked; the timer retries
            entry_open = any(o.leg is OrderLeg.ENTRY for o in covered)
            unprotected = not any(o.leg is OrderLeg.STOP for o in covered)
            # Nothing protects or adds to it, and all of it could not be sold (even where the books
            # hold more than the account, so the capped deficit is smaller): dust, written off.
            if (position is not None and unprotected and not entry_open
                    and not tradable(instrument.floor_qty(abs(position.qty)), stop, instrument)):
                await self._write_off(position_id, "remainder below the venue's minimum order")
            return True
        attempt = await self._next_attempt(position_id, 1 + len(targets))
        now = self._clock.now_ms()
        common: dict[str, Any] = {
            "position_id": position_id, "symbol": exposure.symbol, "long": long, "stop_price": stop,
            "targets": targets, "instrument": instrument, "attempt": attempt, "now_ms": now,
            "strategy_id": exposure.strategy_id, "signal_id": exposure.signal_id,
        }
        if instrument.market is Market.USDM:
            target_cover = sum((o.remaining_qty for o in covered if o.leg is OrderLeg.TAKE_PROFIT), ZERO)
            target_qty = instrument.floor_qty(max(exposure.qty - target_cover, ZERO))
            sets = futures_protection(
                stop_qty=stop_deficit, target_qty=target_qty if tradable(target_qty, stop, instrument) else ZERO,
                **common)
        else:
            sets = spot_protection(qty=stop_deficit, config=self.config, **common)
        for protection in sets:
            await self._send_set(protection)
        return self.protection_deficit(position_id) == 0

    def _orphan_targets(self, position_id: str) -> list[Order]:
        """Resting spot targets whose OCO has lost its stop (Binance expires the stop leg once the
        target trades): they lock coins no exchange stop covers."""
        live_stops = {o.list_id for o in self._book.values()
                      if o.position_id == position_id and o.leg is OrderLeg.STOP and o.status.is_open}
        return [o for o in self._book.values()
                if o.position_id == position_id and o.leg is OrderLeg.TAKE_PROFIT and o.status.is_open
                and o.status not in _UNSENT and o.client_order_id not in self._inflight
                and not (o.list_id and o.list_id in live_stops)]

    async def _release_orphan_targets(self, position_id: str) -> bool:
        """Cancel the position's orphan targets so that their coins can carry a new stop: the caller
        re-arms the whole remainder as a new OCO (stop + targets). True when one was cancelled."""
        orphans = self._orphan_targets(position_id)
        for target in orphans:
            log.warning("target without its stop leg: cancelling it to re-arm the remainder as a new OCO",
                        client_order_id=target.client_order_id, filled=str(target.filled_qty))
            await self._cancel(target, "re-armed with a stop: its OCO stop leg expired")
        return bool(orphans)

    async def _cap_to_free_balance(
        self, position_id: str, instrument: Instrument, qty: Decimal, *, market_order: bool = False
    ) -> Decimal:
        """Spot sells can only use coins the account holds free: a fee or fill the books did not
        see exactly must not make every protective order fail for insufficient balance."""
        try:
            balances = await self._venue.balances()
        except (RetryableError, FinalError):
            return qty
        held = balances.get(instrument.base_asset)
        free = instrument.floor_qty(held.free if held is not None else ZERO, market_order=market_order)
        if free >= qty:
            return qty
        await self._alert(AlertLevel.WARNING, f"position {position_id}: needs {qty} {instrument.base_asset} "
                          f"but only {free} is free on the venue; using what is there")
        return free

    async def move_stop(self, position_id: str, new_stop: Decimal) -> None:
        """Replace the position's stop orders at ``new_stop`` (breakeven / trailing)."""
        if position_id in self._closing:
            return
        async with self._position_lock(position_id):
            position = self._positions.get(position_id)
            if position is None or position_id in self._closing:
                return
            await self._positions.set_protection(position_id, new_stop, position.take_profits)
            instrument = await self.instrument(position.symbol)
            stops = [o for o in self.open_orders(position_id) if o.leg is OrderLeg.STOP]
            if instrument.market is Market.USDM:
                # Reduce-only stops can overlap: arm the new one first, then drop the old ones.
                fresh = await self._next_attempt(position_id, 1)
                qty = instrument.floor_qty(abs(position.qty))
                for protection in futures_protection(
                    position_id=position_id, symbol=position.symbol, long=position.qty > 0, stop_qty=qty,
                    target_qty=ZERO, stop_price=new_stop, targets=(), instrument=instrument, attempt=fresh,
                    now_ms=self._clock.now_ms(), strategy_id=position.strategy_id,
                ):
                    await self._send_set(protection)
                for order in stops:
                    await self._cancel(order, "stop moved")
                return
            # Spot: the base coins are locked by the OCO; cancel (the whole list), then re-arm.
            for order in stops:
                await self._cancel(order, "stop moved")
            await self._arm(position_id)

    async def _next_attempt(self, position_id: str, count: int) -> int:
        """Unique attempt numbers for new protective/exit orders (seconds-based, journal-checked)."""
        attempt = max((self._clock.now_ms() // 1000) % 900_000, self._last_attempt.get(position_id, -1) + 1)
        while await self._attempt_taken(position_id, attempt, count):
            attempt += count
        _remember(self._last_attempt, position_id, attempt + count - 1, _SEEN_IDS_KEPT)
        return attempt

    async def _attempt_taken(self, position_id: str, attempt: int, count: int) -> bool:
        for n in range(attempt, attempt + count):
            for leg in (OrderLeg.STOP, OrderLeg.TAKE_PROFIT, OrderLeg.EXIT):
                cid = leg_client_id(position_id, leg, n)
                if cid in self._book or cid in self._seen_ids or await self._journal.holds(cid):
                    return True
        return False

    # ---- cancel / close -----------------------------------------------------------------------
    async def cancel_order(self, client_id: str) -> Order:
        """Cancel one order (API). UnknownOrderError (404) / OrderNotOpenError (409)."""
        order = self._book.get(client_id)
        if order is None:
            stored = await self._journal.get(client_id)
            if stored is None:
                raise UnknownOrderError(f"order {client_id} not found")
            raise OrderNotOpenError(f"order {client_id} is {stored.status.value}")
        return await self._cancel(order, "canceled by request")

    async def _cancel(self, order: Order, reason: str) -> Order:
        """Cancel and confirm: the order ends terminal here only when the venue says so."""
        cid = order.client_order_id
        if order.status in _UNSENT:
            await self.resolve_once(cid)
            order = self._book.get(cid) or order
            if order.status.is_terminal or order.status in _UNSENT:
                return order
        try:
            report: VenueOrderReport | None = await self._venue.cancel_order(order.symbol, cid)
        except OrderNotFoundError:
            report = None  # already filled/canceled (-2011): ask what happened
        except (RetryableError, FinalError) as exc:
            self.stats.last_error = f"cancel {cid}: {exc}"
            return order
        if report is None or report.status.is_open:
            with contextlib.suppress(OrderNotFoundError, RetryableError):
                report = await self._venue.query_order(order.symbol, cid)
        updated = order
        if report is not None:
            if report.status is OrderStatus.CANCELED and not report.reason:
                report = replace(report, reason=reason)  # the journal records why we cancelled
            updated = await self.apply_report(report, trusted=True) or order
        if order.list_id:
            for sibling in [o for o in self._book.values() if o.list_id == order.list_id and o is not order]:
                with contextlib.suppress(OrderNotFoundError, RetryableError):
                    sibling_report = await self._venue.query_order(sibling.symbol, sibling.client_order_id)
                    if sibling_report is not None:
                        await self.apply_report(sibling_report, trusted=True)
        log.info("order cancel", client_order_id=cid, reason=reason, status=updated.status.value)
        return updated

    async def cancel_position_orders(self, position_id: str, reason: str, *, legs: frozenset[OrderLeg] | None = None
                                     ) -> None:
        """Cancel the position's open orders, entries first (so they stop adding)."""
        orders = sorted(self.open_orders(position_id), key=lambda o: o.leg is not OrderLeg.ENTRY)
        handled: set[str] = set()
        for order in orders:
            if (legs is not None and order.leg not in legs) or order.leg is OrderLeg.EXIT:
                continue
            if order.list_id and order.list_id in handled:
                continue
            current = self._book.get(order.client_order_id)
            if current is None:
                continue
            await self._cancel(current, reason)
            if order.list_id:
                handled.add(order.list_id)

    async def close_position(self, position_id: str, reason: str = "closed by request") -> Order | None:
        """Flatten one position at market (API). PositionNotFoundError / PositionAlreadyClosedError."""
        await self._positions.require_open(position_id)
        self._closing.add(position_id)
        async with self._position_lock(position_id):
            return await self._flatten(position_id, reason)

    async def _close_quietly(self, position_id: str, reason: str) -> None:
        if self._positions.get(position_id) is None:
            return
        self._closing.add(position_id)
        async with self._position_lock(position_id):
            await self._flatten(position_id, reason)

    async def _flatten(self, position_id: str, reason: str) -> Order | None:
        await self.cancel_position_orders(position_id, reason)
        position = self._positions.get(position_id)
        if position is None:
            return None
        pending_exit = [o for o in self.open_orders(position_id) if o.leg is OrderLeg.EXIT]
        if pending_exit:
            return pending_exit[0]  # one exit at a time: never a second market order
        instrument = await self.instrument(position.symbol)
        qty = instrument.floor_qty(abs(position.qty), market_order=True)
        if instrument.market is Market.SPOT and position.qty > 0:
            qty = await self._cap_to_free_balance(position_id, instrument, qty, market_order=True)
        price = self._positions.mark_price(position.symbol) or position.avg_entry
        if not tradable(qty, price, instrument, market_order=True):
            await self._write_off(position_id, f"close: remainder {position.qty} below the venue's minimum")
            return None
        order = exit_order(
            position_id=position_id, symbol=position.symbol, long=position.qty > 0, qty=qty, instrument=instrument,
            attempt=await self._next_attempt(position_id, 1), now_ms=self._clock.now_ms(),
            strategy_id=position.strategy_id,
        )
        log.info("closing position", position=position_id, reason=reason, qty=str(qty))
        return await self._send(order)

    async def _write_off(self, position_id: str, reason: str) -> None:
        position = self._positions.get(position_id)
        if position is None:
            return
        await self._alert(AlertLevel.INFO, f"position {position_id}: dust {position.qty} {position.base_asset} "
                          f"left ({reason})", {"position_id": position_id, "qty": str(position.qty)})
        await self._positions.write_off_dust(position_id, reason)
        await self._forget_plan(position_id)
        self._closing.discard(position_id)

    async def emergency_stop(self, reason: str = "emergency stop") -> dict[str, int]:
        """Refuse entries, cancel every entry, flatten every position."""
        self.block_entries("emergency", reason)
        entries = [o for o in list(self._book.values()) if o.leg is OrderLeg.ENTRY]
        for order in entries:
            current = self._book.get(order.client_order_id)
            if current is not None:
                await self._cancel(current, reason)
        positions = self._positions.open_positions()
        for position in positions:
            self._closing.add(position.id)
            async with self._position_lock(position.id):
                await self._flatten(position.id, reason)
        await self._alert(AlertLevel.CRITICAL, f"emergency stop: {reason}",
                          {"entries_canceled": len(entries), "positions_closed": len(positions)})
        return {"entries_canceled": len(entries), "positions_closed": len(positions)}

    # ---- timers -------------------------------------------------------------------------------
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

    # ---- mismatch / alerts --------------------------------------------------------------------
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

    async def _alert(self, level: AlertLevel, message: str, details: dict[str, Any] | None = None) -> None:
        await self._bus.publish(Topic.ALERT, Alert(level, "execution", message, details or {}))

    # ---- helpers ------------------------------------------------------------------------------
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


__all__ = ["LOST_REASON", "OrderExecutor", "is_ours", "parse_client_id", "position_id_for"]


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

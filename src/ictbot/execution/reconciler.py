"""Reconciliation: the venue's open orders, trades and holdings against our journal and books.

Runs on start, after every user-stream reconnect, periodically, and (orders only) as the REST poll
while the stream is down. Steps, each idempotent:

1. every open venue order is applied (ours but unknown → adopted; foreign → ignored);
2. every order we think open but the venue did not list is queried (unsent ones past the grace
   period are declared lost; an acknowledged order the venue has never heard of is a mismatch);
3. recent venue trades with our prefix that no order has seen are applied (fills missed while down);
4. every open position gets its protective stop re-armed (before any new entry is allowed);
5. holdings are compared: futures positions per symbol, spot base-asset balances; a difference
   beyond tolerance trips the breaker (``on_mismatch``) and raises an ALERT.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from decimal import Decimal

import structlog

from ictbot.domain.errors import FinalError, OrderNotFoundError, RetryableError
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import Fill, OrderStatus
from ictbot.domain.position import Position
from ictbot.execution.executor import OrderExecutor
from ictbot.execution.ids import is_ours
from ictbot.ports.clock import Clock
from ictbot.ports.venue import ExecutionVenue, VenueOrderReport
from ictbot.positions.manager import PositionManager

log = structlog.get_logger(__name__)

_UNSENT = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED_UNKNOWN})


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    reason: str
    time: int
    venue_open: int
    adopted: int
    queried: int
    fills_recovered: int
    rearmed: int
    mismatches: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.mismatches


class Reconciler:
    def __init__(
        self, executor: OrderExecutor, venue: ExecutionVenue, positions: PositionManager, clock: Clock
    ) -> None:
        self._executor = executor
        self._venue = venue
        self._positions = positions
        self._clock = clock
        self._trades_since: dict[str, int] = {}
        self._lock = asyncio.Lock()  # start, reconnect and periodic passes never interleave
        self.last: ReconcileResult | None = None

    async def reconcile(self, reason: str) -> ReconcileResult:
        async with self._lock:
            return await self._reconcile(reason)

    async def _reconcile(self, reason: str) -> ReconcileResult:
        mismatches: list[str] = []
        adopted_before = self._executor.stats.adopted
        raised_before = self._executor.stats.mismatches
        await self._executor.refresh_instruments()
        venue_open = await self._venue.open_orders()
        seen = await self._apply_open(venue_open)
        queried = await self.resolve_missing(seen, mismatches)
        recovered = await self._recover_fills({r.symbol for r in venue_open if is_ours(r.client_order_id)})
        rearmed = 0
        for position in self._positions.open_positions():
            if await self._needs_protection(position):
                rearmed += 1
                await self._executor.ensure_protection(position.id)
        await self._executor.drain(timeout=1.0)  # let fill follow-ups settle before comparing holdings
        mismatches.extend(await self._holdings_mismatches())
        for problem in mismatches:
            await self._executor.mismatch(problem)
        # Everything tripped during this pass, including contradictions found while applying
        # reports and trades, so the result (and its log line) count what the breaker saw.
        raised = self._executor.stats.mismatches - raised_before
        mismatches = self._executor.mismatch_reasons[-raised:] if raised else []
        result = ReconcileResult(
            reason=reason, time=self._clock.now_ms(), venue_open=len(venue_open),
            adopted=self._executor.stats.adopted - adopted_before, queried=queried, fills_recovered=recovered,
            rearmed=rearmed, mismatches=tuple(mismatches),
        )
        self.last = result
        # A clean periodic pass is routine; anything it had to fix is worth a line at INFO.
        eventful = result.adopted or recovered or rearmed or mismatches or reason != "periodic"
        (log.info if eventful else log.debug)(
            "reconciled", reason=reason, venue_open=result.venue_open, adopted=result.adopted,
            fills_recovered=recovered, rearmed=rearmed, mismatches=len(mismatches),
        )
        return result

    async def _needs_protection(self, position: Position) -> bool:
        """An uncovered quantity of at least one lot step, or a position that is all dust (written off).
        Less than a step is the buy's commission taken in the base asset: no stop can cover it, and
        counting it as a re-arm logged ``rearmed=1`` every round for every protected position."""
        deficit = self._executor.protection_deficit(position.id)
        if deficit <= 0:
            return False
        instrument = await self._executor.instrument(position.symbol)
        return instrument.floor_qty(deficit) > 0 or instrument.floor_qty(abs(position.qty)) == 0

    async def poll_orders(self) -> None:
        """REST stand-in for the user stream: open orders + queries for the ones that vanished."""
        if self._lock.locked():
            return  # a full reconciliation is running and covers this
        async with self._lock:
            seen = await self._apply_open(await self._venue.open_orders())
            mismatches: list[str] = []
            await self.resolve_missing(seen, mismatches)
        for problem in mismatches:
            await self._executor.mismatch(problem)

    async def _apply_open(self, reports: list[VenueOrderReport]) -> set[str]:
        seen: set[str] = set()
        for report in reports:
            seen.add(report.client_order_id)
            if is_ours(report.client_order_id) or self._executor.order(report.client_order_id) is not None:
                await self._executor.apply_report(report, trusted=True)
        return seen

    async def resolve_missing(self, seen: set[str], mismatches: list[str]) -> int:
        queried = 0
        for order in self._executor.open_orders():
            cid = order.client_order_id
            if cid in seen or cid in self._executor.inflight:
                continue
            if order.status in _UNSENT:
                queried += 1
                await self._executor.resolve_once(cid)
                continue
            queried += 1
            try:
                report = await self._venue.query_order(order.symbol, cid)
            except OrderNotFoundError:
                report = None
            except (RetryableError, FinalError) as exc:
                log.warning("reconcile query failed", client_order_id=cid, error=str(exc))
                continue
            if report is None:
                try:
                    report = await self._query_again(order.symbol, cid)
                except (RetryableError, FinalError) as exc:
                    log.warning("reconcile re-query failed", client_order_id=cid, error=str(exc))
                    continue
            if report is None:
                mismatches.append(f"{cid} is {order.status.value} in the journal but unknown to the venue")
                continue
            await self._executor.apply_report(report, trusted=True)
        return queried

    async def _query_again(self, symbol: str, cid: str) -> VenueOrderReport | None:
        """Second look before calling an order unknown (a lagging replica answers "not found")."""
        await asyncio.sleep(0.2)
        with contextlib.suppress(OrderNotFoundError):
            return await self._venue.query_order(symbol, cid)
        return None

    async def _recover_fills(self, extra_symbols: set[str] | None = None) -> int:
        symbols = {o.symbol for o in self._executor.open_orders()} | {
            p.symbol for p in self._positions.open_positions()
        } | (extra_symbols or set())
        recovered = 0
        for symbol in sorted(symbols):
            # First pass: the venue's most recent trades (its clock, not ours, decides "recent").
            since = self._trades_since.get(symbol)
            try:
                trades = await self._venue.trades(symbol, since_ms=since)
            except (RetryableError, FinalError) as exc:
                log.warning("reconcile trades failed", symbol=symbol, error=str(exc))
                continue
            for fill in sorted(trades, key=lambda f: (f.time, f.trade_id)):
                if is_ours(fill.client_order_id) and await self._apply_trade(fill):
                    recovered += 1
            if trades:
                self._trades_since[symbol] = max(t.time for t in trades) - 60_000
        return recovered

    async def _apply_trade(self, fill: Fill) -> bool:
        order = self._executor.order(fill.client_order_id) or await self._executor.journal_get(fill.client_order_id)
        if order is None:
            # An order of ours nobody journaled: learn its terms by query, then adopt.
            with contextlib.suppress(OrderNotFoundError, RetryableError, FinalError):
                report = await self._venue.query_order(fill.symbol, fill.client_order_id)
                if report is not None:
                    await self._executor.apply_report(report, trusted=True)
                    return True
            return False
        if fill.trade_id in order.trade_ids:
            return False
        filled = order.filled_qty + fill.qty
        status = OrderStatus.FILLED if filled >= order.quantity else OrderStatus.PARTIALLY_FILLED
        if order.status.is_terminal:
            status = order.status
        report = VenueOrderReport(
            client_order_id=order.client_order_id, symbol=order.symbol, status=status,
            exchange_order_id=order.exchange_order_id, executed_qty=filled,
            cumulative_quote=order.filled_quote + fill.notional, fills=(fill,), time=fill.time,
        )
        await self._executor.apply_report(report, trusted=True)
        return True

    async def _holdings_mismatches(self) -> list[str]:
        problems = await self._compare_holdings()
        if problems:
            # A fill may have landed between the two reads: look once more before tripping.
            await self._recover_fills()
            await self._executor.drain(timeout=1.0)
            problems = await self._compare_holdings()
        return problems

    async def _compare_holdings(self) -> list[str]:
        # A symbol with an execution awaiting its trade detail differs from the venue by design
        # until the detail arrives: comparing it now would report a false mismatch.
        waiting = {detail.symbol for detail in self._executor.details.all()}
        positions = [p for p in self._positions.open_positions() if p.symbol not in waiting]
        tolerance = self._executor.config.balance_tolerance
        problems: list[str] = []
        futures: dict[str, Decimal] = {}
        spot: dict[str, Decimal] = {}
        for position in positions:
            if position.market is Market.USDM:
                futures[position.symbol] = futures.get(position.symbol, ZERO) + position.qty
            elif position.qty > 0:
                spot[position.base_asset] = spot.get(position.base_asset, ZERO) + position.qty
        if futures:
            try:
                venue_positions = {p.symbol: p.qty for p in await self._venue.positions()}
            except (RetryableError, FinalError) as exc:
                log.warning("reconcile positions failed", error=str(exc))
                venue_positions = None
            if venue_positions is not None:
                for symbol, ours in futures.items():
                    theirs = venue_positions.get(symbol, ZERO)
                    if abs(theirs - ours) > abs(ours) * tolerance:
                        problems.append(f"{symbol}: venue position {theirs}, our books {ours}")
        if spot:
            try:
                balances = await self._venue.balances()
            except (RetryableError, FinalError) as exc:
                log.warning("reconcile balances failed", error=str(exc))
                return problems
            for asset, ours in spot.items():
                held = balances[asset].total if asset in balances else ZERO
                if held < ours * (1 - tolerance):
                    problems.append(f"{asset}: venue balance {held}, our open positions hold {ours}")
        return problems


"""Pure translation of a venue report into the order events still missing from our state.

Reports arrive from REST replies, queries and the user stream, in any order and sometimes twice;
``events_for`` returns only what the order has not seen yet, so applying a report is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.domain.money import ZERO
from ictbot.domain.order import (
    Fill,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderLeg,
    OrderRejected,
    OrderStatus,
    OrderType,
)
from ictbot.execution.ids import parse_client_id
from ictbot.ports.venue import VenueOrderReport

_UNSENT = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED_UNKNOWN})


@dataclass(frozen=True, slots=True)
class ReportDiff:
    events: tuple[OrderEvent, ...]
    problem: str = ""  # the report contradicts our state (e.g. terminal here, open there)


def new_fills(order: Order, report: VenueOrderReport, extra: tuple[Fill, ...] = ()) -> list[Fill]:
    """Fills of this order in the report (or fetched separately) not applied yet, oldest first."""
    seen = set(order.trade_ids)
    found: list[Fill] = []
    for fill in (*report.fills, *extra):
        if fill.client_order_id == order.client_order_id and fill.trade_id not in seen:
            seen.add(fill.trade_id)
            found.append(fill)
    return sorted(found, key=lambda f: (f.time, f.trade_id))


def missing_qty(order: Order, report: VenueOrderReport, fills: list[Fill]) -> Decimal:
    """Executed quantity the venue reports that no known fill explains."""
    return report.executed_qty - order.filled_qty - sum((f.qty for f in fills), ZERO)


LEGACY_STAND_IN_PREFIX = "cum-"  # trade ids earlier versions invented when the venue gave no detail


def covered_by_stand_in(order: Order, fills: list[Fill]) -> bool:
    """Real trades of a finished order that an earlier version booked under an invented
    ``cum-…`` trade id: their quantity is already counted, so they are neither a contradiction nor
    booked again (journals written before pending trade details existed)."""
    stand_in = any(trade_id.startswith(LEGACY_STAND_IN_PREFIX) for trade_id in order.trade_ids)
    return stand_in and order.status.is_terminal and sum((f.qty for f in fills), ZERO) <= order.filled_qty


def events_for(order: Order, report: VenueOrderReport, fills: list[Fill]) -> ReportDiff:
    status = report.status
    if order.status.is_terminal:
        if fills:
            return ReportDiff((), f"{order.client_order_id}: fills reported for {order.status.value} order")
        if status.is_open and report.executed_qty <= order.filled_qty and order.status is not OrderStatus.FILLED:
            return ReportDiff((), f"{order.client_order_id}: {order.status.value} here but {status.value} on venue")
        return ReportDiff(())
    events: list[OrderEvent] = []
    if order.status in _UNSENT:
        if status is OrderStatus.REJECTED:
            return ReportDiff((OrderRejected(report.reason or "rejected by venue", report.time),))
        events.append(OrderAccepted(report.exchange_order_id or "", report.time))
    elif status is OrderStatus.REJECTED:
        return ReportDiff((), f"{order.client_order_id}: venue says REJECTED for a {order.status.value} order")
    filled = order.filled_qty
    for fill in fills:
        events.append(OrderFilled(fill))
        filled += fill.qty
    if filled < order.quantity:
        if status is OrderStatus.CANCELED:
            events.append(OrderCanceled(report.time, report.reason))
        elif status is OrderStatus.EXPIRED:
            events.append(OrderExpired(report.time, report.reason))
    return ReportDiff(tuple(events))


def adopted_order(report: VenueOrderReport, market: Market, now_ms: int) -> Order | None:
    """Rebuild one of our orders that the journal does not know (crash between send and save)."""
    parsed = parse_client_id(report.client_order_id)
    side = report.side or (report.fills[0].side if report.fills else None)
    if parsed is None or side is None:
        return None
    position_id, leg, _ = parsed
    default_type = {OrderLeg.STOP: OrderType.STOP_MARKET, OrderLeg.TAKE_PROFIT: OrderType.TAKE_PROFIT_MARKET}
    # Without the original quantity only a finished order can be adopted, at what it executed.
    quantity = report.quantity if report.quantity is not None else report.executed_qty
    if quantity <= 0 or (report.quantity is None and report.status.is_open):
        return None
    return Order(
        client_order_id=report.client_order_id, symbol=report.symbol, side=side,
        type=report.type or default_type.get(leg, OrderType.MARKET), quantity=quantity,
        created_at=report.time or now_ms, price=report.price, stop_price=report.stop_price, market=market,
        reduce_only=report.reduce_only, leg=leg, position_id=position_id, list_id=report.list_client_id,
        status=OrderStatus.SUBMITTED_UNKNOWN, reason="adopted from venue",
    )



def applied(order: Order, events: Sequence[OrderEvent]) -> Order:
    """``order`` after ``events`` (pure; raises IllegalTransitionError like ``Order.apply``)."""
    for event in events:
        order = order.apply(event)
    return order

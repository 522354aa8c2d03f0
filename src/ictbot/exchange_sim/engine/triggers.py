"""Which stops a price path triggers and which resting limits it trades through, in path order.

Pure: the engine passes its open orders and algo orders in and acts on what comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ictbot.exchange_sim.engine.model import LIMIT_LIKE, STOP_TYPES, AlgoOrder, SimOrder


def triggers_upward(order_type: str, side: str) -> bool:
    """True when the order triggers as the price rises to its stop (STOP BUY, TAKE_PROFIT SELL)."""
    is_stop = order_type.startswith("STOP")
    return (is_stop and side == "BUY") or (not is_stop and side == "SELL")


def would_trigger(order_type: str, side: str, stop: Decimal, last: Decimal) -> bool:
    return last >= stop if triggers_upward(order_type, side) else last <= stop


def crossed_stops(orders: Iterable[SimOrder], algos: Iterable[AlgoOrder], start: Decimal,
                  end: Decimal) -> list[SimOrder | AlgoOrder]:
    """Untriggered stops and open algo orders the move ``start`` → ``end`` reaches, in the order it
    reaches them (ties: the lower id first); a stop triggers only when the path moves towards it."""
    low, high = min(start, end), max(start, end)
    rising = end > start
    pending: list[tuple[Decimal, int, SimOrder | AlgoOrder]] = [
        (o.stop_price, o.order_id, o) for o in orders if o.type in STOP_TYPES and not o.triggered
    ]
    pending.extend((a.trigger_price, a.algo_id, a) for a in algos)
    pending.sort(key=lambda item: (item[0] if rising else -item[0], item[1]))
    crossed: list[SimOrder | AlgoOrder] = []
    for stop, _, item in pending:
        kind = item.type if isinstance(item, SimOrder) else item.order_type
        if low <= stop <= high and triggers_upward(kind, item.side) == rising:
            crossed.append(item)
    return crossed


def resting_hits(orders: Iterable[SimOrder], start: Decimal, end: Decimal, starts: dict[int, Decimal],
                 touch: bool) -> list[SimOrder]:
    """Working limits the move trades through (or touches, with ``touch``), best price for the path first.

    ``starts`` holds where an order's own segment began when a stop triggered it on this move.
    """
    hits: list[SimOrder] = []
    for order in orders:
        if order.type not in LIMIT_LIKE or not order.is_working:
            continue
        seg_start = starts.get(order.order_id, start)
        low, high = min(seg_start, end), max(seg_start, end)
        if order.side == "BUY":
            hit = low <= order.price if touch else low < order.price
        else:
            hit = high >= order.price if touch else high > order.price
        if hit:
            hits.append(order)
    falling = end < start
    hits.sort(key=lambda o: (-o.price if falling else o.price, o.order_id))
    return hits

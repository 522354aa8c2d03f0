"""What one move of the replayed price does to the book: the stops it reaches trigger, in path order,
then the resting limits it trades through fill at their price (capped by ``participation``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine import algos, triggers
from ictbot.exchange_sim.engine.batch import Batch
from ictbot.exchange_sim.engine.model import SimOrder

if TYPE_CHECKING:
    from ictbot.exchange_sim.engine.matching import MatchingEngine


def trigger_stops(engine: MatchingEngine, market: Market, symbol: str, start: Decimal, end: Decimal, gap: bool,
                  now: int, batch: Batch) -> dict[int, Decimal]:
    """Trigger what the path reaches; returns where each triggered order's own path begins."""
    algo_orders = engine.algo_book.open_on(symbol) if market is Market.USDM else []
    starts: dict[int, Decimal] = {}
    for item in triggers.crossed_stops(engine.registry.open_on(market, symbol), algo_orders, start, end):
        price = end if gap else (item.stop_price if isinstance(item, SimOrder) else item.trigger_price)
        if isinstance(item, SimOrder):
            current = engine.registry.current(item)
            if current.is_open:
                starts[current.order_id] = price
                engine.trigger_order(current, price, now, batch)
        else:
            algos.trigger(engine, engine.algos[item.algo_id], price, now, batch)
    return starts


def fill_resting(engine: MatchingEngine, market: Market, symbol: str, start: Decimal, end: Decimal, volume: Decimal,
                 starts: dict[int, Decimal], now: int, batch: Batch) -> None:
    """Fill the working limits the move trades through, at their price (makers)."""
    cap = engine.config.participation * volume if engine.config.participation is not None else None
    hits = triggers.resting_hits(engine.registry.open_on(market, symbol), start, end, starts,
                                 engine.config.fill_on_touch)
    for order in hits:
        current = engine.registry.current(order)
        if not current.is_open:
            continue
        qty = current.remaining
        if cap is not None:  # no volume traded on this segment (e.g. a gap): nothing to take part in
            qty = min(qty, _floor(cap, engine.spec(market, symbol).step_size))
            if qty <= 0:
                continue
        engine.fill(current, current.price, qty, True, now, batch)


def _floor(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding="ROUND_FLOOR") * step if step > 0 else value

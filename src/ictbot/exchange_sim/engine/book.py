"""Synthetic order book around the last price: the liquidity the bot's taker orders walk through."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ictbot.domain.money import floor_to_step
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.symbols import SymbolSpec

ZERO = Decimal(0)
TEN_THOUSAND = Decimal(10000)


def _to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    if tick <= 0:
        return price
    return (price / tick).to_integral_value(rounding=rounding) * tick


def best_bid(spec: SymbolSpec, last: Decimal) -> Decimal:
    return _to_tick(last, spec.tick_size, ROUND_FLOOR)


def best_ask(spec: SymbolSpec, last: Decimal, config: MatchingConfig) -> Decimal:
    return best_bid(spec, last) + spec.tick_size * max(1, config.spread_ticks)


def is_marketable(spec: SymbolSpec, side: str, price: Decimal, last: Decimal, config: MatchingConfig) -> bool:
    """A limit at ``price`` would take liquidity: a BUY at or above the ask, a SELL at or below the bid."""
    if side == "BUY":
        return price >= best_ask(spec, last, config)
    return price <= best_bid(spec, last)


def level_qty(spec: SymbolSpec, price: Decimal, config: MatchingConfig) -> Decimal:
    qty = floor_to_step(config.level_notional / price, spec.step_size) if price > 0 else ZERO
    return qty if qty > 0 else spec.step_size


def levels(spec: SymbolSpec, last: Decimal, side: str, config: MatchingConfig) -> list[tuple[Decimal, Decimal]]:
    """Book levels a taker on ``side`` consumes: asks for a BUY, bids for a SELL (best first)."""
    gap = spec.tick_size * max(1, config.level_gap_ticks)
    rows: list[tuple[Decimal, Decimal]] = []
    if side == "BUY":
        start = best_ask(spec, last, config)
        for i in range(config.depth_levels):
            price = start + gap * i
            rows.append((price, level_qty(spec, price, config)))
    else:
        start = best_bid(spec, last)
        for i in range(config.depth_levels):
            price = start - gap * i
            if price <= 0:
                break
            rows.append((price, level_qty(spec, price, config)))
    return rows


def slipped(spec: SymbolSpec, price: Decimal, side: str, config: MatchingConfig) -> Decimal:
    """Apply the configured adverse slippage to a taker fill price, rounded to the tick away from us."""
    if config.slippage_bps <= 0:
        return price
    factor = config.slippage_bps / TEN_THOUSAND
    if side == "BUY":
        return _to_tick(price * (1 + factor), spec.tick_size, ROUND_CEILING)
    return _to_tick(price * (1 - factor), spec.tick_size, ROUND_FLOOR)


def walk(
    spec: SymbolSpec,
    last: Decimal,
    side: str,
    config: MatchingConfig,
    *,
    qty: Decimal | None = None,
    quote_budget: Decimal | None = None,
    limit_price: Decimal | None = None,
) -> list[tuple[Decimal, Decimal]]:
    """Fills (price, qty) for a taker order of ``qty`` base (or ``quote_budget`` quote) on ``side``.

    Stops at ``limit_price`` (BUY: levels ≤ it; SELL: levels ≥ it). Quantities respect LOT_SIZE.
    """
    fills: list[tuple[Decimal, Decimal]] = []
    left_qty = qty
    left_quote = quote_budget
    for level_price, available in levels(spec, last, side, config):
        if limit_price is not None and (
            (side == "BUY" and level_price > limit_price) or (side == "SELL" and level_price < limit_price)
        ):
            break
        price = slipped(spec, level_price, side, config)
        take = available
        if left_qty is not None:
            take = min(take, left_qty)
        if left_quote is not None:
            take = min(take, floor_to_step(left_quote / price, spec.step_size))
        if take <= 0:
            break
        fills.append((price, take))
        if left_qty is not None:
            left_qty -= take
            if left_qty <= 0:
                break
        if left_quote is not None:
            left_quote -= take * price
    return fills


def depth_snapshot(
    spec: SymbolSpec, last: Decimal, config: MatchingConfig, limit: int
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    count = min(limit, config.depth_levels)
    return levels(spec, last, "SELL", config)[:count], levels(spec, last, "BUY", config)[:count]

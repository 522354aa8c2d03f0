"""Tradable instruments and their exchange filters (vendor differences are data)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.domain.money import ZERO, ceil_to_step, floor_to_step, is_multiple, nearest_step


@dataclass(frozen=True, slots=True)
class Instrument:
    """Filters of one symbol as published by ``exchangeInfo`` (PRICE_FILTER, LOT_SIZE, ...).

    A zero bound means "no bound", as in Binance's filters. The USD-M contract fields
    (precisions, contract type, margin asset) stay at their defaults for spot symbols.
    ``ictbot.instruments`` is the one place that builds these from exchange data.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    market: Market = Market.SPOT
    tick_size: Decimal = ZERO
    min_price: Decimal = ZERO
    max_price: Decimal = ZERO
    step_size: Decimal = ZERO
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    market_step_size: Decimal = ZERO
    market_min_qty: Decimal = ZERO
    market_max_qty: Decimal = ZERO
    min_notional: Decimal = ZERO
    max_notional: Decimal = ZERO
    apply_min_to_market: bool = True
    bid_multiplier_up: Decimal = ZERO
    bid_multiplier_down: Decimal = ZERO
    ask_multiplier_up: Decimal = ZERO
    ask_multiplier_down: Decimal = ZERO
    status: str = "TRADING"
    order_types: tuple[str, ...] = ()
    oco_allowed: bool = True
    oto_allowed: bool = False
    price_precision: int | None = None
    quantity_precision: int | None = None
    contract_type: str = ""
    margin_asset: str = ""

    def round_price(self, price: Decimal) -> Decimal:
        return nearest_step(price, self.tick_size)

    def floor_price(self, price: Decimal) -> Decimal:
        return floor_to_step(price, self.tick_size)

    def ceil_price(self, price: Decimal) -> Decimal:
        return ceil_to_step(price, self.tick_size)

    def floor_qty(self, qty: Decimal, *, market_order: bool = False) -> Decimal:
        step = self.market_step_size if market_order and self.market_step_size > 0 else self.step_size
        return floor_to_step(qty, step)

    def price_problems(self, price: Decimal) -> list[str]:
        found: list[str] = []
        if price <= 0:
            found.append(f"price {price} must be positive")
            return found
        if self.min_price > 0 and price < self.min_price:
            found.append(f"price {price} below minPrice {self.min_price}")
        if self.max_price > 0 and price > self.max_price:
            found.append(f"price {price} above maxPrice {self.max_price}")
        if not is_multiple(price - self.min_price if self.min_price > 0 else price, self.tick_size):
            found.append(f"price {price} is not a multiple of tickSize {self.tick_size}")
        return found

    def qty_problems(self, qty: Decimal, *, market_order: bool = False) -> list[str]:
        found: list[str] = []
        step, low, high = self.step_size, self.min_qty, self.max_qty
        if market_order and self.market_step_size > 0:
            step = self.market_step_size
            low = self.market_min_qty or low
            high = self.market_max_qty or high
        if qty <= 0:
            return [f"quantity {qty} must be positive"]
        if low > 0 and qty < low:
            found.append(f"quantity {qty} below minQty {low}")
        if high > 0 and qty > high:
            found.append(f"quantity {qty} above maxQty {high}")
        if not is_multiple(qty - low if low > 0 else qty, step):
            found.append(f"quantity {qty} is not a multiple of stepSize {step}")
        return found

    def notional_problems(self, price: Decimal, qty: Decimal, *, market_order: bool = False) -> list[str]:
        notional = price * qty
        if market_order and not self.apply_min_to_market:
            return []
        found: list[str] = []
        if self.min_notional > 0 and notional < self.min_notional:
            found.append(f"notional {notional} below minNotional {self.min_notional}")
        if self.max_notional > 0 and notional > self.max_notional:
            found.append(f"notional {notional} above maxNotional {self.max_notional}")
        return found

    def order_problems(self, price: Decimal, qty: Decimal, *, market_order: bool = False) -> list[str]:
        """Every filter the order (at reference ``price``) breaks; empty when it is valid."""
        problems = [] if market_order else self.price_problems(price)
        return problems + self.qty_problems(qty, market_order=market_order) + self.notional_problems(
            price, qty, market_order=market_order
        )

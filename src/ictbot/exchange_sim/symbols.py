"""Symbol specifications (exchange filters) for the simulated spot and USD-M markets.

The templates copy the filter values of real ``exchangeInfo`` snapshots (spot 2021-10-12 and
USD-M 2021-07-21 / 2022-02-19 recordings in ``binance-fixtures``), modernised the way Part A6/A12
describes: spot uses ``NOTIONAL`` and ``PERCENT_PRICE_BY_SIDE`` (today's filters) instead of the
2021 ``MIN_NOTIONAL``/``PERCENT_PRICE``; USD-M drops ``MAX_NUM_ALGO_ORDERS`` (removed 2025-12-29).
Symbols without a template get filters derived from their price level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market, Symbol

D = Decimal


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str
    base: str
    quote: str
    market: Market
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step_size: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal = Decimal("9000000")
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False
    avg_price_mins: int = 5
    bid_multiplier_up: Decimal = Decimal("5")
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal("5")
    ask_multiplier_down: Decimal = Decimal("0.2")
    max_num_orders: int = 200
    max_num_algo_orders: int = 5
    status: str = "TRADING"
    price_precision: int = 2
    quantity_precision: int = 3

    @property
    def is_futures(self) -> bool:
        return self.market is Market.USDM

    def with_status(self, status: str) -> SymbolSpec:
        return replace(self, status=status)

    def to_instrument(self) -> Instrument:
        return Instrument(
            symbol=self.symbol, base_asset=self.base, quote_asset=self.quote, market=self.market,
            tick_size=self.tick_size, min_price=self.min_price, max_price=self.max_price,
            step_size=self.step_size, min_qty=self.min_qty, max_qty=self.max_qty,
            market_step_size=self.market_step_size, market_min_qty=self.market_min_qty,
            market_max_qty=self.market_max_qty, min_notional=self.min_notional,
            max_notional=self.max_notional if not self.is_futures else D(0),
            apply_min_to_market=self.apply_min_to_market,
            bid_multiplier_up=self.bid_multiplier_up, bid_multiplier_down=self.bid_multiplier_down,
            ask_multiplier_up=self.ask_multiplier_up, ask_multiplier_down=self.ask_multiplier_down,
            status=self.status, order_types=SPOT_ORDER_TYPES if not self.is_futures else FUTURES_ORDER_TYPES,
        )


SPOT_ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                    "TAKE_PROFIT_LIMIT")
FUTURES_ORDER_TYPES = ("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET")


def _spot(symbol: str, base: str, tick: str, min_price: str, max_price: str, step: str, min_qty: str,
          max_qty: str, market_max: str) -> SymbolSpec:
    return SymbolSpec(
        symbol=symbol, base=base, quote=symbol[len(base):], market=Market.SPOT, tick_size=D(tick),
        min_price=D(min_price), max_price=D(max_price), step_size=D(step), min_qty=D(min_qty),
        max_qty=D(max_qty), market_step_size=D(0), market_min_qty=D(0), market_max_qty=D(market_max),
        min_notional=D("5"),
    )


def _usdm(symbol: str, base: str, tick: str, min_price: str, max_price: str, step: str, min_qty: str,
          max_qty: str, market_max: str, price_precision: int, qty_precision: int) -> SymbolSpec:
    return SymbolSpec(
        symbol=symbol, base=base, quote=symbol[len(base):], market=Market.USDM, tick_size=D(tick),
        min_price=D(min_price), max_price=D(max_price), step_size=D(step), min_qty=D(min_qty),
        max_qty=D(max_qty), market_step_size=D(step), market_min_qty=D(min_qty), market_max_qty=D(market_max),
        min_notional=D("5"), bid_multiplier_up=D("1.1500"), bid_multiplier_down=D("0.8500"),
        ask_multiplier_up=D("1.1500"), ask_multiplier_down=D("0.8500"), price_precision=price_precision,
        quantity_precision=qty_precision,
    )


SPOT_TEMPLATES: dict[str, SymbolSpec] = {
    s.symbol: s
    for s in (
        _spot("BTCUSDT", "BTC", "0.01", "0.01", "1000000", "0.00001", "0.00001", "9000", "112.21108820"),
        _spot("ETHUSDT", "ETH", "0.01", "0.01", "1000000", "0.0001", "0.0001", "9000", "1600.51202668"),
        _spot("BNBUSDT", "BNB", "0.1", "0.1", "100000", "0.001", "0.001", "900000", "28160.59336900"),
        _spot("SOLUSDT", "SOL", "0.01", "0.01", "10000", "0.01", "0.01", "90000", "52005.81284920"),
        _spot("XRPUSDT", "XRP", "0.0001", "0.0001", "10000", "1", "1", "9222449", "9222449"),
    )
}

FUTURES_TEMPLATES: dict[str, SymbolSpec] = {
    s.symbol: s
    for s in (
        _usdm("BTCUSDT", "BTC", "0.01", "556.72", "1000000", "0.001", "0.001", "1000", "1000", 2, 3),
        _usdm("ETHUSDT", "ETH", "0.01", "39.86", "100000", "0.001", "0.001", "10000", "10000", 2, 3),
        _usdm("BNBUSDT", "BNB", "0.010", "6.600", "100000", "0.01", "0.01", "100000", "20000", 3, 2),
        _usdm("SOLUSDT", "SOL", "0.0010", "0.4130", "400", "1", "1", "10000000", "20000", 4, 0),
    )
}


def _power_of_ten(exponent: int) -> Decimal:
    return D(1).scaleb(exponent)


def derived_spec(symbol: str, market: Market, reference_price: Decimal) -> SymbolSpec:
    """Filters for a symbol without a template: tick ≈ price × 1e-6, step so that minQty ≈ 1 quote unit."""
    parsed = Symbol.parse(symbol)
    price = float(reference_price) if reference_price > 0 else 1.0
    magnitude = math.floor(math.log10(price))
    tick = _power_of_ten(max(-8, min(-2, magnitude - 5)))
    step = _power_of_ten(max(-8, min(0, -magnitude - 1)))
    return SymbolSpec(
        symbol=symbol, base=parsed.base, quote=parsed.quote, market=market, tick_size=tick, min_price=tick,
        max_price=D("1000000"), step_size=step, min_qty=step, max_qty=D("9000000"),
        market_step_size=step if market is Market.USDM else D(0),
        market_min_qty=step if market is Market.USDM else D(0), market_max_qty=D("1000000"),
        min_notional=D("5"), price_precision=max(0, -tick.as_tuple().exponent),  # type: ignore[operator]
        quantity_precision=max(0, -step.as_tuple().exponent),  # type: ignore[operator]
    )


def spec_for(symbol: str, market: Market, reference_price: Decimal) -> SymbolSpec:
    templates = SPOT_TEMPLATES if market is Market.SPOT else FUTURES_TEMPLATES
    return templates.get(symbol) or derived_spec(symbol, market, reference_price)

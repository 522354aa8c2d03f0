"""Trading fees: which rate applies to a fill and in which asset the commission is charged."""

from __future__ import annotations

from decimal import Decimal

from ictbot.domain.market import Market
from ictbot.exchange_sim.engine.config import MatchingConfig
from ictbot.exchange_sim.formatting import round_half_up
from ictbot.exchange_sim.symbols import SymbolSpec


def commission_rate(config: MatchingConfig, market: Market, is_maker: bool) -> Decimal:
    if market is Market.SPOT:
        return config.maker_commission if is_maker else config.taker_commission
    return config.futures_maker_commission if is_maker else config.futures_taker_commission


def commission(config: MatchingConfig, spec: SymbolSpec, side: str, qty: Decimal, price: Decimal,
               is_maker: bool) -> tuple[Decimal, str]:
    """The commission of one fill and its asset, rounded half-up to 8 decimals.

    A spot BUY pays in the base asset it receives; a spot SELL and every USD-M fill pay in the quote.
    """
    rate = commission_rate(config, spec.market, is_maker)
    if spec.market is Market.SPOT and side == "BUY":
        return round_half_up(qty * rate, 8), spec.base
    return round_half_up(price * qty * rate, 8), spec.quote

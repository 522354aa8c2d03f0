"""A simulator symbol specification built from a domain ``Instrument``.

When a caller already trades on an instrument (the backtest, whose fills and sizing use it), the
simulator must publish and enforce exactly those filters — not derive its own from a template or the
price level — or the two sides disagree on lot steps and notionals. ``spec_from_instrument`` is the
inverse of ``SymbolSpec.to_instrument``: ``spec_from_instrument(i).to_instrument()`` has ``i``'s filters.
"""

from __future__ import annotations

from ictbot.domain.instrument import Instrument
from ictbot.exchange_sim.symbols import SymbolSpec


def spec_from_instrument(instrument: Instrument) -> SymbolSpec:
    """The exchange filters of ``instrument``; a zero bound stays zero, which the engine treats as none."""
    return SymbolSpec(
        symbol=instrument.symbol, base=instrument.base_asset, quote=instrument.quote_asset,
        market=instrument.market, tick_size=instrument.tick_size, min_price=instrument.min_price,
        max_price=instrument.max_price, step_size=instrument.step_size, min_qty=instrument.min_qty,
        max_qty=instrument.max_qty, market_step_size=instrument.market_step_size,
        market_min_qty=instrument.market_min_qty, market_max_qty=instrument.market_max_qty,
        min_notional=instrument.min_notional, max_notional=instrument.max_notional,
        apply_min_to_market=instrument.apply_min_to_market,
        bid_multiplier_up=instrument.bid_multiplier_up, bid_multiplier_down=instrument.bid_multiplier_down,
        ask_multiplier_up=instrument.ask_multiplier_up, ask_multiplier_down=instrument.ask_multiplier_down,
        status=instrument.status,
    )

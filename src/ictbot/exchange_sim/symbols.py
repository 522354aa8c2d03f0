"""Symbol specifications (exchange filters) for the simulated spot and USD-M markets.

Every symbol's filters come from the instrument catalogue (``ictbot.instruments``: exchange →
database → the snapshot shipped in the package, spot 2021-10-12 and USD-M 2021-07-21), the same
rules the backtest, the paper venue and live trading use. The simulator publishes them with
today's filter semantics, as Part A6/A12 describes: spot uses ``NOTIONAL`` (maxNotional 9,000,000
when the source has none) and ``PERCENT_PRICE_BY_SIDE`` instead of the 2021 ``MIN_NOTIONAL`` /
``PERCENT_PRICE``; USD-M drops ``MAX_NUM_ALGO_ORDERS`` (removed 2025-12-29). A symbol the catalogue
does not know is refused with ``UnknownInstrumentError``, unless the caller explicitly asks for
filters derived from the price level (``derive_unknown=True``; ``ictbot sim --derive-filters``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market, Symbol
from ictbot.instruments import InstrumentCatalogue, UnknownInstrumentError, default_catalogue
from ictbot.instruments.catalogue import ResolvedInstrument, SourceKind

D = Decimal


DEFAULT_MAX_NOTIONAL = Decimal("9000000")  # NOTIONAL maxNotional as Binance publishes it for spot


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
    max_notional: Decimal = DEFAULT_MAX_NOTIONAL
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
    oto_allowed: bool = False  # exchangeInfo ``otoAllowed``: OTO / OTOCO order lists accepted

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
            oco_allowed=not self.is_futures, oto_allowed=self.oto_allowed and not self.is_futures,
            price_precision=self.price_precision if self.is_futures else None,
            quantity_precision=self.quantity_precision if self.is_futures else None,
            contract_type="PERPETUAL" if self.is_futures else "", margin_asset=self.quote if self.is_futures else "",
        )


SPOT_ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                    "TAKE_PROFIT_LIMIT")
FUTURES_ORDER_TYPES = ("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET")



def spec_from_instrument(instrument: Instrument) -> SymbolSpec:
    """The simulator's spec for a catalogue instrument (its filter values, unchanged)."""
    futures = instrument.market is Market.USDM
    return SymbolSpec(
        symbol=instrument.symbol, base=instrument.base_asset, quote=instrument.quote_asset, market=instrument.market,
        tick_size=instrument.tick_size, min_price=instrument.min_price, max_price=instrument.max_price,
        step_size=instrument.step_size, min_qty=instrument.min_qty, max_qty=instrument.max_qty,
        market_step_size=instrument.market_step_size, market_min_qty=instrument.market_min_qty,
        market_max_qty=instrument.market_max_qty, min_notional=instrument.min_notional,
        max_notional=instrument.max_notional or DEFAULT_MAX_NOTIONAL,
        apply_min_to_market=instrument.apply_min_to_market,
        bid_multiplier_up=instrument.bid_multiplier_up, bid_multiplier_down=instrument.bid_multiplier_down,
        ask_multiplier_up=instrument.ask_multiplier_up, ask_multiplier_down=instrument.ask_multiplier_down,
        status=instrument.status,
        price_precision=instrument.price_precision if futures and instrument.price_precision is not None else 2,
        quantity_precision=(instrument.quantity_precision
                            if futures and instrument.quantity_precision is not None else 3),
        oto_allowed=instrument.oto_allowed and not futures,
    )


# Binance added OTO / OTOCO order lists to the spot API in 2024: a snapshot read before cannot say
# whether a symbol takes them, and today every spot symbol that allows OCO does.
_OTO_KNOWN_SINCE = "2024-01-01"


def spec_from_resolved(found: ResolvedInstrument) -> SymbolSpec:
    """``spec_from_instrument`` with ``otoAllowed`` as the catalogue says it, or (a source older than
    OTO lists) as Binance publishes it today for a spot symbol that allows OCO."""
    spec = spec_from_instrument(found.instrument)
    instrument, source = found.instrument, found.source
    predates_oto = source.kind is SourceKind.SNAPSHOT and source.as_of < _OTO_KNOWN_SINCE
    if predates_oto and instrument.market is Market.SPOT and instrument.oco_allowed:
        return replace(spec, oto_allowed=True)
    return spec


DEMO_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT")  # the synthetic demo's markets


def _templates(market: Market, names: tuple[str, ...]) -> dict[str, SymbolSpec]:
    catalogue = default_catalogue()
    return {name: spec_from_resolved(catalogue.resolve(name, market)) for name in names}


SPOT_TEMPLATES: dict[str, SymbolSpec] = _templates(Market.SPOT, DEMO_SYMBOLS)
FUTURES_TEMPLATES: dict[str, SymbolSpec] = _templates(Market.USDM, DEMO_SYMBOLS[:4])


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
        oto_allowed=market is Market.SPOT,
    )


def spec_for(symbol: str, market: Market, reference_price: Decimal, *, derive_unknown: bool = False,
             catalogue: InstrumentCatalogue | None = None) -> SymbolSpec:
    """The catalogue's rules for ``symbol``; derived filters only when asked for (``derive_unknown``)."""
    book = catalogue or default_catalogue()
    found = book.find(symbol, market)
    if found is not None:
        return spec_from_resolved(found)
    if derive_unknown:
        return derived_spec(symbol, market, reference_price)
    raise UnknownInstrumentError(symbol, market, book.snapshot_as_of(market))


def contract_spec_for(symbol: str, reference_price: Decimal, *, derive_unknown: bool = False,
                      catalogue: InstrumentCatalogue | None = None) -> SymbolSpec | None:
    """The USD-M contract of a symbol whose spot rules are known: None when the catalogue lists no
    such contract (a spot-only pair, e.g. ETHBTC), as Binance's /fapi would not list it either."""
    book = catalogue or default_catalogue()
    if book.find(symbol, Market.USDM) is None and not derive_unknown:
        return None
    return spec_for(symbol, Market.USDM, reference_price, derive_unknown=derive_unknown, catalogue=book)


def source_of(symbol: str, market: Market, catalogue: InstrumentCatalogue | None = None) -> str:
    """Where ``symbol``'s filters come from, for the startup log ("snapshot of 2021-10-12 (...)")."""
    found = (catalogue or default_catalogue()).find(symbol, market)
    return found.source.describe() if found is not None else "derived from the price level (--derive-filters)"

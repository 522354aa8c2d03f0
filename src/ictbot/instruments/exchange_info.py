"""Binance ``exchangeInfo`` (spot ``/api/v3`` and USD-M ``/fapi/v1``) → ``Instrument``: the one parser.

The live adapter, the storage layer and the snapshot script all go through ``parse_symbol``, so a
filter is read the same way wherever the rules come from. Pure functions on plain JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ictbot.domain.errors import InputDataError
from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Market
from ictbot.domain.money import ZERO

Json = Mapping[str, Any]
Fields = dict[str, Any]


def _dec(filt: Json, name: str) -> Decimal:
    value = filt.get(name)
    if value in (None, ""):
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        reason = f"filter {filt.get('filterType')}.{name}: {value!r} is not a number"
        raise InputDataError("exchangeInfo", reason) from exc


def _price_filter(filt: Json) -> Fields:
    return {"min_price": _dec(filt, "minPrice"), "max_price": _dec(filt, "maxPrice"),
            "tick_size": _dec(filt, "tickSize")}


def _lot_size(filt: Json) -> Fields:
    return {"min_qty": _dec(filt, "minQty"), "max_qty": _dec(filt, "maxQty"), "step_size": _dec(filt, "stepSize")}


def _market_lot_size(filt: Json) -> Fields:
    return {"market_min_qty": _dec(filt, "minQty"), "market_max_qty": _dec(filt, "maxQty"),
            "market_step_size": _dec(filt, "stepSize")}


def _notional(filt: Json) -> Fields:
    return {"min_notional": _dec(filt, "minNotional"), "max_notional": _dec(filt, "maxNotional"),
            "apply_min_to_market": bool(filt.get("applyMinToMarket", True))}


def _min_notional(filt: Json) -> Fields:
    # Spot names the field minNotional (+ applyToMarket); USD-M names it notional.
    minimum = _dec(filt, "minNotional") or _dec(filt, "notional")
    return {"min_notional": minimum, "apply_min_to_market": bool(filt.get("applyToMarket", True))}


def _percent_price_by_side(filt: Json) -> Fields:
    return {"bid_multiplier_up": _dec(filt, "bidMultiplierUp"), "bid_multiplier_down": _dec(filt, "bidMultiplierDown"),
            "ask_multiplier_up": _dec(filt, "askMultiplierUp"), "ask_multiplier_down": _dec(filt, "askMultiplierDown")}


def _percent_price(filt: Json) -> Fields:
    up, down = _dec(filt, "multiplierUp"), _dec(filt, "multiplierDown")
    return {"bid_multiplier_up": up, "bid_multiplier_down": down, "ask_multiplier_up": up, "ask_multiplier_down": down}


_FILTERS: dict[str, Callable[[Json], Fields]] = {
    "PRICE_FILTER": _price_filter,
    "LOT_SIZE": _lot_size,
    "MARKET_LOT_SIZE": _market_lot_size,
    "NOTIONAL": _notional,
    "MIN_NOTIONAL": _min_notional,
    "PERCENT_PRICE_BY_SIDE": _percent_price_by_side,
    "PERCENT_PRICE": _percent_price,
}


def filter_fields(filters: list[Json]) -> Fields:
    """The Instrument fields the symbol's filters set. PERCENT_PRICE_BY_SIDE wins over PERCENT_PRICE."""
    fields: Fields = {}
    by_side = any(f.get("filterType") == "PERCENT_PRICE_BY_SIDE" for f in filters)
    for filt in filters:
        kind = str(filt.get("filterType"))
        if kind == "PERCENT_PRICE" and by_side:
            continue
        parse = _FILTERS.get(kind)
        if parse is not None:
            fields.update(parse(filt))
    return fields


def _contract_fields(raw: Json) -> Fields:
    fields: Fields = {}
    if raw.get("pricePrecision") is not None:
        fields["price_precision"] = int(raw["pricePrecision"])
    if raw.get("quantityPrecision") is not None:
        fields["quantity_precision"] = int(raw["quantityPrecision"])
    if raw.get("contractType"):
        fields["contract_type"] = str(raw["contractType"])
    if raw.get("marginAsset"):
        fields["margin_asset"] = str(raw["marginAsset"])
    return fields


def parse_symbol(raw: Json, market: Market = Market.SPOT) -> Instrument:
    """One entry of ``exchangeInfo.symbols``."""
    for name in ("symbol", "baseAsset", "quoteAsset"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise InputDataError("exchangeInfo", f"symbol {raw.get('symbol')!r}: field {name} is missing or empty")
    filters = raw.get("filters") or []
    if not isinstance(filters, list):
        raise InputDataError("exchangeInfo", f"symbol {raw['symbol']}: field filters is not a list")
    return Instrument(
        symbol=raw["symbol"], base_asset=raw["baseAsset"], quote_asset=raw["quoteAsset"], market=market,
        status=str(raw.get("status", "TRADING")), order_types=tuple(str(t) for t in raw.get("orderTypes") or ()),
        oco_allowed=bool(raw.get("ocoAllowed", False)), oto_allowed=bool(raw.get("otoAllowed", False)),
        **filter_fields(filters), **_contract_fields(raw),
    )


def parse_exchange_info(payload: Any, market: Market = Market.SPOT, *, trading_only: bool = False
                        ) -> dict[str, Instrument]:
    """Every symbol of an ``exchangeInfo`` payload (only the TRADING ones with ``trading_only``)."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("symbols"), list):
        raise InputDataError("exchangeInfo", "field symbols is missing or not a list")
    found: dict[str, Instrument] = {}
    for raw in payload["symbols"]:
        if not isinstance(raw, Mapping):
            raise InputDataError("exchangeInfo", "an entry of symbols is not an object")
        if trading_only and raw.get("status") != "TRADING":
            continue
        instrument = parse_symbol(raw, market)
        found[instrument.symbol] = instrument
    return found

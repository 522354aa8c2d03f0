"""Order validation in Binance's order (B7): shape, then filters, each with the real code and message."""

from __future__ import annotations

from decimal import Decimal

from ictbot.exchange_sim.engine.model import LIMIT_LIKE, STOP_TYPES, OrderRequest
from ictbot.exchange_sim.errors import SimError, filter_failure, mandatory
from ictbot.exchange_sim.symbols import SymbolSpec

ZERO = Decimal(0)
SPOT_TYPES = frozenset({"LIMIT", "MARKET", "LIMIT_MAKER", *STOP_TYPES})
FUTURES_TYPES = frozenset({"LIMIT", "MARKET"})
FUTURES_ALGO_TYPES = frozenset({"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"})
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK"})
FUTURES_TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK", "GTX"})
MAX_PLACES = 8


def _too_precise(name: str, value: Decimal | None) -> None:
    if value is not None and -value.as_tuple().exponent > MAX_PLACES:  # type: ignore[operator]
        raise SimError(-1111, f"Parameter '{name}' has too much precision.")


def check_shape(req: OrderRequest, *, futures: bool) -> None:
    """Mandatory parameters and combinations (-1102, -1106, -1114, -1115, -1116, -1117)."""
    if req.side not in ("BUY", "SELL"):
        raise SimError(-1117, "Invalid side.")
    allowed = FUTURES_TYPES if futures else SPOT_TYPES
    if futures and req.type in FUTURES_ALGO_TYPES:
        raise SimError(-4120, "Order type not supported for this endpoint. Please use the Algo Order API "
                              "endpoints instead.")
    if req.type not in allowed:
        raise SimError(-1116, "Invalid orderType.")
    tifs = FUTURES_TIME_IN_FORCE if futures else TIME_IN_FORCE
    needs_tif = req.type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    if needs_tif and req.time_in_force is None:
        raise mandatory("timeInForce")
    if req.time_in_force is not None:
        if req.time_in_force not in tifs:
            raise SimError(-1115, "Invalid timeInForce.")
        if not needs_tif and not futures:
            raise SimError(-1114, "TimeInForce parameter sent when not required.")
    if req.type in LIMIT_LIKE and req.price is None:
        raise mandatory("price")
    if req.type not in LIMIT_LIKE and req.price is not None and not futures:
        raise SimError(-1106, "Parameter 'price' sent when not required.")
    if req.type in STOP_TYPES and req.stop_price is None:
        raise mandatory("stopPrice")
    if req.type == "MARKET" and not futures:
        if req.quantity is None and req.quote_order_qty is None:
            raise SimError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
        if req.quantity is not None and req.quote_order_qty is not None:
            raise SimError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
    elif req.quantity is None:
        raise mandatory("quantity")
    for name, value in (("quantity", req.quantity), ("price", req.price), ("stopPrice", req.stop_price),
                        ("quoteOrderQty", req.quote_order_qty)):
        _too_precise(name, value)
        if value is not None and value <= 0:
            raise SimError(-1013, f"Invalid {name}.") if name != "quantity" else filter_failure("LOT_SIZE")


def _price_ok(spec: SymbolSpec, price: Decimal) -> bool:
    if spec.min_price > 0 and price < spec.min_price:
        return False
    if spec.max_price > 0 and price > spec.max_price:
        return False
    return spec.tick_size <= 0 or (price - spec.min_price) % spec.tick_size == 0


def _qty_ok(qty: Decimal, low: Decimal, high: Decimal, step: Decimal) -> bool:
    if low > 0 and qty < low:
        return False
    if high > 0 and qty > high:
        return False
    return step <= 0 or (qty - low) % step == 0


def check_filters(spec: SymbolSpec, req: OrderRequest, reference_price: Decimal) -> None:
    """PRICE_FILTER, PERCENT_PRICE(_BY_SIDE), LOT_SIZE / MARKET_LOT_SIZE, (MIN_)NOTIONAL — first failure wins."""
    percent_name = "PERCENT_PRICE" if spec.is_futures else "PERCENT_PRICE_BY_SIDE"
    for price in (req.price, req.stop_price):
        if price is not None and not _price_ok(spec, price):
            raise filter_failure("PRICE_FILTER")
    if req.price is not None and reference_price > 0:
        if req.side == "BUY":
            down, up = spec.bid_multiplier_down, spec.bid_multiplier_up
        else:
            down, up = spec.ask_multiplier_down, spec.ask_multiplier_up
        # A zero multiplier is no bound (a spec built from an Instrument without that filter).
        if req.price < reference_price * down or (up > 0 and req.price > reference_price * up):
            raise filter_failure(percent_name)
    is_market = req.type == "MARKET" or req.type in ("STOP_LOSS", "TAKE_PROFIT")
    if req.quantity is not None:
        if not _qty_ok(req.quantity, spec.min_qty, spec.max_qty, spec.step_size):
            raise filter_failure("LOT_SIZE")
        if is_market and not _qty_ok(req.quantity, spec.market_min_qty, spec.market_max_qty, spec.market_step_size):
            raise filter_failure("MARKET_LOT_SIZE")
    price = req.price if req.price is not None and not is_market else reference_price
    if req.quantity is not None:
        notional = price * req.quantity
    elif req.quote_order_qty is not None:
        notional = req.quote_order_qty
    else:
        return
    if spec.is_futures:
        if notional < spec.min_notional and not req.reduce_only:
            raise SimError(-4164, f"Order's notional must be no smaller than {spec.min_notional} "
                                  "(unless you choose reduce only).")
        return
    if (not is_market or spec.apply_min_to_market) and notional < spec.min_notional:
        raise filter_failure("NOTIONAL")
    if (not is_market or spec.apply_max_to_market) and spec.max_notional > 0 and notional > spec.max_notional:
        raise filter_failure("NOTIONAL")

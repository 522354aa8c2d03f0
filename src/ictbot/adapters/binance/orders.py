"""Domain ``Order`` → Binance request parameters (pure)."""

from __future__ import annotations

from decimal import Decimal

from ictbot.adapters.binance.signing import ParamValue
from ictbot.domain.errors import FinalError
from ictbot.domain.order import Order, OrderSide, OrderType, TimeInForce

SPOT_TYPES = frozenset(
    {
        OrderType.MARKET,
        OrderType.LIMIT,
        OrderType.LIMIT_MAKER,
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)
FUTURES_DIRECT_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT})
FUTURES_ALGO_TYPES = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})
_NEEDS_TIF = frozenset({OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
_NEEDS_PRICE = _NEEDS_TIF | {OrderType.LIMIT_MAKER}
_NEEDS_STOP = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.STOP_MARKET,
        OrderType.TAKE_PROFIT_MARKET,
    }
)


def dec(value: Decimal) -> str:
    """Plain notation, no exponent (Binance rejects ``1E-5`` with -1100)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _require(order: Order, value: Decimal | None, name: str) -> Decimal:
    if value is None:
        raise FinalError(f"order {order.client_order_id}: {order.type.value} needs {name}")
    return value


def spot_order_params(order: Order) -> dict[str, ParamValue]:
    if order.type not in SPOT_TYPES:
        raise FinalError(f"order type {order.type.value} is not available on spot")
    params: dict[str, ParamValue] = {
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": dec(order.quantity),
        "newClientOrderId": order.client_order_id,
        "newOrderRespType": "FULL",
    }
    if order.type in _NEEDS_TIF:
        params["timeInForce"] = (order.time_in_force or TimeInForce.GTC).value
    if order.type in _NEEDS_PRICE:
        params["price"] = dec(_require(order, order.price, "a price"))
    if order.type in _NEEDS_STOP:
        params["stopPrice"] = dec(_require(order, order.stop_price, "a stop price"))
    return params


def oco_params(stop: Order, target: Order, list_client_id: str) -> dict[str, ParamValue]:
    """``POST /api/v3/orderList/oco``: the leg priced above the market is ``above*``.

    A SELL exit has its target above and its stop below; a BUY exit the reverse. A plain LIMIT
    target above becomes ``LIMIT_MAKER``; below the market (BUY) Binance does not allow LIMIT_MAKER,
    so it becomes ``TAKE_PROFIT_LIMIT`` triggered at its own price.
    """
    if stop.side is not target.side or stop.quantity != target.quantity or stop.symbol != target.symbol:
        raise FinalError("OCO legs must share symbol, side and quantity")
    above, below = (target, stop) if stop.side is OrderSide.SELL else (stop, target)
    params: dict[str, ParamValue] = {
        "symbol": stop.symbol,
        "side": stop.side.value,
        "quantity": dec(stop.quantity),
        "listClientOrderId": list_client_id,
        "newOrderRespType": "FULL",
    }
    for prefix, leg in (("above", above), ("below", below)):
        params.update(_oco_leg(prefix, leg, is_target=leg is target, is_above=leg is above))
    return params


OTO_WORKING_TYPES = frozenset({OrderType.LIMIT, OrderType.LIMIT_MAKER})


def otoco_params(entry: Order, stop: Order, target: Order, list_client_id: str) -> dict[str, ParamValue]:
    """``POST /api/v3/orderList/otoco``: ``entry`` is the working order (LIMIT or LIMIT_MAKER, the only
    types Binance takes there); the exchange places the OCO of ``stop`` and ``target`` (the
    ``pendingAbove*`` / ``pendingBelow*`` legs, OCO rules) once the working order is fully filled."""
    if entry.type not in OTO_WORKING_TYPES:
        raise FinalError(f"order {entry.client_order_id}: {entry.type.value} cannot be an OTOCO working order")
    if stop.side is not target.side or stop.quantity != target.quantity or stop.side is entry.side:
        raise FinalError("OTOCO pending legs must share side and quantity, opposite to the working order")
    if not stop.symbol == target.symbol == entry.symbol:
        raise FinalError("OTOCO orders must share the symbol")
    above, below = (target, stop) if stop.side is OrderSide.SELL else (stop, target)
    params: dict[str, ParamValue] = {
        "symbol": entry.symbol,
        "listClientOrderId": list_client_id,
        "newOrderRespType": "FULL",
        "workingType": entry.type.value,
        "workingSide": entry.side.value,
        "workingClientOrderId": entry.client_order_id,
        "workingPrice": dec(_require(entry, entry.price, "a price")),
        "workingQuantity": dec(entry.quantity),
        "pendingSide": stop.side.value,
        "pendingQuantity": dec(stop.quantity),
    }
    if entry.type is OrderType.LIMIT:
        params["workingTimeInForce"] = (entry.time_in_force or TimeInForce.GTC).value
    for prefix, leg in (("pendingAbove", above), ("pendingBelow", below)):
        params.update(_oco_leg(prefix, leg, is_target=leg is target, is_above=leg is above))
    return params


def _oco_leg(prefix: str, leg: Order, *, is_target: bool, is_above: bool) -> dict[str, ParamValue]:
    kind = leg.type
    if is_target and kind in (OrderType.LIMIT, OrderType.LIMIT_MAKER):
        kind = OrderType.LIMIT_MAKER if is_above else OrderType.TAKE_PROFIT_LIMIT
    out: dict[str, ParamValue] = {f"{prefix}Type": kind.value, f"{prefix}ClientOrderId": leg.client_order_id}
    if kind in _NEEDS_PRICE:
        out[f"{prefix}Price"] = dec(_require(leg, leg.price, "a price"))
    if kind in _NEEDS_STOP:
        out[f"{prefix}StopPrice"] = dec(
            leg.stop_price if leg.stop_price is not None else _require(leg, leg.price, "a stop price")
        )
    if kind in _NEEDS_TIF:
        out[f"{prefix}TimeInForce"] = (leg.time_in_force or TimeInForce.GTC).value
    return out


def futures_order_params(order: Order) -> dict[str, ParamValue]:
    if order.type not in FUTURES_DIRECT_TYPES:
        raise FinalError(f"order type {order.type.value} must go through the algo order endpoint")
    params: dict[str, ParamValue] = {
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": dec(order.quantity),
        "newClientOrderId": order.client_order_id,
        "newOrderRespType": "RESULT",
    }
    if order.type is OrderType.LIMIT:
        params["timeInForce"] = (order.time_in_force or TimeInForce.GTC).value
        params["price"] = dec(_require(order, order.price, "a price"))
    if order.reduce_only:
        params["reduceOnly"] = "true"
    return params


def futures_algo_params(order: Order, working_type: str = "MARK_PRICE") -> dict[str, ParamValue]:
    """STOP_MARKET / TAKE_PROFIT_MARKET via ``POST /fapi/v1/algoOrder`` (required since 2025-12-09)."""
    if order.type not in FUTURES_ALGO_TYPES:
        raise FinalError(f"order type {order.type.value} is not a futures conditional order")
    params: dict[str, ParamValue] = {
        "algoType": "CONDITIONAL",
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": dec(order.quantity),
        "triggerPrice": dec(_require(order, order.stop_price, "a trigger price")),
        "workingType": working_type,
        "clientAlgoId": order.client_order_id,
    }
    if order.reduce_only:
        params["reduceOnly"] = "true"
    return params

"""Domain orders → Binance request parameters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.adapters.binance.orders import (
    dec,
    futures_algo_params,
    futures_order_params,
    oco_params,
    spot_order_params,
)
from ictbot.domain.errors import FinalError
from ictbot.domain.market import Market
from ictbot.domain.order import Order, OrderSide, OrderType, TimeInForce


def order(kind: OrderType, side: OrderSide = OrderSide.BUY, **kw: object) -> Order:
    base: dict[str, object] = {
        "client_order_id": f"ict-{kind.value}",
        "symbol": "BTCUSDT",
        "side": side,
        "type": kind,
        "quantity": Decimal("0.00100000"),
        "created_at": 0,
    }
    base.update(kw)
    return Order(**base)  # type: ignore[arg-type]


def test_decimal_formatting_never_uses_exponents() -> None:
    assert dec(Decimal("1E-5")) == "0.00001"
    assert dec(Decimal("0.00100000")) == "0.001"
    assert dec(Decimal("100")) == "100" and dec(Decimal("1E+2")) == "100"


def test_market_order() -> None:
    params = spot_order_params(order(OrderType.MARKET))
    assert params == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.001",
        "newClientOrderId": "ict-MARKET",
        "newOrderRespType": "FULL",
    }


@pytest.mark.parametrize("tif", [TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK])
def test_limit_order_time_in_force(tif: TimeInForce) -> None:
    params = spot_order_params(order(OrderType.LIMIT, price=Decimal("60000.10"), time_in_force=tif))
    assert params["timeInForce"] == tif.value and params["price"] == "60000.1"


def test_limit_maker_has_no_time_in_force() -> None:
    params = spot_order_params(order(OrderType.LIMIT_MAKER, price=Decimal("1")))
    assert "timeInForce" not in params and params["price"] == "1"


@pytest.mark.parametrize("kind", [OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT])
def test_stop_limit_orders(kind: OrderType) -> None:
    params = spot_order_params(order(kind, side=OrderSide.SELL, price=Decimal("99"), stop_price=Decimal("100")))
    assert (params["stopPrice"], params["price"], params["timeInForce"]) == ("100", "99", "GTC")


def test_missing_price_is_refused_before_sending() -> None:
    with pytest.raises(FinalError, match="needs a price"):
        spot_order_params(order(OrderType.LIMIT))
    with pytest.raises(FinalError):
        spot_order_params(order(OrderType.STOP_MARKET, stop_price=Decimal("1")))


def test_oco_sell_exit_target_above_stop_below() -> None:
    stop = order(
        OrderType.STOP_LOSS_LIMIT, OrderSide.SELL, client_order_id="s1", price=Decimal("89"), stop_price=Decimal("90")
    )
    target = order(OrderType.LIMIT, OrderSide.SELL, client_order_id="t1", price=Decimal("120"))
    params = oco_params(stop, target, "list1")
    assert params["aboveType"] == "LIMIT_MAKER" and params["abovePrice"] == "120"
    assert params["aboveClientOrderId"] == "t1" and "aboveTimeInForce" not in params
    assert params["belowType"] == "STOP_LOSS_LIMIT" and params["belowStopPrice"] == "90"
    assert params["belowPrice"] == "89" and params["belowTimeInForce"] == "GTC"
    assert params["listClientOrderId"] == "list1" and params["side"] == "SELL"


def test_oco_buy_exit_target_below_becomes_take_profit_limit() -> None:
    stop = order(OrderType.STOP_LOSS, OrderSide.BUY, client_order_id="s1", stop_price=Decimal("110"))
    target = order(OrderType.LIMIT, OrderSide.BUY, client_order_id="t1", price=Decimal("80"))
    params = oco_params(stop, target, "list2")
    assert params["aboveType"] == "STOP_LOSS" and params["aboveStopPrice"] == "110"
    assert params["belowType"] == "TAKE_PROFIT_LIMIT" and params["belowStopPrice"] == "80"
    assert params["belowPrice"] == "80"


def test_oco_legs_must_match() -> None:
    stop = order(OrderType.STOP_LOSS, OrderSide.SELL, stop_price=Decimal("1"))
    target = order(OrderType.LIMIT, OrderSide.SELL, price=Decimal("2"), quantity=Decimal("5"))
    with pytest.raises(FinalError):
        oco_params(stop, target, "x")


def test_futures_orders() -> None:
    params = futures_order_params(order(OrderType.LIMIT, price=Decimal("10"), reduce_only=True, market=Market.USDM))
    assert params["reduceOnly"] == "true" and params["timeInForce"] == "GTC"
    algo = futures_algo_params(
        order(OrderType.STOP_MARKET, OrderSide.SELL, stop_price=Decimal("95.5"), reduce_only=True)
    )
    assert algo["algoType"] == "CONDITIONAL" and algo["triggerPrice"] == "95.5"
    assert algo["clientAlgoId"] == "ict-STOP_MARKET" and algo["workingType"] == "MARK_PRICE"
    with pytest.raises(FinalError):
        futures_order_params(order(OrderType.STOP_MARKET, stop_price=Decimal("1")))

"""Order validation: Binance's codes and messages, in Binance's order of checks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from ictbot.exchange_sim.engine.model import OrderRequest
from ictbot.exchange_sim.engine.validation import check_filters, check_shape
from ictbot.exchange_sim.errors import SimError
from ictbot.exchange_sim.formatting import fixed, parse_decimal_param, plain
from ictbot.exchange_sim.symbols import FUTURES_TEMPLATES, SPOT_TEMPLATES

BTC = SPOT_TEMPLATES["BTCUSDT"]


def limit(price: str, qty: str, side: str = "BUY") -> OrderRequest:
    return OrderRequest("BTCUSDT", side, "LIMIT", quantity=D(qty), price=D(price), time_in_force="GTC")


@pytest.mark.parametrize(("price", "qty", "name"), [
    ("50000.001", "0.01", "PRICE_FILTER"),  # off the tick
    ("500000.00", "0.01", "PERCENT_PRICE_BY_SIDE"),  # 10× the reference price
    ("50000.00", "0.000015", "LOT_SIZE"),  # off the step
    ("50000.00", "10000", "LOT_SIZE"),  # above maxQty
    ("50000.00", "0.00001", "NOTIONAL"),  # 0.5 USDT < minNotional 10 (catalogue)
])
def test_filter_failures_name_the_filter(price: str, qty: str, name: str) -> None:
    with pytest.raises(SimError) as caught:
        check_filters(BTC, limit(price, qty), D("50000"))
    assert (caught.value.code, caught.value.msg, caught.value.http_status) == (-1013, f"Filter failure: {name}", 400)


def test_market_lot_size_applies_to_market_orders() -> None:
    with pytest.raises(SimError) as caught:
        check_filters(BTC, OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("200")), D("50000"))
    assert caught.value.msg == "Filter failure: MARKET_LOT_SIZE"


def test_futures_min_notional_is_waived_for_reduce_only() -> None:
    spec = FUTURES_TEMPLATES["BTCUSDT"]
    small = OrderRequest("BTCUSDT", "SELL", "MARKET", quantity=D("0.001"))
    with pytest.raises(SimError) as caught:
        check_filters(spec, small, D("1000"))
    assert caught.value.code == -4164
    check_filters(spec, OrderRequest("BTCUSDT", "SELL", "MARKET", quantity=D("0.001"), reduce_only=True), D("1000"))


@pytest.mark.parametrize(("request_", "code"), [
    (OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("1"), price=D("1")), -1102),  # no timeInForce
    (OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("1"), time_in_force="GTC"), -1102),  # no price
    (OrderRequest("BTCUSDT", "UP", "MARKET", quantity=D("1")), -1117),
    (OrderRequest("BTCUSDT", "BUY", "ICEBERG", quantity=D("1")), -1116),
    (OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("1"), time_in_force="GTC"), -1114),
    (OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("1"), price=D("1"), time_in_force="GTD"), -1115),
    (OrderRequest("BTCUSDT", "BUY", "MARKET"), -1102),
    (OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("0.000000001")), -1111),
])
def test_shape_errors(request_: OrderRequest, code: int) -> None:
    with pytest.raises(SimError) as caught:
        check_shape(request_, futures=False)
    assert caught.value.code == code


def test_futures_conditional_types_belong_to_the_algo_endpoint() -> None:
    with pytest.raises(SimError) as caught:
        check_shape(OrderRequest("BTCUSDT", "SELL", "STOP_MARKET", quantity=D("1")), futures=True)
    assert caught.value.code == -4120


def test_exponent_notation_is_rejected_like_binance() -> None:
    with pytest.raises(SimError) as caught:
        parse_decimal_param("quantity", "1e-05")
    assert caught.value.code == -1100
    assert caught.value.msg == ("Illegal characters found in parameter 'quantity'; legal range is "
                                "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
    assert parse_decimal_param("quantity", "0.00001000") == D("0.00001")


def test_number_formatting() -> None:
    assert fixed(D("0.001")) == "0.00100000"
    assert fixed(D("63200.0303")) == "63200.03030000"
    assert plain(D("85.6700")) == "85.67" and plain(D("0")) == "0" and plain(D("1E+2")) == "100"

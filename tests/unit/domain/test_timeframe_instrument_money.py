from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Symbol
from ictbot.domain.money import ceil_to_step, floor_to_step, nearest_step
from ictbot.domain.timeframe import Timeframe

D = Decimal


def test_timeframe_floor_is_left_labelled_utc() -> None:
    t = 1_704_283_500_000  # 2024-01-03 12:05 UTC
    assert Timeframe.M5.floor(t) == t
    assert Timeframe.H1.floor(t) == 1_704_283_200_000
    assert Timeframe.D1.floor(t) == 1_704_240_000_000
    assert Timeframe.W1.floor(t) == 1_704_067_200_000  # Monday 2024-01-01 00:00 UTC


def test_timeframe_parse_names_the_allowed_values() -> None:
    assert Timeframe.parse("4h") is Timeframe.H4
    with pytest.raises(ValueError, match="1m"):
        Timeframe.parse("7m")


def test_step_rounding() -> None:
    assert floor_to_step(D("0.123456"), D("0.001")) == D("0.123")
    assert ceil_to_step(D("0.123456"), D("0.001")) == D("0.124")
    assert nearest_step(D("100.005"), D("0.01")) == D("100.00")
    assert floor_to_step(D("17"), D("5")) == D("15")


def test_instrument_filters_name_every_problem() -> None:
    inst = Instrument("BTCUSDT", "BTC", "USDT", tick_size=D("0.01"), min_price=D("0.01"), step_size=D("0.00001"),
                      min_qty=D("0.00001"), min_notional=D("5"))
    assert inst.order_problems(D("30000.00"), D("0.001")) == []
    problems = inst.order_problems(D("30000.005"), D("0.0000001"))
    assert any("tickSize" in p for p in problems)
    assert any("minQty" in p for p in problems)
    assert any("minNotional" in p for p in problems)


def test_symbol_parse() -> None:
    assert Symbol.parse("BTCUSDT") == Symbol("BTC", "USDT")
    assert Symbol.parse("eth/usdt") == Symbol("ETH", "USDT")
    assert str(Symbol.parse("ADA_BTC")) == "ADABTC"
    with pytest.raises(ValueError):
        Symbol.parse("XYZ")

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from ictbot.domain.instrument import Instrument
from ictbot.domain.market import Symbol
from ictbot.domain.money import ceil_to_step, floor_to_step, nearest_step
from ictbot.domain.timeframe import Timeframe, bucket_open_time

D = Decimal


def test_timeframe_floor_is_left_labelled_utc() -> None:
    t = 1_704_283_500_000  # 2024-01-03 12:05 UTC
    assert Timeframe.M5.floor(t) == t
    assert Timeframe.H1.floor(t) == 1_704_283_200_000
    assert Timeframe.D1.floor(t) == 1_704_240_000_000
    assert Timeframe.W1.floor(t) == 1_704_067_200_000  # Monday 2024-01-01 00:00 UTC


def test_one_bucketing_rule_for_a_time_and_a_column_weeks_from_monday() -> None:
    times = [0, 1, 299_999, 1_704_283_500_000, 1_704_067_199_999, 1_704_067_200_000, 1_704_671_999_999]
    column = np.array(times, dtype=np.int64)
    for tf in Timeframe:
        expected = [bucket_open_time(t, tf.ms, tf.origin_ms) for t in times]
        assert expected == [tf.floor(t) for t in times]
        assert bucket_open_time(column, tf.ms, tf.origin_ms).tolist() == expected
    week = Timeframe.W1
    assert [bucket_open_time(t, week.ms, week.origin_ms) for t in times[4:]] == [
        1_703_462_400_000, 1_704_067_200_000, 1_704_067_200_000]  # Mondays 2023-12-25 and 2024-01-01


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

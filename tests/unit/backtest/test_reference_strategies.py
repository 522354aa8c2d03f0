"""S1/S2: the vectorised fast path takes exactly the trades of the plain per-candle path."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from ictbot.backtest.fills import dec
from ictbot.backtest.reference import S1EmaCross, _StreamingEma, ema
from ictbot.backtest.run import BacktestSpec, build_strategy, run_backtest
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

MONTH = DATA / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"


def _spec(strategy: str, **params: object) -> BacktestSpec:
    require_shared(MONTH)
    return BacktestSpec((str(MONTH),), ("BTCUSDT",), Timeframe.M5, strategy, params=params)


def test_streaming_ema_equals_the_vectorised_one() -> None:
    values = np.random.default_rng(7).normal(100, 5, 500)
    batch = ema(values, 20)
    stream = _StreamingEma(20)
    streamed = [stream.update(float(v)) for v in values]
    assert all(math.isnan(streamed[i]) and math.isnan(batch[i]) for i in range(19))
    assert streamed[19:] == batch[19:].tolist()  # bit-identical, not approximately


@pytest.mark.parametrize("strategy", ["s1_ema_cross", "s2_fvg"])
def test_fast_path_equals_per_candle_path(strategy: str) -> None:
    spec = _spec(strategy)
    fast = run_backtest(spec)
    slow = run_backtest(replace(spec, per_candle=True))
    assert len(fast.trades) > 50
    assert fast.fingerprint == slow.fingerprint
    assert [t.canonical() for t in fast.trades] == [t.canonical() for t in slow.trades]


def test_reference_strategies_are_registered_like_any_strategy() -> None:
    strategy = build_strategy(_spec("s1_ema_cross", fast=10, slow=30))
    assert isinstance(strategy, S1EmaCross)
    assert strategy.config.fast == 10 and strategy.config.slow == 30


def test_s1_exits_only_on_crossings_and_s2_only_on_stop_or_target() -> None:
    s1 = run_backtest(_spec("s1_ema_cross"))
    s2 = run_backtest(_spec("s2_fvg"))
    assert {t.exit_reason for t in s1.trades} <= {"signal", "end_of_data"}
    assert {t.exit_reason for t in s2.trades} <= {"stop", "target", "end_of_data"}
    frame = s2.data[0].frame
    for trade in s2.trades:  # stop at low[i-2], target 2R from the deciding close, gap low[i] > high[i-2]
        i = int(np.searchsorted(frame.open_time, trade.signal_time - Timeframe.M5.ms))
        low2, close = dec(frame.low[i - 2]), dec(frame.close[i])
        assert frame.low[i] > frame.high[i - 2]
        assert trade.stop_loss == low2
        assert trade.take_profit == close + 2 * (close - low2)
        assert trade.entry_index == i + 1

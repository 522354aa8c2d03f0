"""Aggregated candles equal Binance's own higher-timeframe candles (real data, exact equality)."""

from __future__ import annotations

import numpy as np
import pytest

from ictbot.adapters.files import read_candle_file
from ictbot.candles.aggregate import aggregate, aggregate_detailed
from ictbot.candles.streaming import DEFAULT_TARGETS, StreamingAggregator
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

HARTHOR = DATA / "feather" / "harthor_marketlab"
FILIMONOV = DATA / "feather" / "filimonov_freqtrade"
COLUMNS = ("open_time", "open", "high", "low", "close", "volume")


def overlap(a: CandleFrame, b: CandleFrame) -> tuple[CandleFrame, CandleFrame]:
    lo = max(int(a.open_time[0]), int(b.open_time[0]))
    hi = min(int(a.open_time[-1]), int(b.open_time[-1])) + 1
    return a.between(lo, hi), b.between(lo, hi)


def assert_frames_equal(a: CandleFrame, b: CandleFrame) -> None:
    assert len(a) == len(b) > 0
    for name in COLUMNS:
        differing = np.flatnonzero(getattr(a, name) != getattr(b, name))
        assert differing.size == 0, f"{name} differs at open time {int(a.open_time[differing[0]])}"


@pytest.mark.parametrize(
    ("pair", "target", "min_rows"),
    [
        ("BTC_USDT", Timeframe.M15, 38_000),
        ("BTC_USDT", Timeframe.H1, 9_900),
        ("BTC_USDT", Timeframe.H4, 2_400),
        ("BTC_USDT", Timeframe.D1, 390),
        ("ETH_USDT", Timeframe.H4, 2_400),
        ("ETH_USDT", Timeframe.D1, 390),
    ],
)
def test_5m_aggregates_equal_native_candles(pair: str, target: Timeframe, min_rows: int) -> None:
    five = read_candle_file(require_shared(HARTHOR / f"{pair}-5m.feather"))
    native = read_candle_file(HARTHOR / f"{pair}-{target.value}.feather")
    result = aggregate_detailed(five, Timeframe.M5, target)
    assert bool(np.all(result.complete))  # the 5m set has no gaps
    ours, theirs = overlap(result.frame, native)
    assert len(ours) >= min_rows
    assert_frames_equal(ours, theirs)


def test_1m_to_5m_equals_native_5m() -> None:
    one = read_candle_file(require_shared(FILIMONOV / "BTC_USDT-1m.feather"))
    five = read_candle_file(require_shared(HARTHOR / "BTC_USDT-5m.feather"))
    ours, theirs = overlap(aggregate(one, Timeframe.M1, Timeframe.M5), five)
    assert len(ours) == 26_141
    assert_frames_equal(ours, theirs)
    # The 1m file ends at 18:27 inside the 18:25 bucket: that bucket is still open, so not produced.
    assert (
        int(aggregate(one, Timeframe.M1, Timeframe.M5).open_time[-1]) + Timeframe.M5.ms
        <= int(one.open_time[-1]) + Timeframe.M1.ms
    )


def test_streaming_equals_vectorised_on_real_1m_candles() -> None:
    one = read_candle_file(require_shared(FILIMONOV / "BTC_USDT-1m.feather")).slice(0, 3 * 1440 + 500)
    emitted = StreamingAggregator(Timeframe.M1, DEFAULT_TARGETS).add_many(one.to_candles("BTCUSDT", Timeframe.M1))
    for tf in DEFAULT_TARGETS:
        streamed = [e.candle for e in emitted if e.candle.timeframe is tf]
        batch = aggregate(one, Timeframe.M1, tf)
        as_frame = CandleFrame.from_candles(streamed)
        assert_frames_equal(as_frame, batch)

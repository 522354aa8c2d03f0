from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ictbot.candles.aggregate import aggregate_detailed
from ictbot.candles.streaming import DEFAULT_TARGETS, StreamingAggregator
from ictbot.domain.timeframe import Timeframe
from tests.unit.candles.builders import DAY0, candle, random_frame

M1, M5, M15 = Timeframe.M1, Timeframe.M5, Timeframe.M15


def test_emits_when_the_closing_base_candle_arrives() -> None:
    agg = StreamingAggregator(M1, [M5, M15])
    out = [agg.add(candle(i, h=str(12 + i), v="0.1")) for i in range(15)]
    assert [len(o) for o in out] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2]
    first = out[4][0]
    assert first.complete and first.candle.timeframe is M5 and first.candle.open_time == DAY0
    assert str(first.candle.volume) == "0.5" and first.candle.high == 16 and first.candle.trades == 5
    assert first.candle.quote_volume == 5
    assert [o.candle.timeframe for o in out[14]] == [M5, M15]  # smaller timeframe first
    assert out[14][1].candle.open_time == DAY0 and out[14][1].base_count == 15


def test_gap_closed_buckets_come_first_and_are_flagged() -> None:
    agg = StreamingAggregator(M1, [M5, M15])
    agg.add_many([candle(i) for i in range(4)])  # 00:04 never arrives
    out = agg.add(candle(9))  # ends the 00:05 bucket, which holds only this candle
    assert [(o.candle.timeframe, o.candle.open_time, o.complete) for o in out] == [
        (M5, DAY0, False), (M5, DAY0 + 300_000, False)
    ]
    assert out[0].base_count == 4 and out[1].base_count == 1
    pending = agg.pending(agg.key(candle(0)))
    assert list(pending) == [M15] and pending[M15].closed is False


def test_rejects_wrong_timeframe_out_of_order_and_open_candles() -> None:
    agg = StreamingAggregator(M1, [M5])
    agg.add(candle(3))
    with pytest.raises(ValueError, match="not after"):
        agg.add(candle(3))
    with pytest.raises(ValueError, match="got a 5m"):
        agg.add(candle(0, tf=M5))
    with pytest.raises(ValueError, match="closed"):
        agg.add(replace(candle(4), closed=False))
    with pytest.raises(ValueError, match="multiple"):
        StreamingAggregator(M5, [Timeframe.M3])


def test_symbols_are_independent() -> None:
    agg = StreamingAggregator(M1, [M5])
    eth = [agg.add(candle(i, symbol="ETHUSDT", c="10.5")) for i in range(5)]
    btc = [agg.add(candle(i)) for i in range(4)]
    assert btc == [[], [], [], []]
    assert eth[4][0].candle.symbol == "ETHUSDT" and eth[4][0].candle.close == 10.5
    (closed,) = agg.add(candle(4))
    assert closed.candle.symbol == "BTCUSDT" and closed.complete and closed.candle.close == 11


@pytest.mark.parametrize("drop", [0.0, 0.05])
def test_streaming_equals_vectorised(drop: float) -> None:
    frame = random_frame(2 * 1440 + 77, start=DAY0 - 13 * 60_000, seed=7, drop=drop)
    agg = StreamingAggregator(M1, DEFAULT_TARGETS)
    emitted = agg.add_many(frame.to_candles("BTCUSDT", M1))
    for tf in DEFAULT_TARGETS:
        streamed = [e for e in emitted if e.candle.timeframe is tf]
        batch = aggregate_detailed(frame, M1, tf)
        assert [e.candle.open_time for e in streamed] == batch.frame.open_time.tolist(), tf
        assert [e.base_count for e in streamed] == batch.base_counts.tolist(), tf
        for name in ("open", "high", "low", "close", "volume"):
            values = np.array([float(getattr(e.candle, name)) for e in streamed])
            assert np.array_equal(values, getattr(batch.frame, name)), (tf, name)

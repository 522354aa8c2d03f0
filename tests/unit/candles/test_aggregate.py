from __future__ import annotations

import numpy as np
import pytest

from ictbot.candles.aggregate import aggregate, aggregate_detailed, bucket_open_times
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.timeframe import Timeframe
from tests.unit.candles.builders import DAY0, random_frame

M1, M5 = Timeframe.M1, Timeframe.M5


def frame(times: list[int], volumes: list[float] | None = None) -> CandleFrame:
    n = len(times)
    t = DAY0 + np.array(times, dtype=np.int64) * 60_000
    o = np.arange(1, n + 1, dtype=np.float64) * 10
    v = np.array(volumes if volumes is not None else [1.0] * n, dtype=np.float64)
    return CandleFrame(t, o, o + 5, o - 5, o + 1, v)


def test_buckets_are_left_closed_left_labelled() -> None:
    out = aggregate(frame(list(range(10))), M1, M5)
    assert out.open_time.tolist() == [DAY0, DAY0 + 300_000]
    assert out.open.tolist() == [10.0, 60.0]
    assert out.close.tolist() == [51.0, 101.0]
    assert out.high.tolist() == [55.0, 105.0]
    assert out.low.tolist() == [5.0, 55.0]
    assert out.volume.tolist() == [5.0, 5.0]


def test_trailing_bucket_still_open_is_left_out() -> None:
    out = aggregate(frame(list(range(9))), M1, M5)  # 00:05 bucket lacks its 00:09 candle
    assert out.open_time.tolist() == [DAY0]


def test_gaps_are_flagged_not_hidden() -> None:
    result = aggregate_detailed(frame([0, 1, 2, 4, 5, 6, 7, 8, 9, 17]), M1, M5)
    # 00:00 misses 00:03; 00:05 is full; 00:15 is still open (ends at 00:20, input ends 00:18).
    assert result.frame.open_time.tolist() == [DAY0, DAY0 + 300_000]
    assert result.base_counts.tolist() == [4, 5]
    assert result.complete.tolist() == [False, True]
    # A bucket whose last candle is missing is closed by a later candle: produced, flagged.
    later = aggregate_detailed(frame([0, 1, 2, 3, 10, 11, 12, 13, 14]), M1, M5)
    assert later.frame.open_time.tolist() == [DAY0, DAY0 + 600_000]
    assert later.complete.tolist() == [False, True]


def test_volume_sum_is_exact_decimal() -> None:
    out = aggregate(frame(list(range(5)), [0.1, 0.2, 0.3, 0.00000001, 1e-8]), M1, M5)
    assert out.volume[0] == 0.60000002  # float sum would give 0.6000000200000001
    assert 0.1 + 0.2 + 0.3 + 0.00000001 + 1e-8 != 0.60000002


def test_volumes_with_more_decimals_fall_back_to_float_sums() -> None:
    out = aggregate(frame(list(range(5)), [1 / 3] * 5), M1, M5)
    assert out.volume[0] == pytest.approx(5 / 3)


def test_weekly_buckets_start_on_monday() -> None:
    days = random_frame(21, Timeframe.D1, start=DAY0 - 2 * 86_400_000)  # starts on a Saturday
    weeks = aggregate_detailed(days, Timeframe.D1, Timeframe.W1)
    assert weeks.frame.open_time.tolist() == [DAY0 - 7 * 86_400_000, DAY0, DAY0 + 7 * 86_400_000]
    assert weeks.base_counts.tolist() == [2, 7, 7]
    assert bucket_open_times(np.array([DAY0 + 3 * 86_400_000]), Timeframe.W1).tolist() == [DAY0]


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="multiple"):
        aggregate(frame([0]), M5, M1)
    with pytest.raises(ValueError, match="multiple"):
        aggregate(frame([0]), Timeframe.H1, Timeframe.H4.__class__("3m"))
    bad = frame([0, 1])
    with pytest.raises(ValueError, match="aligned"):
        aggregate(CandleFrame(bad.open_time + 1, bad.open, bad.high, bad.low, bad.close, bad.volume), M1, M5)
    with pytest.raises(ValueError, match="increasing"):
        aggregate(frame([1, 0]), M1, M5)


def test_empty_and_too_short_inputs() -> None:
    assert len(aggregate(frame([]), M1, M5)) == 0
    assert len(aggregate(frame([0, 1]), M1, M5)) == 0


def test_chained_aggregation_equals_direct() -> None:
    base = random_frame(3 * 1440, seed=3)
    direct = aggregate(base, M1, Timeframe.H4)
    chained = aggregate(aggregate(base, M1, Timeframe.M15), Timeframe.M15, Timeframe.H4)
    for name in ("open_time", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(direct, name), getattr(chained, name)), name

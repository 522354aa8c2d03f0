"""Data quality of a candle series: gaps, zero-volume flat bars, duplicates, order."""

from __future__ import annotations

import numpy as np

from ictbot.candles.quality import DataQuality, Gap, assess
from ictbot.domain.timeframe import Timeframe

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00Z


def _assess(times: list[int], volume: list[float] | None = None, flat: frozenset[int] = frozenset()) -> DataQuality:
    """Hourly candles at ``times``; the ``flat`` ones have high == low == open == close."""
    n = len(times)
    o = np.full(n, 100.0)
    h = np.array([100.0 if k in flat else 101.0 for k in range(n)])
    lo = np.array([100.0 if k in flat else 99.0 for k in range(n)])
    v = np.array(volume if volume is not None else [5.0] * n, dtype=np.float64)
    return assess(np.array(times, dtype=np.int64), o, h, lo, o.copy(), v, Timeframe.H1)


def test_clean_series_reports_nothing() -> None:
    quality = _assess([T0 + k * HOUR for k in range(24)])
    assert quality.clean and quality.describe() == [] and quality.missing == 0


def test_one_missing_hour_is_named_with_its_times() -> None:
    times = [T0 + k * HOUR for k in range(24) if k != 10]
    quality = _assess(times)
    assert quality.gaps == (Gap(T0 + 10 * HOUR, T0 + 11 * HOUR, 1),)
    assert quality.to_json()["gaps"] == [{"start": "2024-01-01T10:00:00+00:00", "end": "2024-01-01T11:00:00+00:00",
                                          "missing": 1}]
    assert "gap 2024-01-01T10:00:00+00:00 → 2024-01-01T11:00:00+00:00: 1 missing" in "\n".join(quality.describe())


def test_a_long_outage_counts_every_missing_candle() -> None:
    times = [T0 + k * HOUR for k in (0, 1, 2, 7, 8)]
    (gap,) = _assess(times).gaps
    assert (gap.start, gap.end, gap.missing) == (T0 + 3 * HOUR, T0 + 7 * HOUR, 4)


def test_zero_volume_flat_bars_are_counted_but_a_ranged_zero_volume_bar_is_not() -> None:
    times = [T0 + k * HOUR for k in range(6)]
    quality = _assess(times, volume=[5, 0, 0, 5, 0, 5], flat=frozenset({1, 2}))
    assert quality.zero_volume == 2
    assert quality.zero_volume_first == (T0 + HOUR, T0 + 2 * HOUR)


def test_duplicates_and_out_of_order_rows() -> None:
    times = [T0, T0 + HOUR, T0 + HOUR, T0 + 3 * HOUR, T0 + 2 * HOUR]
    quality = _assess(times)
    assert quality.duplicates == 1 and quality.out_of_order == 1
    assert quality.gaps == ()  # sorted, the hours are all there

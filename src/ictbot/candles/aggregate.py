"""Vectorised candle aggregation (base timeframe → higher timeframe) for backtests and the simulator.

Buckets are left-closed and left-labelled in UTC (``Timeframe.floor``; weeks start Monday). A bucket
is produced only once it has closed, i.e. the input reaches its end: a trailing bucket still in
progress is left out, exactly like the streaming aggregator, which emits a bucket only when the
base candle ending it (or a later one) arrives. Buckets missing base candles (exchange outage, data
gap) are produced and flagged in ``Aggregation.complete``.

Volumes are summed exactly when every value is a multiple of 1e-8 (all Binance volumes are), so
the result equals Binance's own higher-timeframe volume, not an order-dependent float sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.timeframe import Timeframe, bucket_open_time

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SCALE = 1e8  # Binance quantities have at most 8 decimals
_EXACT_LIMIT = 2**53  # integers up to here convert to float64 exactly


@dataclass(frozen=True)
class Aggregation:
    frame: CandleFrame
    base_counts: I64  # base candles found in each bucket
    expected: int  # base candles a full bucket holds

    @property
    def complete(self) -> BoolArray:
        return np.asarray(self.base_counts == self.expected, dtype=np.bool_)


def check_timeframes(base_tf: Timeframe, target_tf: Timeframe) -> None:
    if not target_tf.is_multiple_of(base_tf):
        raise ValueError(f"cannot aggregate {base_tf.value} into {target_tf.value}: not a whole multiple")
    if base_tf is Timeframe.W1 and target_tf is not Timeframe.W1:
        raise ValueError("weekly candles aggregate only into weekly candles")


def bucket_open_times(open_time: I64, target_tf: Timeframe) -> I64:
    """``Timeframe.floor`` for a whole column."""
    return bucket_open_time(open_time, target_tf.ms, target_tf.origin_ms)


def exact_group_sum(values: F64, starts: I64) -> F64:
    """Per-group sums, exact for 8-decimal quantities; a plain float sum otherwise."""
    scaled = np.rint(values * _SCALE)
    if np.all(np.abs(scaled - values * _SCALE) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
        units = np.add.reduceat(scaled.astype(np.int64), starts)
        if units.size == 0 or int(np.max(np.abs(units))) < _EXACT_LIMIT:
            # int -> float is exact below 2**53 and IEEE division rounds correctly: the float nearest
            # to the exact decimal sum, which is what parsing Binance's own value gives.
            return np.asarray(units.astype(np.float64) / _SCALE, dtype=np.float64)
    return np.asarray(np.add.reduceat(values, starts), dtype=np.float64)


def _empty(sources: tuple[str, ...]) -> CandleFrame:
    f = np.empty(0, dtype=np.float64)
    return CandleFrame(np.empty(0, dtype=np.int64), f, f, f, f, f, sources)


def aggregate_detailed(frame: CandleFrame, base_tf: Timeframe, target_tf: Timeframe) -> Aggregation:
    check_timeframes(base_tf, target_tf)
    expected = target_tf.ms // base_tf.ms
    n = len(frame)
    if n == 0:
        return Aggregation(_empty(frame.sources), np.empty(0, dtype=np.int64), expected)
    t = np.asarray(frame.open_time, dtype=np.int64)
    if np.any(bucket_open_times(t, base_tf) != t):
        raise ValueError(f"open times are not aligned to {base_tf.value}")
    if n > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("open times must be strictly increasing")
    buckets = bucket_open_times(t, target_tf)
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1]))).astype(np.int64)
    ends = np.concatenate((starts[1:], [n])) - 1
    # The last bucket counts only if the input reaches its end (otherwise it is still open).
    last_close = int(t[-1]) + base_tf.ms
    keep = len(starts) if int(buckets[starts[-1]]) + target_tf.ms <= last_close else len(starts) - 1
    if keep == 0:
        return Aggregation(_empty(frame.sources), np.empty(0, dtype=np.int64), expected)
    starts, ends = starts[:keep], ends[:keep]
    stop = int(ends[-1]) + 1
    out = CandleFrame(
        buckets[starts],
        np.asarray(frame.open[starts], dtype=np.float64),
        np.maximum.reduceat(frame.high[:stop], starts),
        np.minimum.reduceat(frame.low[:stop], starts),
        np.asarray(frame.close[ends], dtype=np.float64),
        exact_group_sum(np.asarray(frame.volume[:stop], dtype=np.float64), starts),
        frame.sources,
    )
    return Aggregation(out, (ends - starts + 1).astype(np.int64), expected)


def aggregate(frame: CandleFrame, base_tf: Timeframe, target_tf: Timeframe) -> CandleFrame:
    """Closed ``target_tf`` candles built from ``base_tf`` candles (see the module docstring)."""
    return aggregate_detailed(frame, base_tf, target_tf).frame

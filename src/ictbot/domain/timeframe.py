"""Candle timeframes with exact UTC bucket arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

import numpy as np
import numpy.typing as npt

_MINUTE_MS = 60_000

# 1970-01-05 was a Monday; weekly buckets are aligned to it (Binance weeks start Monday 00:00 UTC).
_MONDAY_EPOCH_MS = 4 * 86_400_000


_Times = TypeVar("_Times", int, npt.NDArray[np.int64])


def bucket_open_time(t: _Times, width_ms: int, origin_ms: int) -> _Times:
    """Open time of the bucket of ``width_ms`` holding ``t`` (left-closed, left-labelled, UTC), buckets
    aligned to ``origin_ms`` (``Timeframe.origin_ms``): the one higher-timeframe bucketing rule, for one
    time or a whole int64 column. Callers pass plain ints because ``Timeframe`` properties are slow in
    the per-candle loops."""
    return t - (t - origin_ms) % width_ms


class Timeframe(str, Enum):
    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H2 = "2h"
    H4 = "4h"
    H6 = "6h"
    H8 = "8h"
    H12 = "12h"
    D1 = "1d"
    W1 = "1w"

    @property
    def ms(self) -> int:
        return _DURATION_MS[self]

    @property
    def seconds(self) -> int:
        return self.ms // 1000

    @property
    def origin_ms(self) -> int:
        """Where this timeframe's buckets are aligned: the epoch, weeks to its first Monday."""
        return _MONDAY_EPOCH_MS % self.ms if self is Timeframe.W1 else 0

    def floor(self, timestamp_ms: int) -> int:
        """Open time of the bucket containing ``timestamp_ms`` (left-closed, left-labelled, UTC)."""
        return bucket_open_time(timestamp_ms, self.ms, self.origin_ms)

    def close_time(self, open_time_ms: int) -> int:
        """Instant (exclusive) at which a candle opened at ``open_time_ms`` closes."""
        return open_time_ms + self.ms

    def is_multiple_of(self, other: Timeframe) -> bool:
        return self.ms % other.ms == 0 and self.ms >= other.ms

    @classmethod
    def parse(cls, value: str) -> Timeframe:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(tf.value for tf in cls)
            raise ValueError(f"unknown timeframe {value!r}; expected one of {allowed}") from None


_DURATION_MS: dict[Timeframe, int] = {
    Timeframe.M1: _MINUTE_MS,
    Timeframe.M3: 3 * _MINUTE_MS,
    Timeframe.M5: 5 * _MINUTE_MS,
    Timeframe.M15: 15 * _MINUTE_MS,
    Timeframe.M30: 30 * _MINUTE_MS,
    Timeframe.H1: 60 * _MINUTE_MS,
    Timeframe.H2: 120 * _MINUTE_MS,
    Timeframe.H4: 240 * _MINUTE_MS,
    Timeframe.H6: 360 * _MINUTE_MS,
    Timeframe.H8: 480 * _MINUTE_MS,
    Timeframe.H12: 720 * _MINUTE_MS,
    Timeframe.D1: 1440 * _MINUTE_MS,
    Timeframe.W1: 7 * 1440 * _MINUTE_MS,
}


def ms_to_datetime(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


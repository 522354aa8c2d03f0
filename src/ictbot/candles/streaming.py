"""Streaming aggregation: closed base candles in, closed higher-timeframe candles out.

Same rules as ``aggregate.py`` (and tested to give the same candles): a bucket is emitted when the
base candle that ends it arrives, or — if that candle is missing — when the first base candle of
a later bucket arrives; such a bucket is flagged incomplete. Sums are exact (Decimal).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ictbot.candles.aggregate import check_timeframes
from ictbot.domain.candle import Candle
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe, bucket_open_time

DEFAULT_TARGETS: tuple[Timeframe, ...] = (Timeframe.M5, Timeframe.M15, Timeframe.H1, Timeframe.H4, Timeframe.D1)

SeriesKey = tuple[str, Market, str]  # exchange, market, symbol


@dataclass(frozen=True, slots=True)
class AggregatedCandle:
    candle: Candle
    base_count: int
    expected: int

    @property
    def complete(self) -> bool:
        return self.base_count == self.expected


class _Bucket:
    """The higher-timeframe candle being built (mutable on purpose: hot path, one per target)."""

    __slots__ = ("close", "count", "high", "low", "open", "open_time", "quote_volume", "trades", "volume")

    def __init__(self, open_time: int, first: Candle) -> None:
        self.open_time = open_time
        self.open = first.open
        self.high = first.high
        self.low = first.low
        self.close = first.close
        self.volume = first.volume
        self.quote_volume = first.quote_volume
        self.trades = first.trades
        self.count = 1

    def add(self, candle: Candle) -> None:
        if candle.high > self.high:
            self.high = candle.high
        if candle.low < self.low:
            self.low = candle.low
        self.close = candle.close
        self.volume += candle.volume
        self.quote_volume += candle.quote_volume
        self.trades += candle.trades
        self.count += 1

    def to_candle(self, like: Candle, timeframe: Timeframe) -> Candle:
        return Candle(
            like.symbol, timeframe, self.open_time, self.open, self.high, self.low, self.close, self.volume,
            True, self.quote_volume, self.trades, like.exchange, like.market,
        )


class StreamingAggregator:
    """Per (exchange, market, symbol): feed closed base candles in time order with ``add``."""

    def __init__(self, base: Timeframe = Timeframe.M1, targets: Sequence[Timeframe] = DEFAULT_TARGETS) -> None:
        chosen = sorted({tf for tf in targets if tf is not base}, key=lambda tf: tf.ms)
        for tf in chosen:
            check_timeframes(base, tf)
        self.base = base
        self.targets: tuple[Timeframe, ...] = tuple(chosen)
        # (timeframe, bucket ms, bucket origin, base candles per bucket): precomputed, this is the hot loop.
        self._plan = [(tf, tf.ms, tf.origin_ms, tf.ms // base.ms) for tf in chosen]
        self._buckets: dict[SeriesKey, dict[Timeframe, _Bucket]] = {}
        self._last: dict[SeriesKey, int] = {}

    @staticmethod
    def key(candle: Candle) -> SeriesKey:
        return (candle.exchange, candle.market, candle.symbol)

    def last_open_time(self, key: SeriesKey) -> int | None:
        return self._last.get(key)

    def add(self, candle: Candle) -> list[AggregatedCandle]:
        """Higher-timeframe candles closed by ``candle``: older ones (closed by a gap) first, then
        those ending with ``candle``, smaller timeframes before larger ones."""
        if candle.timeframe is not self.base:
            raise ValueError(f"aggregator for {self.base.value} got a {candle.timeframe.value} candle")
        if not candle.closed:
            raise ValueError("only closed candles can be aggregated")
        key = self.key(candle)
        last = self._last.get(key)
        if last is not None and candle.open_time <= last:
            raise ValueError(f"{candle.symbol}: candle {candle.open_time} is not after {last}")
        self._last[key] = candle.open_time
        buckets = self._buckets.setdefault(key, {})
        closed_by_gap: list[AggregatedCandle] = []
        closed_now: list[AggregatedCandle] = []
        t = candle.open_time
        close_time = t + self.base.ms
        for tf, ms, offset, expected in self._plan:
            open_time = bucket_open_time(t, ms, offset)
            bucket = buckets.get(tf)
            if bucket is not None and bucket.open_time != open_time:
                # Its last base candle never came; time has moved past it.
                closed_by_gap.append(AggregatedCandle(bucket.to_candle(candle, tf), bucket.count, expected))
                bucket = None
            if bucket is None:
                bucket = buckets[tf] = _Bucket(open_time, candle)
            else:
                bucket.add(candle)
            if close_time == open_time + ms:
                closed_now.append(AggregatedCandle(bucket.to_candle(candle, tf), bucket.count, expected))
                del buckets[tf]
        return closed_by_gap + closed_now

    def add_many(self, candles: Iterable[Candle]) -> list[AggregatedCandle]:
        out: list[AggregatedCandle] = []
        for candle in candles:
            out.extend(self.add(candle))
        return out

    def pending(self, key: SeriesKey) -> dict[Timeframe, Candle]:
        """The still-open higher-timeframe candles of one series (``closed=False``), for display."""
        out: dict[Timeframe, Candle] = {}
        for tf, bucket in self._buckets.get(key, {}).items():
            exchange, market, symbol = key
            out[tf] = Candle(
                symbol, tf, bucket.open_time, bucket.open, bucket.high, bucket.low, bucket.close, bucket.volume,
                False, bucket.quote_volume, bucket.trades, exchange, market,
            )
        return out



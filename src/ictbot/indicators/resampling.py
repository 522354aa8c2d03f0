"""Higher-timeframe candles built from base candles (ict-spec §10): left-closed, left-labelled UTC
buckets, streaming (``Resampler``) and for a whole series (``resample``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.timeframe import Timeframe, bucket_open_time


@dataclass(slots=True)
class Bar:
    """A higher-timeframe candle built from base candles (``complete`` = no base candle missing)."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    count: int
    complete: bool = False


class Resampler:
    """Left-closed, left-labelled UTC buckets of ``target`` from ``base`` candles (§10)."""

    __slots__ = ("bar", "base_ms", "end", "expected", "origin", "target", "target_ms")

    def __init__(self, base: Timeframe, target: Timeframe) -> None:
        if not target.is_multiple_of(base) or target == base:
            raise ValueError(f"{target.value} is not a higher multiple of {base.value}")
        self.base_ms = base.ms
        self.target = target
        self.target_ms = target.ms
        self.origin = target.origin_ms  # read once: Timeframe properties are slow in the per-candle loop
        self.expected = target.ms // base.ms
        self.bar: Bar | None = None
        self.end = 0  # end of the open bar's bucket (valid while ``bar`` is not None)

    def add(self, t: int, o: float, h: float, lo: float, c: float) -> list[Bar]:
        """Feed one base candle; return the HTF candles that closed at (or, after a gap, before) its close."""
        bar = self.bar
        if bar is not None and t < self.end and t + self.base_ms < self.end:
            # common case: a base candle strictly inside the open bucket
            if h > bar.high:
                bar.high = h
            if lo < bar.low:
                bar.low = lo
            bar.close = c
            bar.count += 1
            return _NO_BARS
        closed: list[Bar] = []
        start = bucket_open_time(t, self.target_ms, self.origin)
        if bar is not None and bar.open_time != start:
            closed.append(bar)  # data gap over the bucket end: the bucket is closed, incomplete
            bar = None
        if bar is None:
            bar = Bar(start, o, h, lo, c, 1)
            self.end = start + self.target_ms
        else:
            if h > bar.high:
                bar.high = h
            if lo < bar.low:
                bar.low = lo
            bar.close = c
            bar.count += 1
        if t + self.base_ms >= start + self.target_ms:
            bar.complete = bar.count == self.expected
            closed.append(bar)
            self.bar = None
        else:
            self.bar = bar
        return closed


_NO_BARS: list[Bar] = []  # shared empty result: callers only iterate it


def resample(frame: CandleFrame, base: Timeframe, target: Timeframe) -> tuple[CandleFrame, list[bool]]:
    """Whole-series resampling (CLI ``--resample``); the last bucket is dropped if it has not closed."""
    sampler = Resampler(base, target)
    bars: list[Bar] = []
    for t, o, h, lo, c in zip(frame.open_time.tolist(), frame.open.tolist(), frame.high.tolist(),
                              frame.low.tolist(), frame.close.tolist(), strict=True):
        bars.extend(sampler.add(t, o, h, lo, c))
    out = CandleFrame(
        np.array([b.open_time for b in bars], dtype=np.int64), np.array([b.open for b in bars], dtype=np.float64),
        np.array([b.high for b in bars], dtype=np.float64), np.array([b.low for b in bars], dtype=np.float64),
        np.array([b.close for b in bars], dtype=np.float64), np.zeros(len(bars), dtype=np.float64), frame.sources,
    )
    return out, [b.complete for b in bars]

"""Small candle builders for the candle tests."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.timeframe import Timeframe

DAY0 = 1_717_977_600_000  # 2024-06-10 00:00 UTC, a Monday


def random_frame(n: int, tf: Timeframe = Timeframe.M1, *, start: int = DAY0, seed: int = 1,
                 drop: float = 0.0) -> CandleFrame:
    """A random walk of ``n`` candles with 8-decimal volumes; ``drop`` removes that share of rows."""
    rng = np.random.default_rng(seed)
    t = start + np.arange(n, dtype=np.int64) * tf.ms
    close = np.round(30_000 + np.cumsum(rng.normal(0, 20, n)), 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.round(np.maximum(open_, close) + rng.uniform(0, 15, n), 2)
    low = np.round(np.minimum(open_, close) - rng.uniform(0, 15, n), 2)
    volume = np.round(rng.uniform(0, 50, n), 8)
    keep = rng.uniform(size=n) >= drop
    return CandleFrame(t[keep], open_[keep], high[keep], low[keep], close[keep], volume[keep], ("random",))


def candle(minute: int, *, o: str = "10", h: str = "12", lo: str = "9", c: str = "11", v: str = "1",
           tf: Timeframe = Timeframe.M1, symbol: str = "BTCUSDT", trades: int = 1) -> Candle:
    return Candle(symbol, tf, DAY0 + minute * 60_000, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), Decimal(v),
                  quote_volume=Decimal(v) * 10, trades=trades)

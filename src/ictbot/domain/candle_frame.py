"""``CandleFrame``: closed candles as numpy columns — the core's columnar candle type.

Read from files by ``adapters.files``, stored by ``adapters.storage``, aggregated by ``candles``,
computed on by ``indicators`` and replayed by ``backtest`` and ``exchange_sim``; it lives in the
core so that none of them imports an adapter for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ictbot.domain.candle import Candle
from ictbot.domain.errors import InputDataError
from ictbot.domain.timeframe import Timeframe

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CandleFrame:
    """Columns of closed candles, strictly increasing ``open_time`` (ms UTC)."""

    open_time: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    sources: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.open_time.shape[0])

    def infer_timeframe(self) -> Timeframe:
        """Most frequent difference between consecutive open times (ict-spec §0)."""
        if len(self) < 2:
            raise InputDataError(",".join(self.sources) or "<frame>", "need two candles to infer the timeframe")
        diffs, counts = np.unique(np.diff(self.open_time), return_counts=True)
        step = int(diffs[int(np.argmax(counts))])
        for timeframe in Timeframe:
            if timeframe.ms == step:
                return timeframe
        raise InputDataError(",".join(self.sources), f"candle spacing {step} ms is not a known timeframe")

    def slice(self, start: int, stop: int) -> CandleFrame:
        return CandleFrame(
            self.open_time[start:stop], self.open[start:stop], self.high[start:stop], self.low[start:stop],
            self.close[start:stop], self.volume[start:stop], self.sources,
        )

    def between(self, start_ms: int | None = None, end_ms: int | None = None) -> CandleFrame:
        lo = 0 if start_ms is None else int(np.searchsorted(self.open_time, start_ms, side="left"))
        hi = len(self) if end_ms is None else int(np.searchsorted(self.open_time, end_ms, side="left"))
        return self.slice(lo, hi)

    def to_candles(self, symbol: str, timeframe: Timeframe) -> list[Candle]:
        def dec(value: float) -> Decimal:
            return Decimal(repr(float(value)))

        return [
            Candle(symbol, timeframe, int(t), dec(o), dec(h), dec(lo), dec(c), dec(v))
            for t, o, h, lo, c, v in zip(
                self.open_time.tolist(), self.open.tolist(), self.high.tolist(), self.low.tolist(),
                self.close.tolist(), self.volume.tolist(), strict=True,
            )
        ]

    @classmethod
    def from_candles(cls, candles: Sequence[Candle]) -> CandleFrame:
        return cls(
            np.array([c.open_time for c in candles], dtype=np.int64),
            np.array([float(c.open) for c in candles], dtype=np.float64),
            np.array([float(c.high) for c in candles], dtype=np.float64),
            np.array([float(c.low) for c in candles], dtype=np.float64),
            np.array([float(c.close) for c in candles], dtype=np.float64),
            np.array([float(c.volume) for c in candles], dtype=np.float64),
        )

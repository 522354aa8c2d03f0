"""Rolling in-memory windows: the last N closed candles per (symbol, timeframe)."""

from __future__ import annotations

from collections import deque

from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.timeframe import Timeframe


class CandleWindows:
    def __init__(self, size: int = 500) -> None:
        if size < 1:
            raise ValueError("window size must be positive")
        self.size = size
        self._windows: dict[tuple[str, Timeframe], deque[Candle]] = {}

    def push(self, candle: Candle) -> bool:
        """Append a closed candle; a candle for the newest open time replaces it; older ones are ignored."""
        window = self._windows.setdefault((candle.symbol, candle.timeframe), deque(maxlen=self.size))
        if window and candle.open_time <= window[-1].open_time:
            if candle.open_time == window[-1].open_time:
                window[-1] = candle
                return True
            return False
        window.append(candle)
        return True

    def last(self, symbol: str, timeframe: Timeframe, n: int | None = None) -> list[Candle]:
        """Up to ``n`` (default: all kept) newest candles, oldest first."""
        window = self._windows.get((symbol, timeframe))
        if not window:
            return []
        if n is None or n >= len(window):
            return list(window)
        return list(window)[len(window) - n :]

    def latest(self, symbol: str, timeframe: Timeframe) -> Candle | None:
        window = self._windows.get((symbol, timeframe))
        return window[-1] if window else None

    def frame(self, symbol: str, timeframe: Timeframe, n: int | None = None) -> CandleFrame:
        return CandleFrame.from_candles(self.last(symbol, timeframe, n))

    def keys(self) -> list[tuple[str, Timeframe]]:
        return sorted(self._windows, key=lambda key: (key[0], key[1].ms))

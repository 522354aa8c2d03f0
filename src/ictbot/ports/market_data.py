from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe


class HistoricalCandles(Protocol):
    async def fetch_klines(
        self, symbol: str, timeframe: Timeframe, start_ms: int, end_ms: int | None = None, limit: int = 1000
    ) -> list[Candle]: ...


class MarketDataFeed(Protocol):
    """Streams candle updates (open and closed) for the requested (symbol, timeframe) pairs."""

    def stream(self, pairs: Sequence[tuple[str, Timeframe]]) -> AsyncIterator[Candle]: ...


class CandleStore(Protocol):
    async def upsert(self, candles: Sequence[Candle]) -> int: ...

    async def load(
        self, symbol: str, timeframe: Timeframe, start_ms: int | None = None, end_ms: int | None = None,
        limit: int | None = None,
    ) -> list[Candle]: ...

    async def latest_open_time(self, symbol: str, timeframe: Timeframe) -> int | None: ...

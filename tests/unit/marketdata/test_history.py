"""fetch_klines paging against an in-memory source."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe
from ictbot.marketdata.history import fetch_klines

M = 60_000


class Source:
    def __init__(self, count: int, open_last: bool = True) -> None:
        self.count = count
        self.open_last = open_last
        self.calls: list[tuple[int, int | None, int]] = []

    async def fetch_klines(
        self, symbol: str, timeframe: Timeframe, start_ms: int, end_ms: int | None = None, limit: int = 1000
    ) -> list[Candle]:
        self.calls.append((start_ms, end_ms, limit))
        out = []
        for i in range(self.count):
            t = i * M
            if t < start_ms or (end_ms is not None and t > end_ms):
                continue
            closed = not (self.open_last and i == self.count - 1)
            p = Decimal(i + 1)
            out.append(Candle(symbol, timeframe, t, p, p, p, p, Decimal(1), closed=closed))
            if len(out) == limit:
                break
        return out


async def test_pages_cover_the_range_without_overlap() -> None:
    source = Source(25)
    pages = [page async for page in fetch_klines(source, "BTCUSDT", Timeframe.M1, 0, None, page_limit=10)]
    opens = [c.open_time // M for page in pages for c in page]
    assert opens == list(range(24))  # the open 25th candle is left out
    assert [len(p) for p in pages] == [10, 10, 4]
    assert [call[0] for call in source.calls] == [0, 10 * M, 20 * M]


async def test_end_bound_and_unaligned_start() -> None:
    source = Source(100, open_last=False)
    pages = [p async for p in fetch_klines(source, "BTCUSDT", Timeframe.M1, 5 * M + 1, 12 * M, page_limit=4)]
    assert [c.open_time // M for p in pages for c in p] == list(range(6, 13))


async def test_max_pages_bounds_the_loop() -> None:
    source = Source(1000, open_last=False)
    pages = [p async for p in fetch_klines(source, "BTCUSDT", Timeframe.M1, 0, page_limit=5, max_pages=3)]
    assert len(pages) == 3 and len(source.calls) == 3


async def test_include_open_candle_when_asked() -> None:
    source = Source(3)
    pages = [p async for p in fetch_klines(source, "BTCUSDT", Timeframe.M1, 0, closed_only=False)]
    assert [c.closed for c in pages[0]] == [True, True, False]


async def test_bad_page_limit() -> None:
    with pytest.raises(ValueError):
        async for _ in fetch_klines(Source(1), "X", Timeframe.M1, 0, page_limit=0):
            pass

"""Paged REST history: ``fetch_klines`` yields pages so a caller can drive a progress bar."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.market_data import HistoricalCandles

DEFAULT_PAGE_LIMIT = 1000


async def fetch_klines(
    source: HistoricalCandles,
    symbol: str,
    timeframe: Timeframe,
    start_ms: int,
    end_ms: int | None = None,
    *,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    closed_only: bool = True,
    max_pages: int | None = None,
) -> AsyncIterator[list[Candle]]:
    """Candles with ``start_ms <= open_time <= end_ms`` in pages of at most ``page_limit``.

    Every page is strictly after the previous one (no overlap), so a consumer never sees a candle
    twice. With ``closed_only`` the still-open last candle is left out. ``max_pages`` bounds the loop.
    Progress: ``(page[-1].open_time - start_ms) / (end_ms - start_ms)``.
    """
    if page_limit < 1:
        raise ValueError("page_limit must be positive")
    cursor = timeframe.floor(start_ms)
    if cursor < start_ms:
        cursor += timeframe.ms
    pages = 0
    while end_ms is None or cursor <= end_ms:
        if max_pages is not None and pages >= max_pages:
            return
        batch = await source.fetch_klines(symbol, timeframe, cursor, end_ms, page_limit)
        pages += 1
        page = [c for c in batch if c.open_time >= cursor and (end_ms is None or c.open_time <= end_ms)]
        reached_open = False
        if closed_only:
            kept = [c for c in page if c.closed]
            reached_open = len(kept) < len(page)
            page = kept
        if page:
            yield page
            cursor = page[-1].open_time + timeframe.ms
        if reached_open or len(batch) < page_limit or not page:
            return

"""History download from a REST klines source, resumable and rate-limit aware.

Paging is ``ictbot.marketdata.history.fetch_klines`` (the one paging implementation); the source is
anything implementing ``ports.HistoricalCandles`` (the Binance REST client, whose shared rate
budget spaces requests by weight and honours ``Retry-After``). This loop adds:

* **resume**: after every stored page the cursor ``download:<exchange>:<market>:<symbol>:<tf>``
  in the key-value store records ``{"start", "next"}``; a later run whose start lies inside
  ``[start, next)`` continues at ``next``. Without a cursor, a stored run of candles that is
  complete from the requested start (count check) is skipped the same way.
* **retries**: a ``RetryableError`` (network, 5xx, 429/418) restarts paging from the cursor after
  ``retry_after`` or an exponential backoff, at most ``max_retries`` times in a row.
* **atomic pages**: each page is one upsert transaction, so an interruption loses at most the
  page in flight, which the next run fetches again (upserts are idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from ictbot.domain.candle import Candle
from ictbot.domain.errors import RetryableError
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.marketdata.history import fetch_klines
from ictbot.ports.clock import Clock, SystemClock
from ictbot.ports.market_data import CandleStore, HistoricalCandles
from ictbot.ports.repositories import KeyValueStore

log = structlog.get_logger(__name__)

CURSOR_PREFIX = "download:"


def cursor_key(symbol: str, timeframe: Timeframe, *, exchange: str = "binance", market: Market = Market.SPOT) -> str:
    return f"{CURSOR_PREFIX}{exchange}:{market.value}:{symbol}:{timeframe.value}"


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    symbol: str
    timeframe: Timeframe
    start_ms: int
    end_ms: int  # exclusive
    next_ms: int  # next open time to fetch
    stored: int  # candles stored in this run
    pages: int

    @property
    def total_candles(self) -> int:
        return max(0, (self.end_ms - self.start_ms) // self.timeframe.ms)

    @property
    def done_candles(self) -> int:
        return max(0, min(self.next_ms, self.end_ms) - self.start_ms) // self.timeframe.ms


@dataclass(frozen=True, slots=True)
class DownloadResult:
    symbol: str
    timeframe: Timeframe
    resumed_from: int | None  # where this run started when it continued an earlier one
    stored: int
    pages: int
    next_ms: int
    retries: int


def _ceil(timeframe: Timeframe, ms: int) -> int:
    floor = timeframe.floor(ms)
    return floor if floor == ms else floor + timeframe.ms


class HistoryDownloader:
    def __init__(
        self,
        source: HistoricalCandles,
        store: CandleStore,
        kv: KeyValueStore,
        *,
        clock: Clock | None = None,
        exchange: str = "binance",
        market: Market = Market.SPOT,
        page_limit: int = 1000,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_pages: int = 1_000_000,
    ) -> None:
        self.source = source
        self.store = store
        self.kv = kv
        self.clock = clock or SystemClock()
        self.exchange = exchange
        self.market = market
        self.page_limit = page_limit
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_pages = max_pages

    async def download(
        self,
        symbol: str,
        timeframe: Timeframe,
        start_ms: int,
        end_ms: int | None = None,
        *,
        on_progress: Callable[[DownloadProgress], None] | None = None,
    ) -> DownloadResult:
        """Store every closed candle with ``start_ms <= open_time < end_ms`` (default: up to now)."""
        start = _ceil(timeframe, start_ms)
        end = timeframe.floor(self.clock.now_ms()) if end_ms is None else end_ms
        key = cursor_key(symbol, timeframe, exchange=self.exchange, market=self.market)
        origin, cursor = await self._resume_point(key, symbol, timeframe, start)
        resumed = cursor if cursor > start else None
        if resumed is not None:
            log.info("download resumes", symbol=symbol, timeframe=timeframe.value, at=cursor, requested=start)
        stored = pages = retries = failures = 0

        def report() -> None:
            if on_progress is not None:
                on_progress(DownloadProgress(symbol, timeframe, start, end, cursor, stored, pages))

        report()
        while cursor < end and pages < self.max_pages:
            try:
                async for page in fetch_klines(
                    self.source, symbol, timeframe, cursor, end - 1, page_limit=self.page_limit,
                    max_pages=self.max_pages - pages,
                ):
                    stored += await self._store(page)
                    pages += 1
                    failures = 0
                    cursor = page[-1].open_time + timeframe.ms
                    await self.kv.set(key, json.dumps({"start": origin, "next": cursor}))
                    report()
                break  # the source has nothing more (end reached, or only the open candle left)
            except RetryableError as exc:
                failures += 1
                retries += 1
                if failures > self.max_retries:
                    log.error("download gave up", symbol=symbol, at=cursor, error=str(exc))
                    raise
                delay = exc.retry_after if exc.retry_after else min(60.0, self.backoff_s * 2 ** (failures - 1))
                log.warning("download retry", symbol=symbol, at=cursor, delay_s=delay, error=str(exc))
                await self.clock.sleep(delay)
        return DownloadResult(symbol, timeframe, resumed, stored, pages, cursor, retries)

    async def _store(self, page: list[Candle]) -> int:
        return await self.store.upsert([c for c in page if c.closed])

    async def _resume_point(self, key: str, symbol: str, timeframe: Timeframe, start: int) -> tuple[int, int]:
        """(origin of the covered range, first open time still to fetch)."""
        raw = await self.kv.get(key)
        if raw:
            try:
                saved = json.loads(raw)
                origin, following = int(saved["start"]), int(saved["next"])
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring unreadable download cursor", key=key, value=raw)
            else:
                if origin <= start <= following:
                    return origin, following
        latest = await self.store.latest_open_time(symbol, timeframe)
        if latest is not None and latest >= start:
            wanted = (latest - start) // timeframe.ms + 1
            have = await self.store.load(symbol, timeframe, start_ms=start, end_ms=latest + 1)
            if len(have) == wanted and have[0].open_time == start:
                return start, latest + timeframe.ms
        return start, start

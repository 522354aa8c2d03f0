"""History download against a local klines server through the real Binance REST client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ictbot.adapters.binance.endpoints import BinanceEndpoints
from ictbot.adapters.binance.ratelimit import DEFAULT_SPOT_RULES, LocalRateBudget
from ictbot.adapters.binance.rest import BinanceRestClient
from ictbot.adapters.storage import Database, SqlCandleStore, SqlKeyValueStore, sqlite_url
from ictbot.candles.history import DownloadProgress, HistoryDownloader, cursor_key
from ictbot.domain.errors import RetryableError
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.clock import ManualClock
from tests.integration.candles.klines_server import KlineData, make_rows, serve_klines

M5 = Timeframe.M5
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
COUNT = 2_500  # 2.5 pages of 1000


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_url(tmp_path / "dl.db"))
    database.upgrade()
    yield database
    await database.close()


def _client(port: int, clock: ManualClock) -> BinanceRestClient:
    # The budget waits on the manual clock too, so a Retry-After costs no real time.
    budget = LocalRateBudget(DEFAULT_SPOT_RULES, clock=clock)
    return BinanceRestClient(BinanceEndpoints.local(port), budget=budget, get_retries=0, timeout=5)


def _downloader(client: BinanceRestClient, db: Database, clock: ManualClock) -> HistoryDownloader:
    return HistoryDownloader(client, SqlCandleStore(db), SqlKeyValueStore(db), clock=clock, max_retries=2)


async def test_pages_through_the_whole_range(db: Database) -> None:
    data = KlineData(M5.ms, make_rows(START, COUNT, M5.ms))
    clock = ManualClock(START + COUNT * M5.ms)
    progress: list[DownloadProgress] = []
    with serve_klines(data) as port:
        client = _client(port, clock)
        try:
            result = await _downloader(client, db, clock).download(
                "BTCUSDT", M5, START, START + COUNT * M5.ms, on_progress=progress.append
            )
        finally:
            await client.aclose()
    store = SqlCandleStore(db)
    assert result.stored == COUNT and result.pages == 3 and result.resumed_from is None
    assert await store.count("BTCUSDT", M5) == COUNT
    first, last = await store.load("BTCUSDT", M5, limit=1, start_ms=START), await store.load("BTCUSDT", M5, limit=1)
    assert str(first[0].open) == "30000.00000000" and first[0].trades == 100
    assert str(first[0].quote_volume) == "30000.00000000"
    assert last[0].open_time == START + (COUNT - 1) * M5.ms
    assert data.starts == [START, START + 1000 * M5.ms, START + 2000 * M5.ms]  # no overlap, no re-fetch
    assert progress[-1].done_candles == progress[-1].total_candles == COUNT
    cursor = json.loads(await SqlKeyValueStore(db).get(cursor_key("BTCUSDT", M5)) or "{}")
    assert cursor == {"start": START, "next": START + COUNT * M5.ms}


async def test_resumes_after_an_interruption(db: Database) -> None:
    data = KlineData(M5.ms, make_rows(START, COUNT, M5.ms), fail_after=1)
    clock = ManualClock(START + COUNT * M5.ms)
    end = START + COUNT * M5.ms
    with serve_klines(data) as port:
        client = _client(port, clock)
        try:
            with pytest.raises(RetryableError):
                await _downloader(client, db, clock).download("BTCUSDT", M5, START, end)
            assert await SqlCandleStore(db).count("BTCUSDT", M5) == 1000  # the first page is kept
            assert clock.slept == [1.0, 2.0]  # exponential backoff, then gave up
            data.fail_after = None
            data.starts.clear()
            result = await _downloader(client, db, clock).download("BTCUSDT", M5, START, end)
        finally:
            await client.aclose()
    assert result.resumed_from == START + 1000 * M5.ms
    assert data.starts[0] == START + 1000 * M5.ms  # nothing fetched twice
    assert result.stored == COUNT - 1000
    assert await SqlCandleStore(db).count("BTCUSDT", M5) == COUNT


async def test_waits_out_a_rate_limit(db: Database) -> None:
    data = KlineData(M5.ms, make_rows(START, 1200, M5.ms), throttle_next=1)
    clock = ManualClock(START + 1200 * M5.ms)
    with serve_klines(data) as port:
        client = _client(port, clock)
        try:
            result = await _downloader(client, db, clock).download("BTCUSDT", M5, START, START + 1200 * M5.ms)
        finally:
            await client.aclose()
    assert result.retries == 1 and clock.slept.count(7.0) >= 1  # Retry-After honoured
    assert await SqlCandleStore(db).count("BTCUSDT", M5) == 1200


async def test_complete_stored_range_is_not_fetched_again(db: Database) -> None:
    data = KlineData(M5.ms, make_rows(START, 1500, M5.ms))
    clock = ManualClock(START + 1500 * M5.ms)
    with serve_klines(data) as port:
        client = _client(port, clock)
        try:
            await _downloader(client, db, clock).download("BTCUSDT", M5, START, START + 1000 * M5.ms)
            await SqlKeyValueStore(db).delete(cursor_key("BTCUSDT", M5))  # only the candles tell now
            data.starts.clear()
            result = await _downloader(client, db, clock).download("BTCUSDT", M5, START, START + 1500 * M5.ms)
            # An earlier start than anything recorded: fetched from the requested start.
            data.starts.clear()
            earlier = await _downloader(client, db, clock).download(
                "BTCUSDT", M5, START - 10 * M5.ms, START + 1500 * M5.ms
            )
        finally:
            await client.aclose()
    assert result.resumed_from == START + 1000 * M5.ms and result.stored == 500
    assert earlier.resumed_from is None and data.starts[0] == START - 10 * M5.ms

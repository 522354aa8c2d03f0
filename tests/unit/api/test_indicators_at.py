"""``GET /indicators/at``: the ICT picture as of a closed candle, from the candles stored up to then only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ictbot.adapters.files import read_candle_files
from ictbot.adapters.storage.candles import SqlCandleStore
from ictbot.adapters.storage.database import Database
from ictbot.adapters.storage.url import sqlite_url
from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority
from ictbot.api.serialize import indicator_view
from ictbot.app.facade_market import MarketInfoFacade
from ictbot.candles.aggregate import aggregate
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.ict import IndicatorSnapshot
from ictbot.domain.timeframe import Timeframe
from ictbot.indicators.mtf import MultiTimeframeEngine
from ictbot.ports.facade import NotFound
from tests.unit.api.conftest import READ
from tests.unit.api.fakes import FakeFacade

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_spot_raw_5m" / "BTCUSDT-5m-2024-01.csv"
JAN_1 = 1_704_067_200_000
HOUR, DAY = 3_600_000, 86_400_000


def candles(start_ms: int, end_ms: int) -> CandleFrame:
    if not DATA.is_file():
        pytest.skip(f"market data not found: {DATA}")
    return read_candle_files([DATA]).between(start_ms, end_ms)


async def store(candle_store: SqlCandleStore, frame: CandleFrame) -> None:
    await candle_store.upsert_frame(frame, "BTCUSDT", Timeframe.M5)
    await candle_store.upsert_frame(aggregate(frame, Timeframe.M5, Timeframe.H1), "BTCUSDT", Timeframe.H1)


@pytest.fixture
async def market(tmp_path: Path) -> AsyncIterator[MarketInfoFacade]:
    database = Database(sqlite_url(tmp_path / "bot.db"))
    database.upgrade()
    facade = MarketInfoFacade()
    facade.p = SimpleNamespace(  # type: ignore[assignment]
        symbols=("BTCUSDT",), engine=MultiTimeframeEngine(Timeframe.M5, [Timeframe.H1]),
        candle_store=SqlCandleStore(database), base=Timeframe.M5)
    try:
        yield facade
    finally:
        await database.close()


def as_json(snapshot: IndicatorSnapshot) -> str:
    return indicator_view(snapshot).model_dump_json()


async def test_the_picture_at_a_time_does_not_change_when_later_candles_are_stored(market: MarketInfoFacade) -> None:
    at = JAN_1 + 2 * DAY  # the close of a 5m and of a 1h candle
    await store(market.p.candle_store, candles(JAN_1, at))
    before = await market.indicators_at("BTCUSDT", at)
    await store(market.p.candle_store, candles(at, JAN_1 + 4 * DAY))
    after = await market.indicators_at("BTCUSDT", at)
    assert as_json(after) == as_json(before)
    assert after.time == at and set(after.views) == {"5m", "1h"}
    assert after.views["1h"].close == before.views["1h"].close
    later = await market.indicators_at("BTCUSDT", JAN_1 + 3 * DAY)
    assert later.time == JAN_1 + 3 * DAY and as_json(later) != as_json(after)


async def test_a_time_inside_a_candle_is_the_picture_of_the_last_closed_one(market: MarketInfoFacade) -> None:
    await store(market.p.candle_store, candles(JAN_1, JAN_1 + 2 * DAY))
    at = JAN_1 + DAY + 30 * 60_000  # a 5m close, half way through a 1h candle
    inside = await market.indicators_at("BTCUSDT", at + 4 * 60_000)
    assert as_json(inside) == as_json(await market.indicators_at("BTCUSDT", at))
    # the 1h view holds the hour closed at JAN_1 + DAY, not the one still forming at ``at``
    hourly = read_candle_files([DATA]).between(JAN_1 + DAY - HOUR, JAN_1 + DAY)
    assert inside.views["1h"].close == pytest.approx(float(hourly.close[-1]))


async def test_an_unknown_symbol_or_a_time_before_any_candle_is_not_found(market: MarketInfoFacade) -> None:
    await store(market.p.candle_store, candles(JAN_1, JAN_1 + DAY))
    with pytest.raises(NotFound):
        await market.indicators_at("ETHUSDT", JAN_1 + DAY)
    with pytest.raises(NotFound):
        await market.indicators_at("BTCUSDT", JAN_1)


class HistoryFacade(FakeFacade):
    def __init__(self, market: MarketInfoFacade) -> None:
        super().__init__()
        self.market = market

    async def indicators_at(self, symbol: str, at_ms: int) -> IndicatorSnapshot:
        return await self.market.indicators_at(symbol, at_ms)


def test_the_route_serves_the_picture_and_one_timeframe_of_it(tmp_path: Path, tokens: TokenAuthority) -> None:
    async def prepare() -> tuple[Database, MarketInfoFacade]:
        database = Database(sqlite_url(tmp_path / "bot.db"))
        database.upgrade()
        facade = MarketInfoFacade()
        facade.p = SimpleNamespace(  # type: ignore[assignment]
            symbols=("BTCUSDT",), engine=MultiTimeframeEngine(Timeframe.M5, [Timeframe.H1]),
            candle_store=SqlCandleStore(database), base=Timeframe.M5)
        await store(facade.p.candle_store, candles(JAN_1, JAN_1 + DAY))
        return database, facade

    database, market = asyncio.run(prepare())
    try:
        app = create_app(HistoryFacade(market), ApiSettings(ws_heartbeat_s=60), tokens=tokens)
        with TestClient(app, raise_server_exceptions=False) as client:
            whole: dict[str, Any] = client.get(f"/indicators/at?symbol=BTCUSDT&at={JAN_1 + DAY}", headers=READ).json()
            hourly = client.get(f"/indicators/at?symbol=BTCUSDT&at={JAN_1 + DAY}&timeframe=1h", headers=READ).json()
            missing = client.get(f"/indicators/at?symbol=BTCUSDT&at={JAN_1 + DAY}&timeframe=4h", headers=READ)
            unsupported = client.get(f"/indicators/at?symbol=BTCUSDT&at={JAN_1}", headers=READ)
    finally:
        asyncio.run(database.close())
    assert whole["time_ms"] == JAN_1 + DAY and set(whole["views"]) == {"5m", "1h"}
    assert set(hourly["views"]) == {"1h"} and hourly["views"]["1h"] == whole["views"]["1h"]
    assert missing.status_code == 404 and unsupported.status_code == 404


def test_a_facade_without_history_answers_404(client: TestClient) -> None:
    assert client.get(f"/indicators/at?symbol=BTCUSDT&at={JAN_1}", headers=READ).status_code == 404


def test_an_active_killzone_comes_with_the_bounds_of_its_session_in_progress() -> None:
    # 2024-01-02 08:00 UTC is 03:00 in New York: London killzone 02:00-05:00 NY = 07:00-10:00 UTC
    candle_close = JAN_1 + DAY + 8 * HOUR + 5 * 60_000
    snapshot = IndicatorSnapshot("BTCUSDT", candle_close, "5m", {}, ("london_kz", "london"))
    view = indicator_view(snapshot)
    assert view.active_window_bounds["london_kz"] == [JAN_1 + DAY + 7 * HOUR, JAN_1 + DAY + 10 * HOUR]
    assert view.active_window_bounds["london"] == [JAN_1 + DAY + 8 * HOUR, JAN_1 + DAY + 17 * HOUR]
    # the Asia killzone (20:00-00:00 NY) started on the previous New York day
    asia = indicator_view(IndicatorSnapshot("BTCUSDT", JAN_1 + DAY + 3 * HOUR + 5 * 60_000, "5m", {}, ("asia_kz",)))
    assert asia.active_window_bounds == {"asia_kz": [JAN_1 + DAY + HOUR, JAN_1 + DAY + 5 * HOUR]}

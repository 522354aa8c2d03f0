"""The candle service end to end: bus → aggregation → SQLite → bus, checked against batch aggregation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ictbot.adapters.files import read_candle_file
from ictbot.adapters.storage import Database, SqlCandleStore, sqlite_url
from ictbot.bus import EventBus, Topic
from ictbot.candles import CandleService, aggregate
from ictbot.domain.candle import Candle
from ictbot.domain.events import KlineUpdated
from ictbot.domain.timeframe import Timeframe
from tests.conftest import DATA, require_shared

ONE_MINUTE = DATA / "feather" / "filimonov_freqtrade" / "BTC_USDT-1m.feather"


async def test_service_stores_and_publishes_every_timeframe(tmp_path: Path) -> None:
    one = read_candle_file(require_shared(ONE_MINUTE)).slice(0, 1440 + 240 + 3)  # a day, 4 hours, 3 minutes
    db = Database(sqlite_url(tmp_path / "candles.db"))
    db.upgrade()
    store = SqlCandleStore(db)
    bus = EventBus()
    service = CandleService(bus, store)
    published: list[Candle] = []
    bus.subscribe(Topic.CANDLE_STORED, lambda env: published.append(env.payload.candle), name="probe")
    await bus.start()
    await service.start()
    for candle in one.to_candles("BTCUSDT", Timeframe.M1):
        await bus.publish(Topic.KLINE_UPDATED, KlineUpdated(candle))
    await bus.wait_idle(timeout=60)
    await bus.stop()

    expected = {
        Timeframe.M1: len(one),
        Timeframe.M5: 1440 // 5 + 48,
        Timeframe.M15: 96 + 16,
        Timeframe.H1: 24 + 4,
        Timeframe.H4: 6 + 1,
        Timeframe.D1: 1,
    }
    for tf, count in expected.items():
        assert await store.count("BTCUSDT", tf) == count, tf
        assert sum(1 for c in published if c.timeframe is tf) == count, tf
        if tf is not Timeframe.M1:
            stored = await store.load_frame("BTCUSDT", tf)
            batch = aggregate(one, Timeframe.M1, tf)
            for name in ("open_time", "open", "high", "low", "close", "volume"):
                assert np.array_equal(getattr(stored, name), getattr(batch, name)), (tf, name)
    # Contract: the daily candle is published right before the 1m candle that closes the day.
    daily = next(i for i, c in enumerate(published) if c.timeframe is Timeframe.D1)
    assert published[daily + 1].timeframe is Timeframe.M1
    assert published[daily + 1].close_time == published[daily].close_time
    assert service.stats.incomplete == 0 and service.stats.store_failures == 0
    await db.close()

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import Connection

from ictbot.adapters.storage import Database, SqlCandleStore
from ictbot.adapters.storage.candles import series_id, write_candle_rows
from ictbot.domain.candle import Candle
from ictbot.domain.candle_frame import CandleFrame
from ictbot.domain.errors import InputDataError
from ictbot.domain.market import Market
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.market_data import CandleStore

D = Decimal
M5 = Timeframe.M5
T0 = 1_699_999_200_000  # aligned to every timeframe up to 1h


def candle(i: int, *, close: str = "100.10000000", symbol: str = "BTCUSDT", tf: Timeframe = M5) -> Candle:
    return Candle(
        symbol,
        tf,
        T0 + i * tf.ms,
        D("100.00000000"),
        D("101.5"),
        D("99.25"),
        D(close),
        D("12.34500000"),
        quote_volume=D("1234.5678"),
        trades=42 + i,
    )


async def test_upsert_is_idempotent_and_exact(db: Database) -> None:
    store: CandleStore = SqlCandleStore(db)
    batch = [candle(i) for i in range(10)]
    assert await store.upsert(batch) == 10
    assert await store.upsert(batch) == 10
    loaded = await store.load("BTCUSDT", M5)
    assert loaded == batch
    # Same digits, not only equal values (SQLite keeps the text; PostgreSQL NUMERIC keeps the scale).
    assert str(loaded[0].open) == "100.00000000" and str(loaded[0].volume) == "12.34500000"
    assert await SqlCandleStore(db).count("BTCUSDT", M5) == 10


async def test_upsert_replaces_values_of_an_existing_candle(db: Database) -> None:
    store = SqlCandleStore(db)
    await store.upsert([candle(0), candle(1)])
    await store.upsert([candle(1, close="100.5")])
    assert [c.close for c in await store.load("BTCUSDT", M5)] == [D("100.10000000"), D("100.5")]


async def test_duplicate_keys_in_one_batch_keep_the_last(db: Database) -> None:
    store = SqlCandleStore(db)
    assert await store.upsert([candle(0), candle(0, close="100.2")]) == 1
    assert (await store.load("BTCUSDT", M5))[0].close == D("100.2")


async def test_bad_candle_rejects_the_whole_batch(db: Database) -> None:
    store = SqlCandleStore(db)
    bad = replace(candle(5), low=D("102"))  # low above high
    with pytest.raises(InputDataError, match="high < low"):
        await store.upsert([candle(i) for i in range(5)] + [bad])
    with pytest.raises(InputDataError, match="closed"):
        await store.upsert([replace(candle(6), closed=False)])
    assert await store.count("BTCUSDT", M5) == 0


async def test_failed_transaction_leaves_nothing(db: Database) -> None:
    store = SqlCandleStore(db)
    await store.upsert([candle(0)])

    def write_then_fail(conn: Connection) -> None:
        for symbol in ("BTCUSDT", "NEWCOIN"):  # NEWCOIN's series row is created and rolled back too
            sid = series_id(conn, ("binance", "spot", symbol, "5m"))
            # 700 rows: the bulk (COPY) path on PostgreSQL
            write_candle_rows(conn, [(sid, T0 + i * M5.ms, "1", "1", "1", "1", "1", "0", 0) for i in range(1, 701)])
        raise RuntimeError("crash after writing")

    with pytest.raises(RuntimeError, match="crash"):
        await db.write(write_then_fail)
    assert await store.count("BTCUSDT", M5) == 1
    assert await db.read(lambda c: c.exec_driver_sql("SELECT symbol FROM candle_series").scalars().all()) == ["BTCUSDT"]
    assert await store.upsert([candle(1)]) == 1  # the writer carries on
    assert await store.upsert([candle(1, symbol="NEWCOIN")]) == 1


async def test_bulk_batch_of_several_series(db: Database) -> None:
    store = SqlCandleStore(db)
    batch = [candle(i, symbol=symbol) for symbol in ("BTCUSDT", "ETHUSDT") for i in range(700)]
    assert await store.upsert(batch) == 1400
    assert await store.upsert(batch[::-1]) == 1400  # idempotent, any order
    assert await store.count("BTCUSDT", M5) == await store.count("ETHUSDT", M5) == 700
    assert await store.load("ETHUSDT", M5, start_ms=T0 + 699 * M5.ms) == [batch[-1]]


async def test_load_ranges_limits_and_latest(db: Database) -> None:
    store = SqlCandleStore(db)
    await store.upsert([candle(i) for i in range(20)])
    await store.upsert([candle(i, symbol="ETHUSDT") for i in range(3)])
    await store.upsert([candle(i, tf=Timeframe.H1) for i in range(2)])
    times = [c.open_time for c in await store.load("BTCUSDT", M5, T0 + 5 * M5.ms, T0 + 8 * M5.ms)]
    assert times == [T0 + 5 * M5.ms, T0 + 6 * M5.ms, T0 + 7 * M5.ms]  # end exclusive
    assert [c.trades - 42 for c in await store.load("BTCUSDT", M5, start_ms=T0 + 3 * M5.ms, limit=2)] == [3, 4]
    assert [c.trades - 42 for c in await store.load("BTCUSDT", M5, limit=3)] == [17, 18, 19]  # latest 3
    assert await store.latest_open_time("BTCUSDT", M5) == T0 + 19 * M5.ms
    assert await store.first_open_time("BTCUSDT", M5) == T0
    assert await store.latest_open_time("SOLUSDT", M5) is None
    series = await store.series()
    assert [(s.symbol, s.timeframe, s.count) for s in series] == [
        ("BTCUSDT", Timeframe.H1, 2),
        ("BTCUSDT", M5, 20),
        ("ETHUSDT", M5, 3),
    ]
    futures = SqlCandleStore(db, market=Market.USDM)
    assert await futures.load("BTCUSDT", M5) == []


async def test_frame_round_trip(db: Database) -> None:
    store = SqlCandleStore(db)
    n = 500
    t = T0 + np.arange(n, dtype=np.int64) * M5.ms
    base = 42_000.0 + np.cumsum(np.sin(np.arange(n))) * 10
    frame = CandleFrame(t, base, base + 12.34, base - 5.01, base + 1.1, np.full(n, 0.12345678), ("x",))
    assert await store.upsert_frame(frame, "BTCUSDT", M5) == n
    back = await store.load_frame("BTCUSDT", M5)
    for name in ("open_time", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(back, name), getattr(frame, name)), name
    candles = await store.load("BTCUSDT", M5, limit=1)
    assert candles[0].close == D(repr(float(frame.close[-1])))
    empty = await store.load_frame("ETHUSDT", M5)
    assert len(empty) == 0

"""One writer plus concurrent readers on a SQLite file: nobody sees "database is locked"."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

from ictbot.adapters.storage import Database, SqlCandleStore, SqlKeyValueStore, sqlite_url
from ictbot.domain.candle import Candle
from ictbot.domain.timeframe import Timeframe

BATCHES = 60
PER_BATCH = 200


def _batch(k: int) -> list[Candle]:
    one = Decimal(1)
    return [
        Candle("BTCUSDT", Timeframe.M1, (k * PER_BATCH + i) * 60_000, one, Decimal(2), one, one, Decimal(k))
        for i in range(PER_BATCH)
    ]


async def test_writers_and_readers_run_together(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "busy.db")
    db = Database(url)
    db.upgrade()
    store = SqlCandleStore(db)
    kv = SqlKeyValueStore(db)
    other_process_like = Database(url)  # a second engine (its own pool), as another component would have
    other_store = SqlCandleStore(other_process_like)
    done = asyncio.Event()
    seen_counts: dict[int, list[int]] = {}
    raw_errors: list[BaseException] = []

    async def write_all() -> None:
        # Many callers at once: all funnel through the one writer.
        for start in range(0, BATCHES, 10):
            await asyncio.gather(
                *(store.upsert(_batch(k)) for k in range(start, start + 10)),
                *(kv.set(f"cursor:{k}", str(k)) for k in range(start, start + 10)),
            )
        done.set()

    async def read_until_done(reader: SqlCandleStore) -> None:
        seen = seen_counts.setdefault(len(seen_counts), [])
        for _ in range(10_000):  # bounded
            count = await reader.count("BTCUSDT", Timeframe.M1)
            assert count % PER_BATCH == 0  # a batch is visible entirely or not at all
            seen.append(count)
            await reader.load("BTCUSDT", Timeframe.M1, limit=50)
            if done.is_set():
                return

    def raw_reader() -> None:
        # A plain sqlite3 connection in another thread, like an external tool reading the file.
        try:
            conn = sqlite3.connect(tmp_path / "busy.db", timeout=0.05)
            for _ in range(500):
                conn.execute("SELECT COUNT(*) FROM candles").fetchone()
                if done.is_set():
                    break
            conn.close()
        except BaseException as exc:  # pragma: no cover - the failure we test against
            raw_errors.append(exc)

    thread = threading.Thread(target=raw_reader)
    thread.start()
    try:
        await asyncio.gather(write_all(), read_until_done(store), read_until_done(store), read_until_done(other_store))
    finally:
        thread.join(timeout=30)
        await other_process_like.close()
    assert raw_errors == []
    assert await store.count("BTCUSDT", Timeframe.M1) == BATCHES * PER_BATCH
    assert await kv.get(f"cursor:{BATCHES - 1}") == str(BATCHES - 1)
    for seen in seen_counts.values():  # each reader sees the table only grow
        assert seen == sorted(seen) and len(seen) > 1
    assert db.writer.stats.failed == 0 and db.writer.stats.jobs >= 2 * BATCHES  # + series-id lookups
    await db.close()


async def test_writes_keep_submission_order(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "order.db"))
    db.upgrade()
    kv = SqlKeyValueStore(db)
    await asyncio.gather(*(kv.set("k", str(i)) for i in range(200)))
    assert await kv.get("k") == "199"
    await db.close()


def test_sync_writes_share_the_writer_thread(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "sync.db"))
    db.upgrade()
    names = db.write_sync(lambda _conn: threading.current_thread().name)
    assert names.startswith("ictbot-db-writer")
    db.close_sync()


async def test_in_memory_database_works(tmp_path: Path) -> None:
    db = Database("sqlite://")
    db.upgrade()
    kv = SqlKeyValueStore(db)
    await kv.set("a", "1")
    assert await kv.get("a") == "1"
    await db.close()


def test_writer_follows_a_new_event_loop(tmp_path: Path) -> None:
    # CLI code calls asyncio.run() several times on one Database; each loop gets its own outcomes.
    db = Database(sqlite_url(tmp_path / "loops.db"))
    db.upgrade()
    kv = SqlKeyValueStore(db)
    asyncio.run(kv.set("a", "1"))
    asyncio.run(kv.set("a", "2"))
    assert asyncio.run(kv.get("a")) == "2"
    db.close_sync()

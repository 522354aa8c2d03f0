"""Storage benchmark: bulk candle upserts, candles/s. Run: ``.venv/bin/python bench/storage.py``.

SQLite (WAL, file in a temp dir) and PostgreSQL (127.0.0.1:5432, private schema, skipped when
absent). For each backend, in the same run:

* ``SqlCandleStore.upsert`` — the project path: validation of every Candle, the single writer task,
  one transaction per batch; first insert, then the same candles again (update path).
* baseline: the driver alone (sqlite3 / psycopg ``executemany`` of the same INSERT … ON CONFLICT
  rows, already converted to tuples, one transaction per batch) — the ceiling without our layers.
* naive SQLAlchemy Core ``conn.execute(insert().on_conflict_do_update(), list_of_dicts)`` — what
  a straightforward implementation would do.

Prints candles/s and ratios against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import sqlalchemy as sa  # noqa: E402

from ictbot.adapters.storage import Database, SqlCandleStore, sqlite_url  # noqa: E402
from ictbot.adapters.storage import tables as t  # noqa: E402
from ictbot.adapters.storage.candles import _PG_UPSERT, _SQLITE_REPLACE, _series_rows, series_id  # noqa: E402
from ictbot.adapters.storage.upsert import upsert  # noqa: E402
from ictbot.domain.candle import Candle  # noqa: E402
from ictbot.domain.timeframe import Timeframe  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000


def make_candles(n: int, symbol: str = "BTCUSDT") -> list[Candle]:
    out = []
    for i in range(n):
        p = Decimal(30_000 + (i % 1000)) + Decimal(i % 100) / 100
        out.append(Candle(symbol, Timeframe.M1, T0 + i * 60_000, p, p + 10, p - 10, p + 1,
                          Decimal("1.12345678"), quote_volume=Decimal("33703.70340000"), trades=i % 500))
    return out


def batches(candles: list[Candle], size: int) -> list[list[Candle]]:
    return [candles[i : i + size] for i in range(0, len(candles), size)]


async def run_store(db: Database, candles: list[Candle], size: int) -> tuple[float, float, float]:
    store = SqlCandleStore(db)
    start = time.perf_counter()
    for batch in batches(candles, size):
        await store.upsert(batch)
    insert = time.perf_counter() - start
    start = time.perf_counter()
    for batch in batches(candles, size):
        await store.upsert(batch)
    update = time.perf_counter() - start
    # Two batches in flight: converting the next batch overlaps the driver writing the previous one
    # (sqlite3 / psycopg release the GIL while the database works).
    in_flight = asyncio.Semaphore(2)

    async def one(batch: list[Candle]) -> None:
        async with in_flight:
            await store.upsert(batch)

    start = time.perf_counter()
    await asyncio.gather(*(one(batch) for batch in batches(candles, size)))
    pipelined = time.perf_counter() - start
    assert await store.count(candles[0].symbol, Timeframe.M1) == len(candles)
    return insert, update, pipelined


KEY = ("binance", "spot", "BTCUSDT", "1m")


def run_naive_core(db: Database, candles: list[Candle], size: int) -> float:
    with db.engine.begin() as conn:
        sid = series_id(conn, KEY)
    start = time.perf_counter()
    for batch in batches(candles, size):
        rows = [
            {"series_id": sid, "open_time": c.open_time, "open": c.open, "high": c.high, "low": c.low,
             "close": c.close, "volume": c.volume, "quote_volume": c.quote_volume, "trades": c.trades}
            for c in batch
        ]
        with db.engine.begin() as conn:
            conn.execute(upsert(conn, t.candles, ["series_id", "open_time"]), rows)
    return time.perf_counter() - start


def driver_rows(candles: list[Candle], sid: int) -> list[tuple[object, ...]]:
    # Conversion is not timed for the baseline: it measures the driver + database alone.
    return list(_series_rows(candles, {KEY: sid})[sid].values())


def run_sqlite_raw(db: Database, path: Path, candles: list[Candle], size: int) -> float:
    with db.engine.begin() as c:
        sid = series_id(c, KEY)
    rows = driver_rows(candles, sid)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    start = time.perf_counter()
    for i in range(0, len(rows), size):
        with conn:
            conn.executemany(_SQLITE_REPLACE, rows[i : i + size])
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run_pg_raw(db: Database, url: str, candles: list[Candle], size: int) -> float:
    import psycopg

    with db.engine.begin() as c:
        sid = series_id(c, KEY)
    rows = driver_rows(candles, sid)
    upd = ", ".join(f"{col} = excluded.{col}" for col in ("open", "high", "low", "close", "volume",
                                                          "quote_volume", "trades"))
    sql = ("INSERT INTO candles (series_id, open_time, open, high, low, close, volume, quote_volume, trades) "
           f"VALUES (%s, %s, %s::numeric, %s::numeric, %s::numeric, %s::numeric, %s::numeric, %s::numeric, %s) "
           f"ON CONFLICT (series_id, open_time) DO UPDATE SET {upd}")
    assert _PG_UPSERT  # the project's statement is the unnest variant of this
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        for i in range(0, len(rows), size):
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(sql, rows[i : i + size])
        return time.perf_counter() - start


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} candles/s ({seconds:.2f} s)"


def report(name: str, n: int, ours: tuple[float, float, float], baseline: float, naive: float) -> None:
    insert, update, pipelined = ours
    print(f"\n== {name}: {n:,} candles, batches of {ARGS.batch:,}")
    print(f"  driver executemany (baseline)   {rate(n, baseline)}")
    print(f"  SqlCandleStore.upsert  insert   {rate(n, insert)}   x{baseline / insert:.2f} of baseline speed")
    print(f"  SqlCandleStore.upsert  update   {rate(n, update)}   x{baseline / update:.2f} of baseline speed")
    print(f"  upsert, 2 batches in flight     {rate(n, pipelined)}   x{baseline / pipelined:.2f} of baseline speed")
    print(f"  naive SQLAlchemy Core upsert    {rate(n, naive)}   x{baseline / naive:.2f} of baseline speed")
    print(f"  ours vs naive Core: x{naive / insert:.1f} faster")


async def bench_sqlite(candles: list[Candle]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw_path = Path(tmp) / "raw.db"
        raw_db = Database(sqlite_url(raw_path))
        raw_db.upgrade()
        baseline = run_sqlite_raw(raw_db, raw_path, candles, ARGS.batch)
        await raw_db.close()
        db = Database(sqlite_url(Path(tmp) / "ours.db"))
        db.upgrade()
        ours = await run_store(db, candles, ARGS.batch)
        await db.close()
        naive_db = Database(sqlite_url(Path(tmp) / "naive.db"))
        naive_db.upgrade()
        naive = run_naive_core(naive_db, candles, ARGS.batch)
        await naive_db.close()
    report("SQLite (WAL, synchronous=NORMAL)", len(candles), ours, baseline, naive)


async def bench_postgres(candles: list[Candle]) -> None:
    admin = sa.create_engine(PG, poolclass=sa.pool.NullPool)
    try:
        with admin.connect():
            pass
    except Exception as exc:  # any failure means "no server": skip
        print(f"\n== PostgreSQL: skipped ({type(exc).__name__})")
        return
    schemas = [f"bench_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    with admin.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        urls = [f"{PG}?options=-csearch_path%3D{schema}" for schema in schemas]
        dbs = [Database(url) for url in urls]
        for db in dbs:
            db.upgrade()
        raw_url = f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schemas[0]}"
        baseline = run_pg_raw(dbs[0], raw_url, candles, ARGS.batch)
        ours = await run_store(dbs[1], candles, ARGS.batch)
        naive = run_naive_core(dbs[2], candles, ARGS.batch)
        for db in dbs:
            await db.close()
        version = admin.connect().exec_driver_sql("SHOW server_version").scalar()
        report(f"PostgreSQL {version} (127.0.0.1)", len(candles), ours, baseline, naive)
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


async def main() -> None:
    candles = make_candles(ARGS.n)
    print(f"storage bench: {ARGS.n:,} candles, Python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    await bench_sqlite(candles)
    if not ARGS.no_postgres:
        await bench_postgres(candles)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    ARGS = parser.parse_args()
    asyncio.run(main())

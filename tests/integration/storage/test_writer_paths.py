"""The writer's fast paths on a SQLite file: inline writes while the writer is idle, the kept
writer connection, and driver-level upserts. Each must keep the guarantees of the queued path:
committed on return, submission order, rollback on error, no waiting on the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection

from ictbot.adapters.storage import Database, SqlKeyValueStore, SqlOrderJournal, SqlPositionRepository, sqlite_url
from ictbot.adapters.storage import tables as t
from ictbot.adapters.storage.codecs import order_to_row, position_to_row
from ictbot.adapters.storage.upsert import upsert, write_upsert
from tests.unit.storage.samples import sample_order, sample_position


def _file_db(tmp_path: Path, name: str = "w.db") -> Database:
    db = Database(sqlite_url(tmp_path / name))
    db.upgrade()
    return db


def _raw_value(path: Path, key: str) -> str | None:
    """Read with a connection of its own (what another process would see)."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM key_values WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


async def test_an_idle_writer_runs_a_small_write_inline_and_it_is_committed(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    kv = SqlKeyValueStore(db)
    threads: list[str] = []

    def write(c: Connection) -> None:
        threads.append(threading.current_thread().name)
        write_upsert(c, t.key_values, ["key"], {"key": "a", "value": "1", "updated_at": 1})

    await db.write(write, inline=True)
    assert threads == [threading.current_thread().name]  # no hop to the writer thread
    assert db.writer.stats.inline == 1
    assert _raw_value(tmp_path / "w.db", "a") == "1"  # durable for everyone once write() returned

    await kv.set("b", "2")  # repository saves ask for inline
    assert db.writer.stats.inline == 2 and _raw_value(tmp_path / "w.db", "b") == "2"
    await db.write(lambda c: threads.append(threading.current_thread().name))  # not asked: queued
    assert threads[-1].startswith("ictbot-db-writer")
    await db.close()


async def test_a_busy_writer_queues_inline_requests_behind_earlier_jobs(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    kv = SqlKeyValueStore(db)

    def slow_first(c: Connection) -> None:
        time.sleep(0.05)  # still running when the next write is asked for
        write_upsert(c, t.key_values, ["key"], {"key": "k", "value": "first", "updated_at": 1})

    await asyncio.gather(db.write(slow_first), kv.set("k", "second"))
    assert await kv.get("k") == "second"  # submission order kept
    assert db.writer.stats.inline == 0
    await db.close()


async def test_a_write_lock_held_elsewhere_sends_the_inline_job_to_the_thread(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    kv = SqlKeyValueStore(db)
    await kv.set("warm", "up")  # opens the inline connection
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    started = time.perf_counter()
    task = asyncio.create_task(kv.set("k", "v"))
    await asyncio.sleep(0.1)
    assert not task.done()  # waiting on the writer thread (busy timeout), not failed, loop not blocked
    assert db.writer.stats.inline_busy == 1
    other.execute("COMMIT")
    await task
    other.close()
    assert await kv.get("k") == "v" and time.perf_counter() - started >= 0.1
    await kv.set("k", "w")  # the next one is inline again
    assert db.writer.stats.inline == 2 and await kv.get("k") == "w"
    await db.close()


async def test_a_failing_inline_job_is_rolled_back_and_the_next_one_works(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    kv = SqlKeyValueStore(db)

    def write_then_fail(c: Connection) -> None:
        write_upsert(c, t.key_values, ["key"], {"key": "k", "value": "half", "updated_at": 1})
        raise RuntimeError("crash after writing")

    with pytest.raises(RuntimeError, match="crash"):
        await db.write(write_then_fail, inline=True)
    assert await kv.get("k") is None and db.writer.stats.failed == 1
    await kv.set("k", "whole")
    assert await kv.get("k") == "whole"
    await db.close()


async def test_the_kept_writer_connection_rolls_back_a_failed_job(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    kv = SqlKeyValueStore(db)

    def write_then_fail(c: Connection) -> None:
        write_upsert(c, t.key_values, ["key"], {"key": "k", "value": "half", "updated_at": 1})
        raise RuntimeError("crash after writing")

    for _ in range(2):  # the second failure runs on the fresh connection that replaced the first
        with pytest.raises(RuntimeError, match="crash"):
            await db.write(write_then_fail)
    await db.write(lambda c: write_upsert(c, t.key_values, ["key"], {"key": "j", "value": "1", "updated_at": 1}))
    assert await kv.get("k") is None and await kv.get("j") == "1"
    await db.close()


async def test_databases_without_inline_writes_queue_everything(tmp_path: Path) -> None:
    db = Database("sqlite://")  # one shared connection: inline would use it from two threads
    db.upgrade()
    kv = SqlKeyValueStore(db)
    await kv.set("a", "1")
    assert await kv.get("a") == "1" and db.writer.stats.inline == 0
    await db.close()


def test_sync_writes_never_run_inline(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    name = db.write_sync(lambda _c: threading.current_thread().name)
    assert name.startswith("ictbot-db-writer") and db.writer.stats.inline == 0
    db.close_sync()


async def test_driver_upserts_store_what_core_upserts_store(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    order = sample_order()
    position = sample_position()
    core_order = replace(order, client_order_id=order.client_order_id + "-core")
    core_position = replace(position, id=position.id + "-core")
    journal, positions = SqlOrderJournal(db), SqlPositionRepository(db)
    await journal.save(order)
    await positions.save(position)

    def core(c: Connection) -> None:
        c.execute(upsert(c, t.orders, ["client_order_id"]), order_to_row(core_order))
        c.execute(upsert(c, t.positions, ["id"]), position_to_row(core_position))

    await db.write(core)

    def stored(c: Connection) -> list[tuple[object, ...]]:
        orders = c.exec_driver_sql("SELECT * FROM orders ORDER BY client_order_id").all()
        held = c.exec_driver_sql("SELECT * FROM positions ORDER BY id").all()
        return [tuple(row) for row in (*orders, *held)]

    rows = await db.read(stored)
    # Same values with the same SQLite storage types (text decimals, integer booleans), key aside.
    assert rows[0][1:] == rows[1][1:] and rows[2][1:] == rows[3][1:]
    assert await journal.get(order.client_order_id) == order and await positions.get(position.id) == position
    await db.close()


async def test_driver_upsert_refuses_a_row_missing_a_column(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    with pytest.raises(KeyError, match="updated_at"):
        await db.write(lambda c: write_upsert(c, t.key_values, ["key"], {"key": "k", "value": "v"}))
    assert await db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(t.key_values)).scalar()) == 0
    await db.close()


async def test_driver_upserts_bind_exact_decimals(tmp_path: Path) -> None:
    db = _file_db(tmp_path)
    journal = SqlOrderJournal(db)
    order = replace(sample_order(), quantity=Decimal("0.10000000"))
    await journal.save(order)
    stored = await db.read(lambda c: c.exec_driver_sql("SELECT quantity, typeof(quantity) FROM orders").one())
    assert tuple(stored) == ("0.10000000", "text")  # the digits as given, not a binary float
    await db.close()

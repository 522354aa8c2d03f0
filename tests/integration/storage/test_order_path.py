"""The storage side of the entry path: order + key-values in one transaction, the id index source,
cached statements, and SQLite checkpoints off the write path."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from ictbot.adapters.storage import Database, SqlKeyValueStore, SqlOrderJournal, sqlite_url
from ictbot.adapters.storage import tables as t
from ictbot.adapters.storage.checkpoint import FALLBACK_AUTOCHECKPOINT_PAGES
from ictbot.adapters.storage.upsert import insert_ignore, upsert
from tests.unit.storage.samples import sample_order


async def test_order_and_values_are_written_in_one_transaction(db: Database) -> None:
    journal, kv = SqlOrderJournal(db), SqlKeyValueStore(db)
    order = sample_order()
    jobs = db.writer.stats.jobs
    await journal.save_with_values(order, {"execution.plan.p1": '{"stop":"1"}', "other": "x"}, kv)
    assert db.writer.stats.jobs == jobs + 1  # one writer job: one commit
    assert await journal.get(order.client_order_id) == order
    assert await kv.get("execution.plan.p1") == '{"stop":"1"}' and await kv.get("other") == "x"

    # Replacing both works the same way (upserts).
    updated = replace(order, reason="again")
    await journal.save_with_values(updated, {"other": "y"}, kv)
    assert await journal.get(order.client_order_id) == updated and await kv.get("other") == "y"


async def test_a_failing_order_row_leaves_the_values_unwritten(db: Database) -> None:
    journal, kv = SqlOrderJournal(db), SqlKeyValueStore(db)
    broken = replace(sample_order(), quantity=Decimal("NaN"))  # refused when bound, after the values
    with pytest.raises(Exception, match="non-finite"):
        await journal.save_with_values(broken, {"execution.plan.p1": "plan"}, kv)
    assert await kv.get("execution.plan.p1") is None
    assert await journal.get(broken.client_order_id) is None


async def test_values_for_another_store_are_set_first_then_the_order(db: Database, tmp_path: Path) -> None:
    other_db = Database(sqlite_url(tmp_path / "other.db"))
    other_db.upgrade()
    try:
        journal, foreign = SqlOrderJournal(db), SqlKeyValueStore(other_db)
        order = sample_order()
        await journal.save_with_values(order, {"k": "v"}, foreign)
        assert await foreign.get("k") == "v"
        assert await SqlKeyValueStore(db).get("k") is None
        assert await journal.get(order.client_order_id) == order
    finally:
        await other_db.close()


async def test_client_ids_lists_every_saved_order(db: Database) -> None:
    journal = SqlOrderJournal(db)
    assert await journal.client_ids() == set()
    first = sample_order()
    second = replace(first, client_order_id="ict-other-E0")
    await journal.save(first)
    await journal.save(second)
    await journal.save(first)
    assert await journal.client_ids() == {first.client_order_id, "ict-other-E0"}


def test_upsert_statements_are_built_once_per_dialect_table_and_keys(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "s.db"))
    try:
        with db.engine.connect() as c:
            assert upsert(c, t.orders, ["client_order_id"]) is upsert(c, t.orders, ("client_order_id",))
            assert upsert(c, t.orders, ["client_order_id"]) is not upsert(c, t.key_values, ["key"])
            keys = ["symbol", "trade_id"]
            assert insert_ignore(c, t.fills, keys) is insert_ignore(c, t.fills, tuple(keys))
    finally:
        db.close_sync()


async def test_sqlite_checkpoints_run_on_their_own_thread(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "c.db"))
    db.upgrade()
    try:
        assert db.checkpointer is not None
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == FALLBACK_AUTOCHECKPOINT_PAGES
        journal = SqlOrderJournal(db)
        for n in range(20):
            await journal.save(replace(sample_order(), client_order_id=f"ict-c-E{n}"))
        db.checkpointer.checkpoint()
        with db.engine.connect() as c:
            busy, wal_frames, copied = c.execute(sa.text("PRAGMA wal_checkpoint(PASSIVE)")).one()
        assert busy == 0 and wal_frames > 0 and copied == wal_frames  # everything is in the main file
        assert db.checkpointer.runs >= 1 and db.checkpointer.failures == 0
    finally:
        await db.close()
    assert db.checkpointer._thread is None  # stopped with the database

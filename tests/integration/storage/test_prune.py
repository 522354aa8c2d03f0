"""Retention: old closed trades and candles go; open positions, their orders and live orders stay."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from ictbot.adapters.storage import (
    Database,
    SqlCandleStore,
    SqlFillRepository,
    SqlOrderJournal,
    SqlPositionRepository,
    sqlite_url,
)
from ictbot.adapters.storage.prune import prune_history
from ictbot.cli.main import app
from ictbot.domain.candle import Candle
from ictbot.domain.order import OrderCanceled, OrderStatus
from ictbot.domain.timeframe import Timeframe
from tests.unit.storage.samples import sample_fill, sample_order, sample_position

CUTOFF = 1_749_999_900_000  # on the 5m grid
OLD, NEW = 1_700_000_000_000, 1_800_000_000_000


def candle(open_time: int) -> Candle:
    one = Decimal(1)
    return Candle("BTCUSDT", Timeframe.M5, open_time, one, one, one, one, one)


async def seed(db: Database) -> None:
    journal, fills, positions = SqlOrderJournal(db), SqlFillRepository(db), SqlPositionRepository(db)
    closed_old = sample_order().apply(OrderCanceled(time=OLD + 1_000, reason="done"))  # position pos-7
    await journal.save(closed_old)
    await fills.save(sample_fill(closed_old.client_order_id, "t-1", "0.001", "0", "BTC", OLD + 300))
    await positions.save(replace(sample_position(), qty=Decimal(0), closed_at=OLD + 2_000))
    # An open position's old, finished order and its fill: reconciliation still reads them.
    open_leg = replace(closed_old, client_order_id="ict-open-S1", position_id="pos-open")
    await journal.save(open_leg)
    await fills.save(sample_fill("ict-open-S1", "t-9", "0.001", "0", "BTC", OLD + 300))
    await positions.save(replace(sample_position(), id="pos-open"))
    # A live (non-terminal) order of any age stays, as does a recently closed position.
    await journal.save(replace(sample_order(), client_order_id="ict-live-S1", position_id="pos-gone"))
    await positions.save(replace(sample_position(), id="pos-new", qty=Decimal(0), closed_at=NEW))
    await SqlCandleStore(db).upsert([candle(CUTOFF - Timeframe.M5.ms), candle(CUTOFF)])


async def test_prune_deletes_only_old_finished_history(db: Database) -> None:
    await seed(db)
    counted = await db.write(lambda c: prune_history(c, CUTOFF, dry_run=True))
    expected = {"fills": 1, "orders": 1, "positions": 1, "candles": 1}
    assert counted.deleted == expected
    assert await SqlCandleStore(db).count("BTCUSDT", Timeframe.M5) == 2  # a dry run deletes nothing

    pruned = await db.write(lambda c: prune_history(c, CUTOFF))
    assert pruned.deleted == expected and pruned.total == 4
    journal, positions = SqlOrderJournal(db), SqlPositionRepository(db)
    assert await journal.get(sample_order().client_order_id) is None
    kept = await journal.get("ict-open-S1")
    assert kept is not None and kept.status is OrderStatus.CANCELED
    assert await journal.get("ict-live-S1") is not None
    assert [f.trade_id for f in await SqlFillRepository(db).for_order("ict-open-S1")] == ["t-9"]
    assert await SqlFillRepository(db).for_order(sample_order().client_order_id) == []
    assert {p.id for p in await positions.closed_positions()} == {"pos-new"}
    assert [p.id for p in await positions.open_positions()] == ["pos-open"]
    assert await SqlCandleStore(db).first_open_time("BTCUSDT", Timeframe.M5) == CUTOFF

    again = await db.write(lambda c: prune_history(c, CUTOFF))
    assert again.total == 0


def test_cli_prune_reports_counts_and_rejects_a_bad_date(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "prune.db")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    bad = runner.invoke(app, ["db", "prune", "--before", "last tuesday", "--database-url", url])
    assert bad.exit_code != 0 and "--before" in bad.output
    refused = runner.invoke(app, ["db", "prune", "--before", "2026-01-01", "--database-url", url], input="n\n")
    assert refused.exit_code != 0
    dry = runner.invoke(app, ["db", "prune", "--before", "2026-01-01", "--dry-run", "--database-url", url])
    assert dry.exit_code == 0 and "would delete 0 fills, 0 orders, 0 positions, 0 candles" in dry.output
    done = runner.invoke(app, ["db", "prune", "--before", "2026-01-01", "--yes", "--vacuum", "--database-url", url])
    assert done.exit_code == 0 and "deleted 0 fills" in done.output


async def test_automatic_policy_prunes_relative_to_the_clock(db: Database) -> None:
    from ictbot.app.retention import DAY_MS, prune_once
    from ictbot.ports.clock import ManualClock

    await seed(db)
    clock = ManualClock(CUTOFF + 30 * DAY_MS)
    earlier = await prune_once(db, clock, days=31)  # cut-off a day before CUTOFF: the old trades only
    assert earlier.deleted == {"fills": 1, "orders": 1, "positions": 1, "candles": 0}
    result = await prune_once(db, clock, days=30)
    assert result.deleted == {"fills": 0, "orders": 0, "positions": 0, "candles": 1}

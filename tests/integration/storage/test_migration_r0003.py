"""r0003 drops the unused ``config_versions`` table and nothing else (issue #20)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ictbot.adapters.storage import (
    Database,
    SqlCandleStore,
    SqlFillRepository,
    SqlKeyValueStore,
    SqlOrderJournal,
    SqlPositionRepository,
    downgrade_database,
    upgrade_database,
)
from tests.integration.storage.databases import open_database
from tests.integration.storage.test_candle_store import candle
from tests.unit.storage.samples import sample_fill, sample_order, sample_position

KEPT_TABLES = ("candle_series", "candles", "orders", "fills", "positions", "key_values", "exchange_info")


async def _fill_every_r0002_table(db: Database) -> None:
    """A row (or several) in each table r0002 has, written the way the bot writes them."""
    order = sample_order()
    await SqlOrderJournal(db).save(order)
    await SqlFillRepository(db).save(sample_fill(order.client_order_id, "t-9", "0.5", "0.01", "USDT", 7))
    await SqlPositionRepository(db).save(sample_position())
    await SqlKeyValueStore(db).set("breaker", '{"state":"closed"}')
    await SqlCandleStore(db).upsert([candle(0), candle(1), candle(0, symbol="ETHUSDT")])
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO exchange_info (market, symbol, rules, read_at, source) VALUES "
                    "('usdm', 'BTCUSDT', '{}', 1, 'https://fapi.example')")
        )
        conn.execute(
            sa.text("INSERT INTO config_versions (version, section, document, created_at, author, reason) "
                    "VALUES (1, 'risk', '{\"max_risk\": \"0.01\"}', 2, 'cli', 'init')")
        )


def _contents(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every kept table's rows, in a stable order, as the database returns them."""
    reflected = sa.MetaData()
    reflected.reflect(db.engine, only=KEPT_TABLES)
    with db.engine.connect() as conn:
        return {
            name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
            for name, table in reflected.tables.items()
        }


def _table_names(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_r0003_drops_config_versions_and_keeps_every_other_row(kind: str, tmp_path: Path) -> None:
    async with open_database(kind, tmp_path, migrate=False) as db:
        upgrade_database(engine=db.engine, revision="0002")
        await _fill_every_r0002_table(db)
        before = _contents(db)
        assert all(before[name] for name in KEPT_TABLES), before  # rows everywhere, or the test proves nothing

        upgrade_database(engine=db.engine)
        assert db.current_revision() == "0003"
        assert "config_versions" not in _table_names(db)
        assert _contents(db) == before

        downgrade_database(engine=db.engine, revision="0002")  # the downgrade recreates it, empty
        assert "config_versions" in _table_names(db)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM config_versions")).scalar() == 0
        assert _contents(db) == before

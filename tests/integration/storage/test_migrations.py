from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ictbot.adapters.storage import (
    Database,
    current_revision,
    downgrade_database,
    head_revision,
    sqlite_url,
    upgrade_database,
)
from ictbot.adapters.storage.tables import metadata
from tests.integration.storage.databases import open_database

TABLES = {"candle_series", "candles", "orders", "fills", "positions", "key_values", "exchange_info"}


def _tables(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_upgrade_downgrade_upgrade(kind: str, tmp_path: Path) -> None:
    async with open_database(kind, tmp_path, migrate=False) as db:
        assert db.current_revision() is None
        db.upgrade()
        assert db.current_revision() == head_revision() and db.is_current()
        assert _tables(db) == TABLES
        db.upgrade()  # idempotent
        downgrade_database(engine=db.engine, revision="base")
        assert db.current_revision() is None
        assert _tables(db) == set()
        upgrade_database(engine=db.engine)
        assert _tables(db) == TABLES


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_migrations_match_the_table_definitions(kind: str, tmp_path: Path) -> None:
    async with open_database(kind, tmp_path) as db:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_by_url_creates_the_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "nested" / "bot.db")
    db = Database(url)
    try:
        db.upgrade()
        assert current_revision(url) == head_revision()
        upgrade_database(url)  # by URL, a second time: nothing to do
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        db.close_sync()

"""Persistence: SQLAlchemy 2 Core tables, Alembic migrations, repositories and the candle store.

SQLite (WAL) by default at ``DATABASE_PATH`` (``data/ictbot.db``); PostgreSQL (psycopg 3) when
``DATABASE_URL`` is set. All writes of a process go through one writer (see ``writer.py``).

Typical wiring::

    db = Database(database_url_from_env())
    db.upgrade()                       # run migrations (idempotent)
    journal = SqlOrderJournal(db)      # ports.OrderJournal
    candles = SqlCandleStore(db)       # ports.CandleStore
    ...
    await db.close()
"""

from ictbot.adapters.storage.candles import SeriesInfo, SqlCandleStore
from ictbot.adapters.storage.database import Database, create_db_engine
from ictbot.adapters.storage.migrate import (
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from ictbot.adapters.storage.repositories import (
    SqlFillRepository,
    SqlKeyValueStore,
    SqlOrderJournal,
    SqlPositionRepository,
)
from ictbot.adapters.storage.url import database_url_from_env, normalize_url, sqlite_url

__all__ = [
    "Database",
    "SeriesInfo",
    "SqlCandleStore",
    "SqlFillRepository",
    "SqlKeyValueStore",
    "SqlOrderJournal",
    "SqlPositionRepository",
    "create_db_engine",
    "current_revision",
    "database_url_from_env",
    "downgrade_database",
    "head_revision",
    "normalize_url",
    "sqlite_url",
    "upgrade_database",
]

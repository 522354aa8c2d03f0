"""Throw-away databases for integration tests: a SQLite file under tmp_path or a PostgreSQL schema.

Each PostgreSQL database is a fresh schema (``search_path`` set in the URL) dropped afterwards,
so parallel test runs never see each other's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa

from ictbot.adapters.storage import Database, sqlite_url
from tests.conftest import require_service

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_schema_url(schema: str) -> str:
    return f"{PG_SERVER}?options=-csearch_path%3D{schema}"


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """Yield the URL of an empty, private schema; drop it on exit."""
    require_service("postgres")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_SERVER, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@asynccontextmanager
async def open_database(kind: str, tmp_path: Path, *, migrate: bool = True) -> AsyncIterator[Database]:
    if kind == "sqlite":
        db = Database(sqlite_url(tmp_path / "test.db"))
        try:
            if migrate:
                db.upgrade()
            yield db
        finally:
            await db.close()
        return
    async with postgres_schema() as url:
        db = Database(url)
        try:
            if migrate:
                db.upgrade()
            yield db
        finally:
            await db.close()

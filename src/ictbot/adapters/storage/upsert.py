"""Dialect-specific INSERT … ON CONFLICT statements (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def _insert(connection: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {connection.dialect.name!r}")


def upsert(connection: Connection, table: sa.Table, keys: Sequence[str]) -> sa.Insert:
    """INSERT that replaces every non-key column when a row with the same ``keys`` exists."""
    stmt = _insert(connection, table)
    updates = {col.name: stmt.excluded[col.name] for col in table.columns if col.name not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)


def insert_ignore(connection: Connection, table: sa.Table, keys: Sequence[str]) -> sa.Insert:
    """INSERT that silently skips a row whose ``keys`` are already stored."""
    return _insert(connection, table).on_conflict_do_nothing(index_elements=list(keys))

"""SQL implementations of ``ictbot.ports.repositories``.

Every ``save``/``set`` goes through the database's single writer and is committed when it returns.
Single-row saves (orders, positions, key-values) ask to run inline: on a SQLite file they then
skip the writer thread's hops while it is idle (``writer.py``).
Statements on the order path are built once (module level or cached per dialect): building them
per call cost more than running them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ictbot.adapters.storage import tables as t
from ictbot.adapters.storage.codecs import (
    fill_from_row,
    fill_to_row,
    order_from_row,
    order_to_row,
    position_from_row,
    position_to_row,
)
from ictbot.adapters.storage.database import Database
from ictbot.adapters.storage.upsert import insert_ignore, write_upsert
from ictbot.domain.order import Fill, Order, OrderStatus
from ictbot.domain.position import Position
from ictbot.ports.repositories import KeyValueStore

_OPEN_STATUSES = [status.value for status in OrderStatus if status.is_open]
_ORDER_BY_ID = sa.select(t.orders).where(t.orders.c.client_order_id == sa.bindparam("cid"))
_ORDER_IDS = sa.select(t.orders.c.client_order_id)
_VALUE_BY_KEY = sa.select(t.key_values.c.value).where(t.key_values.c.key == sa.bindparam("key"))


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqlOrderJournal:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, order: Order) -> None:
        row = order_to_row(order)
        await self._db.write(lambda c: write_upsert(c, t.orders, ["client_order_id"], row), inline=True)

    async def save_with_values(self, order: Order, values: Mapping[str, str], store: KeyValueStore) -> None:
        """Order and key-values in ONE transaction (one writer hop, one commit) when ``store`` is a
        ``SqlKeyValueStore`` of the same database; otherwise the values first, then the order."""
        if not (isinstance(store, SqlKeyValueStore) and store.database is self._db):
            for key, value in values.items():
                await store.set(key, value)
            await self.save(order)
            return
        order_row = order_to_row(order)
        now = _now_ms()
        value_rows = [{"key": key, "value": value, "updated_at": now} for key, value in values.items()]

        def write(c: Connection) -> None:
            write_upsert(c, t.key_values, ["key"], value_rows)
            write_upsert(c, t.orders, ["client_order_id"], order_row)

        await self._db.write(write, inline=True)

    async def get(self, client_order_id: str) -> Order | None:
        rows = await self._db.read(lambda c: c.execute(_ORDER_BY_ID, {"cid": client_order_id}).mappings().all())
        return order_from_row(rows[0]) if rows else None

    async def client_ids(self) -> set[str]:
        rows = await self._db.read(lambda c: c.execute(_ORDER_IDS).scalars().all())
        return {str(cid) for cid in rows}

    async def open_orders(self) -> list[Order]:
        stmt = (
            sa.select(t.orders)
            .where(t.orders.c.status.in_(_OPEN_STATUSES))
            .order_by(t.orders.c.created_at, t.orders.c.client_order_id)
        )
        return await self._orders(stmt)

    async def by_signal(self, signal_id: str) -> list[Order]:
        stmt = (
            sa.select(t.orders)
            .where(t.orders.c.signal_id == signal_id)
            .order_by(t.orders.c.created_at, t.orders.c.client_order_id)
        )
        return await self._orders(stmt)

    async def query(
        self, *, symbol: str | None = None, status: OrderStatus | None = None, strategy_id: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[Order]:
        """Newest first."""
        stmt = sa.select(t.orders)
        if symbol is not None:
            stmt = stmt.where(t.orders.c.symbol == symbol)
        if status is not None:
            stmt = stmt.where(t.orders.c.status == status.value)
        if strategy_id is not None:
            stmt = stmt.where(t.orders.c.strategy_id == strategy_id)
        stmt = stmt.order_by(t.orders.c.created_at.desc(), t.orders.c.client_order_id.desc())
        return await self._orders(stmt.limit(limit).offset(offset))

    async def _orders(self, stmt: sa.Select[Any]) -> list[Order]:
        rows = await self._db.read(lambda c: c.execute(stmt).mappings().all())
        return [order_from_row(row) for row in rows]


class SqlFillRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, fill: Fill) -> bool:
        row = fill_to_row(fill)

        def insert(c: Connection) -> bool:
            # RETURNING, not rowcount: drivers disagree on rowcount for INSERT .. ON CONFLICT DO NOTHING.
            stmt = insert_ignore(c, t.fills, ["symbol", "trade_id"]).returning(t.fills.c.id)
            return c.execute(stmt, row).first() is not None

        return await self._db.write(insert)

    async def for_order(self, client_order_id: str) -> list[Fill]:
        stmt = (
            sa.select(t.fills)
            .where(t.fills.c.client_order_id == client_order_id)
            .order_by(t.fills.c.time, t.fills.c.id)
        )
        rows = await self._db.read(lambda c: c.execute(stmt).mappings().all())
        return [fill_from_row(row) for row in rows]

    async def recent(self, symbol: str | None = None, limit: int = 100) -> list[Fill]:
        """Newest first."""
        stmt = sa.select(t.fills)
        if symbol is not None:
            stmt = stmt.where(t.fills.c.symbol == symbol)
        stmt = stmt.order_by(t.fills.c.time.desc(), t.fills.c.id.desc()).limit(limit)
        rows = await self._db.read(lambda c: c.execute(stmt).mappings().all())
        return [fill_from_row(row) for row in rows]

    async def last_trade_time(self, symbol: str) -> int | None:
        """Time of the newest stored fill of ``symbol`` (where crash recovery resumes trade replay)."""
        stmt = sa.select(sa.func.max(t.fills.c.time)).where(t.fills.c.symbol == symbol)
        value = await self._db.read(lambda c: c.execute(stmt).scalar())
        return None if value is None else int(value)


class SqlPositionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, position: Position) -> None:
        row = position_to_row(position)
        await self._db.write(lambda c: write_upsert(c, t.positions, ["id"], row), inline=True)

    async def get(self, position_id: str) -> Position | None:
        stmt = sa.select(t.positions).where(t.positions.c.id == position_id)
        found = await self._positions(stmt)
        return found[0] if found else None

    async def open_positions(self) -> list[Position]:
        stmt = (
            sa.select(t.positions)
            .where(t.positions.c.is_open.is_(True))
            .order_by(t.positions.c.opened_at, t.positions.c.id)
        )
        return await self._positions(stmt)

    async def closed_positions(self, limit: int = 100, offset: int = 0) -> list[Position]:
        """Newest close first."""
        stmt = (
            sa.select(t.positions)
            .where(t.positions.c.is_open.is_(False), t.positions.c.closed_at.is_not(None))
            .order_by(t.positions.c.closed_at.desc(), t.positions.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return await self._positions(stmt)

    async def _positions(self, stmt: sa.Select[Any]) -> list[Position]:
        rows = await self._db.read(lambda c: c.execute(stmt).mappings().all())
        return [position_from_row(row) for row in rows]


class SqlKeyValueStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def database(self) -> Database:
        return self._db

    async def get(self, key: str) -> str | None:
        value = await self._db.read(lambda c: c.execute(_VALUE_BY_KEY, {"key": key}).scalar())
        return None if value is None else str(value)

    async def set(self, key: str, value: str) -> None:
        row = {"key": key, "value": value, "updated_at": _now_ms()}
        await self._db.write(lambda c: write_upsert(c, t.key_values, ["key"], row), inline=True)

    async def delete(self, key: str) -> None:
        stmt = sa.delete(t.key_values).where(t.key_values.c.key == key)
        await self._db.write(lambda c: c.execute(stmt))

    async def items(self, prefix: str = "") -> dict[str, str]:
        """All keys starting with ``prefix`` (e.g. ``"download:"``)."""
        stmt = sa.select(t.key_values.c.key, t.key_values.c.value).order_by(t.key_values.c.key)
        if prefix:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(t.key_values.c.key.like(escaped + "%", escape="\\"))
        rows = await self._db.read(lambda c: c.execute(stmt).all())
        return {str(key): str(value) for key, value in rows}

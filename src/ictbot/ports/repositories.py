"""Persistence interfaces used by execution, positions, risk and the config manager.

Implementations live in ``ictbot.adapters.storage`` (SQLAlchemy: SQLite by default, PostgreSQL by
URL). Every ``save`` is durable when it returns (committed), so "journal before send" holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ictbot.domain.order import Fill, Order, OrderStatus
from ictbot.domain.position import Position


class OrderJournal(Protocol):
    async def save(self, order: Order) -> None:
        """Insert or replace the order keyed by ``client_order_id``; durable on return."""

    async def save_with_values(self, order: Order, values: Mapping[str, str], store: KeyValueStore) -> None:
        """``store.set`` every item, then ``save(order)``; all durable on return.

        Implementations that keep ``store``'s values in their own database write everything in one
        transaction (the entry path: order + protection plan, one commit).
        """

    async def get(self, client_order_id: str) -> Order | None: ...

    async def client_ids(self) -> set[str]:
        """Every client order id saved so far (any status): the executor's duplicate/attempt index."""

    async def open_orders(self) -> list[Order]:
        """Orders whose status is not terminal (includes PENDING_SUBMIT and SUBMITTED_UNKNOWN)."""

    async def by_signal(self, signal_id: str) -> list[Order]: ...

    async def query(
        self, *, symbol: str | None = None, status: OrderStatus | None = None, strategy_id: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[Order]: ...


class FillRepository(Protocol):
    async def save(self, fill: Fill) -> bool:
        """Store the fill; False (and nothing written) when its trade id is already stored."""

    async def for_order(self, client_order_id: str) -> list[Fill]: ...

    async def recent(self, symbol: str | None = None, limit: int = 100) -> list[Fill]: ...


class PositionRepository(Protocol):
    async def save(self, position: Position) -> None: ...

    async def get(self, position_id: str) -> Position | None: ...

    async def open_positions(self) -> list[Position]: ...

    async def closed_positions(self, limit: int = 100, offset: int = 0) -> list[Position]: ...


class KeyValueStore(Protocol):
    """Small durable facts: circuit-breaker state, indicator checkpoints, download cursors."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...

    async def delete(self, key: str) -> None: ...

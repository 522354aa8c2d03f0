"""In-memory implementations of the repository ports (unit-test fakes)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from ictbot.domain.order import Fill, Order, OrderStatus
from ictbot.domain.position import Position
from ictbot.ports.repositories import KeyValueStore


class MemoryJournal:
    """Yields to the event loop on every call, like a real database would (exposes races)."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.saves: list[Order] = []
        self.gets = 0

    async def save(self, order: Order) -> None:
        await asyncio.sleep(0)
        self.orders[order.client_order_id] = order
        self.saves.append(order)

    async def save_with_values(self, order: Order, values: Mapping[str, str], store: KeyValueStore) -> None:
        for key, value in values.items():
            await store.set(key, value)
        await self.save(order)

    async def get(self, client_order_id: str) -> Order | None:
        await asyncio.sleep(0)
        self.gets += 1
        return self.orders.get(client_order_id)

    async def client_ids(self) -> set[str]:
        await asyncio.sleep(0)
        return set(self.orders)

    async def open_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status.is_open]

    async def by_signal(self, signal_id: str) -> list[Order]:
        return [o for o in self.orders.values() if o.signal_id == signal_id]

    async def query(
        self, *, symbol: str | None = None, status: OrderStatus | None = None, strategy_id: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[Order]:
        found = [
            o for o in self.orders.values()
            if (symbol is None or o.symbol == symbol) and (status is None or o.status is status)
            and (strategy_id is None or o.strategy_id == strategy_id)
        ]
        return found[offset: offset + limit]


class MemoryFills:
    def __init__(self) -> None:
        self.fills: dict[str, Fill] = {}

    async def save(self, fill: Fill) -> bool:
        if fill.trade_id in self.fills:
            return False
        self.fills[fill.trade_id] = fill
        return True

    async def for_order(self, client_order_id: str) -> list[Fill]:
        return [f for f in self.fills.values() if f.client_order_id == client_order_id]

    async def recent(self, symbol: str | None = None, limit: int = 100) -> list[Fill]:
        found = [f for f in self.fills.values() if symbol is None or f.symbol == symbol]
        return sorted(found, key=lambda f: f.time, reverse=True)[:limit]


class MemoryPositions:
    def __init__(self) -> None:
        self.positions: dict[str, Position] = {}

    async def save(self, position: Position) -> None:
        self.positions[position.id] = position

    async def get(self, position_id: str) -> Position | None:
        return self.positions.get(position_id)

    async def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.is_open]

    async def closed_positions(self, limit: int = 100, offset: int = 0) -> list[Position]:
        return [p for p in self.positions.values() if not p.is_open][offset: offset + limit]


class MemoryKV:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)

"""The order journal as the executor sees it: the journal plus the set of every id it holds.

Duplicate checks (a re-delivered signal, a protective attempt number already used) ask "was this
client id ever journaled?". Answering from the database costs a thread hop per question on the
entry path; answering from memory is exact because the set is read from the journal once at
start and every later save goes through this class first (the executor is the only writer of
orders in a process: one bot process per database). Ids are recorded *before* their save, so a
failed save leaves the set a superset of the journal: a question may then reach the database,
never be answered "unknown" for a journaled id.

Until ``load()`` ran, every question goes to the journal.
"""

from __future__ import annotations

from collections.abc import Mapping

from ictbot.domain.order import Order
from ictbot.ports.repositories import KeyValueStore, OrderJournal


class JournalIndex:
    def __init__(self, journal: OrderJournal) -> None:
        self._journal = journal
        self._ids: set[str] | None = None

    @property
    def loaded(self) -> bool:
        return self._ids is not None

    async def load(self) -> None:
        self._ids = await self._journal.client_ids()

    async def holds(self, client_id: str) -> bool:
        if self._ids is not None:
            return client_id in self._ids
        return await self._journal.get(client_id) is not None

    async def get(self, client_id: str) -> Order | None:
        if self._ids is not None and client_id not in self._ids:
            return None  # never journaled: no database round trip
        return await self._journal.get(client_id)

    async def save(self, order: Order) -> None:
        self._note(order)
        await self._journal.save(order)

    async def save_with_values(self, order: Order, values: Mapping[str, str], store: KeyValueStore | None) -> None:
        """``order`` and ``values`` durable together (one transaction where the storage can)."""
        self._note(order)
        if store is None or not values:
            await self._journal.save(order)
        else:
            await self._journal.save_with_values(order, values, store)

    async def open_orders(self) -> list[Order]:
        return await self._journal.open_orders()

    def _note(self, order: Order) -> None:
        if self._ids is not None:
            self._ids.add(order.client_order_id)
